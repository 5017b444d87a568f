/**
 * A worker that does what the main thread asks with the SharedEvents of one buffer, and answers each
 * request `{ id, op, ... }` with `{ id, result }` or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedEvent } from '../../lib/index.js';

export type Request =
  | { id: number; op: 'set' | 'clear' | 'isSet'; event: number }
  | { id: number; op: 'wait'; event: number; timeout?: number; abortAfter?: number }
  | { id: number; op: 'waitSync'; event: number; timeout?: number }
  | { id: number; op: 'race'; rounds: number; armed: number; target: number; done: number }
  | { id: number; op: 'busy'; event: number; timeout: number; started: number; done: number }
  | { id: number; op: 'ring'; me: number; workers: number; rounds: number; counter: number; timeout: number };

const { buffer } = workerData as { buffer: SharedArrayBuffer };
const events = new Map<number, SharedEvent>();
const at = (i: number) => {
  let e = events.get(i);
  if (e === undefined) events.set(i, (e = new SharedEvent(buffer, i * SharedEvent.BYTES)));
  return e;
};

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'set':
      return at(req.event).set();
    case 'clear':
      return at(req.event).clear();
    case 'isSet':
      return at(req.event).isSet();
    case 'wait': {
      if (req.abortAfter === undefined) return at(req.event).wait({ timeout: req.timeout });
      const ac = new AbortController();
      const p = at(req.event).wait({ timeout: req.timeout, signal: ac.signal });
      setTimeout(() => ac.abort(new Error('aborted in worker')), req.abortAfter);
      return p.catch((e: Error) => `rejected: ${e.message}`);
    }
    case 'waitSync':
      return at(req.event).waitSync(req.timeout);
    case 'race': {
      // Each round: wait on `target` (pending), say so through `armed`, and count the round lost if the
      // main thread's set(); clear() pulse does not release the wait.
      const armed = at(req.armed);
      const target = at(req.target);
      const done = at(req.done);
      let lost = 0;
      for (let r = 0; r < req.rounds; r++) {
        const p = target.wait(5_000);
        armed.set();
        if (!(await p)) lost++;
        await done.wait();
        done.clear();
      }
      return lost;
    }
    case 'busy': {
      // A timed wait, then, in a later task, the thread busy (a synchronous loop) until the main thread
      // says it is done and the deadline has passed: the wait's outcome as its thread finds it afterwards.
      const p = at(req.event).wait(req.timeout);
      const deadline = performance.now() + req.timeout;
      await new Promise((resolve) => setImmediate(resolve)); // the wait's deadline counts from here on
      at(req.started).set();
      while (!at(req.done).isSet() || performance.now() < deadline + 20);
      return p;
    }
    case 'ring': {
      // Turn r belongs to worker r % workers; turns alternate between events 0 and 1 of `ring`.
      const counter = new Int32Array(buffer, req.counter * SharedEvent.BYTES, 1);
      for (let r = req.me; r < req.rounds; r += req.workers) {
        const mine = at(r % 2);
        for (let seen = Atomics.load(counter, 0); seen !== r; seen = Atomics.load(counter, 0)) {
          if (mine.isSet()) {
            // Still set from the turn before last, until its owner clears it: sleep until the turn moves
            // rather than spin (a spinning worker starves the one it waits for on a busy machine).
            const moved = Atomics.waitAsync(counter, 0, seen, req.timeout);
            if (moved.async && (await moved.value) === 'timed-out') throw new Error(`worker ${req.me} stuck at ${r}`);
          } else if (!(await mine.wait(req.timeout))) throw new Error(`worker ${req.me} timed out at turn ${r}`);
        }
        mine.clear();
        Atomics.store(counter, 0, r + 1);
        Atomics.notify(counter, 0);
        at((r + 1) % 2).set();
      }
      return req.rounds;
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
