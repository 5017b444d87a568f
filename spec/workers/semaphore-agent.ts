/**
 * A worker that does what the main thread asks with one SharedSemaphore at the start of the buffer
 * (data words after it, see `semaphoreLayout`), answering each request `{ id, op, ... }` with
 * `{ id, result }` or `{ id, error }`.
 */
import { inspect } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { SharedSemaphore } from '../../lib/index.js';
import { AHEAD, ENTRIES, MAIN_MINE, MAIN_SEAT, OVERTAKES, enter, leave, semaphoreLayout } from './semaphore-layout.js';

export type Request =
  | { id: number; op: 'count'; n: number; tasks: number; sync: boolean }
  | { id: number; op: 'acquire'; timeout?: number; abortAfter?: number }
  | { id: number; op: 'acquireSync'; timeout?: number }
  | { id: number; op: 'release'; n?: number }
  | { id: number; op: 'value' }
  | { id: number; op: 'build'; value: number }
  | { id: number; op: 'hammer'; until: number }
  | { id: number; op: 'churn' }
  | { id: number; op: 'adopt'; semaphore: unknown }
  | { id: number; op: 'inspect' };

const { buffer } = workerData as { buffer: SharedArrayBuffer };
let semaphore = new SharedSemaphore(3, buffer, semaphoreLayout.semaphore);
const data = new Int32Array(buffer, semaphoreLayout.data);
const words = new Int32Array(buffer, semaphoreLayout.semaphore, SharedSemaphore.BYTES / 4);

/** Whether the main thread's waiter (published in data, see the fairness test) waits in line now. */
function mainWaits(seat: number, mine: number): boolean {
  return seat !== 0 && Atomics.load(data, MAIN_SEAT) === seat && Atomics.load(words, seat) === mine;
}

/** Enters n times, in several tasks, mixing every way to take a permit; returns how many waits gave up. */
async function count(n: number, tasks: number, sync: boolean): Promise<number> {
  let gaveUp = 0;
  const task = async (k: number) => {
    for (let i = k; i < n; i += tasks) {
      const how = i % 5;
      if (how === 3) {
        await semaphore.runExclusive(async () => {
          enter(data);
          await null;
          leave(data);
        });
        continue;
      }
      let taken = true;
      if (how === 0 && sync) taken = semaphore.acquireSync(2);
      else if (how === 1) taken = await semaphore.acquire(1);
      else if (how === 2) {
        const ac = new AbortController();
        const p = semaphore.acquire({ signal: ac.signal });
        if (i % 7 === 0) ac.abort();
        taken = await p.catch(() => false);
      } else await semaphore.acquire();
      if (!taken) {
        // Timed out or aborted: it holds nothing; take a permit the plain way for this entry.
        gaveUp++;
        await semaphore.acquire();
      }
      enter(data);
      if (i % 3 === 0) await null; // hold across a task switch
      leave(data);
      semaphore.release();
    }
  };
  await Promise.all(Array.from({ length: tasks }, (_, k) => task(k)));
  return gaveUp;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'count':
      return count(req.n, req.tasks, req.sync);
    case 'acquire': {
      if (req.abortAfter === undefined) return semaphore.acquire({ timeout: req.timeout });
      const ac = new AbortController();
      const p = semaphore.acquire({ timeout: req.timeout, signal: ac.signal });
      setTimeout(() => ac.abort(new Error('aborted in worker')), req.abortAfter);
      return p.catch((e: Error) => `rejected: ${e.message}`);
    }
    case 'acquireSync':
      return semaphore.acquireSync(req.timeout);
    case 'release':
      return semaphore.release(req.n);
    case 'value':
      return semaphore.value;
    case 'build':
      semaphore = new SharedSemaphore(req.value, buffer, semaphoreLayout.semaphore);
      return semaphore.value;
    case 'hammer': {
      // Takes and releases a permit as fast as it can until data[ENTRIES] reaches `until`, counting
      // every entry in data[ENTRIES].
      // Entries made while the main thread's waiter is in line count in AHEAD, and those of acquires
      // begun after it got in line in OVERTAKES.
      while (Atomics.load(data, ENTRIES) < req.until) {
        const seat = Atomics.load(data, MAIN_SEAT);
        const mine = Atomics.load(data, MAIN_MINE);
        const after = mainWaits(seat, mine);
        await semaphore.acquire();
        if (mainWaits(seat, mine)) {
          Atomics.add(data, AHEAD, 1);
          if (after) Atomics.add(data, OVERTAKES, 1);
        }
        enter(data);
        leave(data);
        semaphore.release();
      }
      return;
    }
    case 'inspect':
      return inspect(semaphore);
    case 'adopt':
      // A semaphore posted in the message, as it is: rebuilt here with from().
      semaphore = SharedSemaphore.from(req.semaphore);
      return semaphore.value;
    case 'churn': {
      // Waits for a permit for ever, in one task: async with short timeouts and blocked in acquireSync
      // by turns, entering (briefly) whenever it gets one. Ends only with the worker.
      for (let i = 0; ; i++) {
        const taken = i % 2 === 0 ? await semaphore.acquire(1 + (i % 5)) : semaphore.acquireSync(1 + (i % 5));
        if (taken) semaphore.release();
        else await null;
      }
    }
  }
}

parentPort!.on('message', (req: Request) => {
  handle(req).then(
    (result) => parentPort!.postMessage({ id: req.id, result }),
    (error: Error) => parentPort!.postMessage({ id: req.id, error: `${error.name}: ${error.message}` }),
  );
});
parentPort!.postMessage({ ready: true });
