/**
 * A worker that rebuilds, with `from()`, the primitives it was posted (in workerData, or in a `rebuild`
 * request), then does what the main thread asks with them, answering each request `{ id, op, ... }` with
 * `{ id, result }` or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedCondition, SharedEvent, SharedLock } from '../../lib/index.js';

/** What the main thread posts: any of the three primitives, as they are. */
export interface Posted {
  event?: unknown;
  lock?: unknown;
  condition?: unknown;
}

export type PostingRequest =
  | { id: number; op: 'rebuild'; posted: Posted }
  | { id: number; op: 'set' | 'acquire' | 'release' | 'notify' }
  | { id: number; op: 'waitEvent' | 'waitCondition'; timeout: number }
  | { id: number; op: 'from'; kind: 'SharedEvent' | 'SharedLock' | 'SharedCondition'; value: unknown };

let event: SharedEvent | undefined;
let lock: SharedLock | undefined;
let condition: SharedCondition | undefined;

/** Rebuilds what was posted; says what a test cannot see from the other side. */
function rebuild(posted: Posted) {
  if (posted.lock !== undefined) lock = SharedLock.from(posted.lock);
  if (posted.event !== undefined) event = SharedEvent.from(posted.event);
  if (posted.condition !== undefined) condition = SharedCondition.from(posted.condition);
  return {
    // Rebuilt from one message, the condition's lock is the thread's lock rebuilt from the same message.
    sameLock: condition !== undefined && condition.sharedLock === lock,
    // from() again on what arrived gives the live object, not a second one.
    eventAgain: posted.event !== undefined && SharedEvent.from(posted.event) === event,
    lockAgain: posted.lock !== undefined && SharedLock.from(posted.lock) === lock,
    conditionAgain: posted.condition !== undefined && SharedCondition.from(posted.condition) === condition,
  };
}

async function answer(req: PostingRequest): Promise<unknown> {
  switch (req.op) {
    case 'rebuild':
      return rebuild(req.posted);
    case 'set':
      return event!.set();
    case 'waitEvent':
      return event!.wait(req.timeout);
    case 'acquire':
      return lock!.acquire();
    case 'release':
      return lock!.release();
    case 'notify':
      await condition!.acquire();
      condition!.notify();
      return condition!.release();
    case 'waitCondition': {
      // Waits holding the lock; woken, it holds the lock again: the lock's word says so in every thread.
      await condition!.acquire();
      const woken = await condition!.wait(req.timeout);
      const held = condition!.sharedLock.locked();
      condition!.release();
      return { woken, held };
    }
    case 'from': {
      const from = {
        SharedEvent: SharedEvent.from,
        SharedLock: SharedLock.from,
        SharedCondition: SharedCondition.from,
      };
      try {
        from[req.kind](req.value);
        return 'taken';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    }
  }
}

rebuild(workerData as Posted);
parentPort!.on('message', (req: PostingRequest) => {
  answer(req).then(
    (result) => parentPort!.postMessage({ id: req.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: req.id, error: String((error as Error)?.stack ?? error) }),
  );
});
parentPort!.postMessage('ready');
