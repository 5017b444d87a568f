/*
 * The whole `wait(timeout | options)` contract, once, for every primitive.
 */
import { isAborted, reasonOf, watch } from './abort.js';
import { readOptions, readTimeout } from './arguments.js';
import { currentClock } from './clock.js';
import { FALSE, type Resolve, TRUE, Waiter, type WaiterQueue, capture, lastReject, lastResolve } from './queue.js';

/** Makes the waiter `park` queues, for owners whose waiters do more than resolve. */
export type MakeWaiter = (
  queue: WaiterQueue,
  resolve: Resolve,
  reject: ((reason: unknown) => void) | undefined,
  signal: AbortSignal | undefined,
) => Waiter;

const newWaiter: MakeWaiter = (queue, resolve, reject, signal) => new Waiter(queue, resolve, reject, signal);

/**
 * Waits on `queue`: reads `arg` once (rejecting, never throwing, on a bad one), honours an already
 * aborted signal, then asks the owner `tryNow()` whether the wait is over at once (an owner that must
 * take something on success, like a lock, takes it there; one that throws rejects the wait), answers
 * `false` at once for a timeout of 0 or less, and otherwise queues a waiter with its deadline and signal,
 * then calls `queued()` (a condition releases its lock there, a shared event starts listening).
 * `tryNow` runs after every getter of the options, so what it sees is the state the wait starts from;
 * whether this call queued a waiter is known only here (a getter may add or remove other waiters).
 */
export function park(
  queue: WaiterQueue,
  arg: unknown,
  tryNow: () => boolean,
  make: MakeWaiter = newWaiter,
  queued?: () => void,
): Promise<boolean> {
  let timeout: number;
  let signal: AbortSignal | undefined;
  try {
    if (typeof arg === 'number') timeout = readTimeout(arg, 'timeout');
    else if (arg === undefined) timeout = Infinity;
    else ({ timeout, signal } = readOptions(arg));
    if (signal && isAborted(signal)) return Promise.reject(reasonOf(signal));
    if (tryNow()) return TRUE;
  } catch (error) {
    return Promise.reject(error);
  }
  if (timeout <= 0) return FALSE;
  const promise = new Promise<boolean>(capture);
  const resolve = lastResolve;
  const reject = lastReject;
  try {
    enqueue(queue, make(queue, resolve, signal && reject, signal), timeout, signal);
    queued?.();
  } catch (error) {
    reject(error);
  }
  return promise;
}

/** Queues `w` with its deadline (`timeout` ms from now, on the clock in force) and its signal. */
export function enqueue(queue: WaiterQueue, w: Waiter, timeout: number, signal: AbortSignal | undefined): void {
  if (signal) watch(signal, w);
  queue.add(w);
  if (timeout !== Infinity) queue.deadlinesOn(currentClock()).add(w, timeout);
}
