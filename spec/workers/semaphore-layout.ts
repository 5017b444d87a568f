/** The buffer layout the semaphore agents and their specs share. */
import { SharedSemaphore } from '../../lib/index.js';
import { startWorker } from './agents.js';
import type { Request } from './semaphore-agent.js';

/** Where things are in the buffer: the semaphore, then Int32 data words. */
export const semaphoreLayout = { semaphore: 0, data: SharedSemaphore.BYTES };

/** Data words: entries made, tasks inside now, the most ever inside at once. */
export const ENTRIES = 0;
export const INSIDE = 1;
export const MOST = 2;
/**
 * The fairness test: the seat word of the main thread's waiter and its value while it waits (0: none),
 * the entries seen while it waited, and those of acquires begun after it was in line (overtakes).
 */
export const MAIN_SEAT = 3;
export const MAIN_MINE = 4;
export const AHEAD = 5;
export const OVERTAKES = 6;
export const semaphoreBytes = semaphoreLayout.data + 4 * 8;

/** A task holding a permit comes in: counted, and the most inside at once kept. */
export function enter(data: Int32Array): void {
  const inside = Atomics.add(data, INSIDE, 1) + 1;
  for (let most = Atomics.load(data, MOST); inside > most;) {
    const seen = Atomics.compareExchange(data, MOST, most, inside);
    if (seen === most) break;
    most = seen;
  }
  Atomics.add(data, ENTRIES, 1);
}

/** The task goes out, before it releases its permit. */
export function leave(data: Int32Array): void {
  Atomics.sub(data, INSIDE, 1);
}

type Op = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/** A worker running `semaphore-agent.ts`, driven by requests. */
export type SemaphoreAgent = Awaited<ReturnType<typeof startWorker<Op>>>;

/** Starts a semaphore agent sharing `buffer` (optionally without `Atomics.waitAsync`), once it is ready. */
export function startSemaphoreAgent(
  buffer: SharedArrayBuffer,
  options: { noWaitAsync?: boolean } = {},
): Promise<SemaphoreAgent> {
  return startWorker<Op>('./semaphore-agent.ts', buffer, options);
}
