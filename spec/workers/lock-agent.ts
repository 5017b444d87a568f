/**
 * A worker that does what the main thread asks with one SharedLock and two SharedConditions over one
 * buffer (the layout of `layout` below), answering each request `{ id, op, ... }` with `{ id, result }`
 * or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedCondition, SharedLock } from '../../lib/index.js';
import { COUNTER, RING_AT, RING_COUNT, RING_HEAD, RING_SIZE, consumeWith, layout } from './lock-layout.js';

export type Request =
  | { id: number; op: 'count'; n: number; tasks: number; sync: boolean }
  | { id: number; op: 'acquire'; timeout?: number; abortAfter?: number }
  | { id: number; op: 'acquireSync'; timeout?: number }
  | { id: number; op: 'release' | 'locked' }
  | { id: number; op: 'wait'; timeout?: number; abortAfter?: number }
  | { id: number; op: 'waitSync'; timeout?: number }
  | { id: number; op: 'notify'; n: number }
  | { id: number; op: 'hammer'; until: number }
  | { id: number; op: 'churn' }
  | { id: number; op: 'consume' | 'produce'; from?: number; items?: number; sync?: boolean };

const { buffer } = workerData as { buffer: SharedArrayBuffer };
const lock = new SharedLock(buffer, layout.lock);
const notFull = new SharedCondition(lock, buffer, layout.notFull);
const notEmpty = new SharedCondition(lock, buffer, layout.notEmpty);
const data = new Int32Array(buffer, layout.data);

/** Increments the plain counter n times under the lock, in several tasks, mixing every way to take it. */
async function count(n: number, tasks: number, sync: boolean): Promise<number> {
  let timedOut = 0;
  const task = async (k: number) => {
    for (let i = k; i < n; i += tasks) {
      const how = i % 5;
      if (how === 3) {
        await lock.runExclusive(() => {
          data[COUNTER] = data[COUNTER]! + 1;
        });
        continue;
      }
      let taken = true;
      if (how === 0 && sync) taken = lock.acquireSync(2);
      else if (how === 1) taken = await lock.acquire(1);
      else if (how === 2) {
        const ac = new AbortController();
        const p = lock.acquire({ signal: ac.signal });
        if (i % 7 === 0) ac.abort();
        taken = await p.catch(() => false);
      } else await lock.acquire();
      if (!taken) {
        // Timed out or aborted: it holds nothing; take the lock the plain way for this increment.
        timedOut++;
        await lock.acquire();
      }
      const v = data[COUNTER]!;
      if (i % 3 === 0) await null; // hold across a task switch
      data[COUNTER] = v + 1;
      lock.release();
    }
  };
  await Promise.all(Array.from({ length: tasks }, (_, k) => task(k)));
  return timedOut;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'count':
      return count(req.n, req.tasks, req.sync);
    case 'acquire': {
      if (req.abortAfter === undefined) return lock.acquire({ timeout: req.timeout });
      const ac = new AbortController();
      const p = lock.acquire({ timeout: req.timeout, signal: ac.signal });
      setTimeout(() => ac.abort(new Error('aborted in worker')), req.abortAfter);
      return p.catch((e: Error) => `rejected: ${e.message}`);
    }
    case 'acquireSync':
      return lock.acquireSync(req.timeout);
    case 'release':
      return lock.release();
    case 'locked':
      return lock.locked();
    case 'wait': {
      await lock.acquire();
      try {
        if (req.abortAfter === undefined) return await notEmpty.wait({ timeout: req.timeout });
        const ac = new AbortController();
        const p = notEmpty.wait({ timeout: req.timeout, signal: ac.signal });
        setTimeout(() => ac.abort(new Error('aborted in worker')), req.abortAfter);
        return await p.catch((e: Error) => `rejected: ${e.message}`);
      } finally {
        lock.release();
      }
    }
    case 'waitSync': {
      lock.acquireSync();
      try {
        return notEmpty.waitSync(req.timeout);
      } finally {
        lock.release();
      }
    }
    case 'notify': {
      await lock.acquire();
      notEmpty.notify(req.n);
      lock.release();
      return;
    }
    case 'hammer': {
      // Takes and releases the lock as fast as it can until data[COUNTER] reaches `until`, counting
      // every acquisition in data[COUNTER].
      while (Atomics.load(data, COUNTER) < req.until) {
        await lock.acquire();
        data[COUNTER] = data[COUNTER]! + 1;
        lock.release();
      }
      return;
    }
    case 'churn': {
      // Until terminated, in 3 tasks: takes the lock every way, waits on notEmpty (1 ms) and notifies it.
      // Answers once running, so that the caller can terminate it at a moment of its choosing.
      const task = async (k: number) => {
        for (let i = k; ; i++) {
          if (i % 4 === 0) {
            if (lock.acquireSync(1)) {
              notEmpty.notify(1);
              lock.release();
            }
            await null;
          } else if (await lock.acquire(2)) {
            if (i % 4 === 1) await notEmpty.wait(1);
            else notEmpty.notify(2);
            lock.release();
          }
        }
      };
      for (let k = 0; k < 3; k++) void task(k);
      return;
    }
    case 'produce': {
      for (let item = req.from!; item < req.from! + req.items!; item++) {
        await lock.acquire();
        await notFull.waitFor(() => data[RING_COUNT]! < RING_SIZE);
        data[RING_AT + ((data[RING_HEAD]! + data[RING_COUNT]!) % RING_SIZE)] = item;
        data[RING_COUNT] = data[RING_COUNT]! + 1;
        notEmpty.notify();
        lock.release();
      }
      return;
    }
    case 'consume':
      return consume(req.items!, req.sync === true);
  }
}

const consume = (total: number, sync: boolean) => consumeWith(total, sync, lock, notFull, notEmpty, data);

parentPort!.on('message', (req: Request) => {
  handle(req).then(
    (result) => parentPort!.postMessage({ id: req.id, result }),
    (error: Error) => parentPort!.postMessage({ id: req.id, error: `${error.name}: ${error.message}` }),
  );
});
parentPort!.postMessage({ ready: true });
