import { type WaitOptions, checkFunction, describe, readCount, readWaitArg } from './core/arguments.js';
import { isAborted, reasonOf } from './core/abort.js';
import { inspectable } from './core/inspect.js';
import { keepIdle } from './core/shape.js';
import { type MakeWaiter, enqueue, park } from './core/park.js';
import {
  QUEUED,
  type Resolve,
  TRUE,
  Waiter,
  WaiterQueue,
  leave,
  releaseOne,
  stopTimer,
  stopWatching,
} from './core/queue.js';
import { type Guard, guarded } from './guard.js';
import { Lock, enterLock, isLock } from './lock.js';

/**
 * A condition variable: a {@link Lock} plus a queue of tasks waiting to be notified. The answer to
 * producer/consumer hand-offs, where an `Event` loses signals: the state a waiter checks and the
 * notification that it changed are both guarded by the lock, so nothing can happen between a waiter's
 * check and its wait. Like Python's `asyncio.Condition`.
 *
 * @example
 * ```ts
 * import { Condition } from 'awaitable-event';
 *
 * const items: string[] = [];
 * const cond = new Condition();
 *
 * async function consume(): Promise<string> {
 *   await cond.acquire();
 *   try {
 *     await cond.waitFor(() => items.length > 0);
 *     return items.shift()!;
 *   } finally {
 *     cond.release();
 *   }
 * }
 *
 * async function produce(item: string): Promise<void> {
 *   await cond.acquire();
 *   try {
 *     items.push(item);
 *     cond.notify();
 *   } finally {
 *     cond.release();
 *   }
 * }
 * ```
 */
export class Condition {
  readonly #lock: Lock;
  readonly #waiters = new WaiterQueue();
  readonly #makeWaiter: MakeWaiter = (queue, resolve, reject, signal) =>
    new ConditionWaiter(this.#lock, this.#passOn, queue, resolve, reject, signal);
  readonly #passOn = () => this.#wake(1);
  static #prepared = false;
  readonly #releaseLock = () => this.#lock.release();
  readonly #mustHold = () => {
    if (!this.#lock.locked()) throw notHeld('wait');
    return false;
  };

  /**
   * @param lock - the lock to use; several conditions may share one. Omitted, a new {@link Lock}.
   * @throws `TypeError` when `lock` is not a `Lock` (of either build, ESM or CommonJS).
   *
   * @example
   * ```ts
   * const lock = new Lock();
   * const notEmpty = new Condition(lock);
   * const notFull = new Condition(lock);
   * ```
   */
  constructor(lock?: Lock) {
    if (lock !== undefined && !isLock(lock)) {
      throw new TypeError(`lock must be a Lock, got ${describe(lock)}`);
    }
    this.#lock = lock ?? new Lock();
    if (!Condition.#prepared) {
      // Set up by the first condition made, not in the class body (see core/inspect.ts and core/shape.ts).
      Condition.#prepared = true;
      inspectable(Condition.prototype, 'Condition', (c) => ({ locked: c.locked(), waiters: c.#waiters.size }));
      keepIdle(new Condition());
      keepIdle(new ConditionWaiter(new Lock(), noop, new WaiterQueue(), noop, undefined, undefined));
    }
  }

  /**
   * Whether the condition's lock is held.
   *
   * @example
   * ```ts
   * console.log(cond.locked());
   * ```
   */
  locked(): boolean {
    return this.#lock.locked();
  }

  /**
   * Acquires the condition's lock: see {@link Lock.acquire}.
   *
   * @example
   * ```ts
   * await cond.acquire();
   * ```
   */
  acquire(): Promise<true>;
  /**
   * Acquires the condition's lock, or gives up after `timeout` ms (`false`): see {@link Lock.acquire}.
   *
   * @example
   * ```ts
   * if (!(await cond.acquire(100))) return;
   * ```
   */
  acquire(timeout: number): Promise<boolean>;
  /**
   * Acquires the condition's lock, with a timeout and a signal: see {@link Lock.acquire}.
   *
   * @example
   * ```ts
   * await cond.acquire({ signal });
   * ```
   */
  acquire(options: WaitOptions): Promise<boolean>;
  /**
   * Acquires the condition's lock, with an optional timeout or options: see {@link Lock.acquire}.
   *
   * @example
   * ```ts
   * const take = (timeout?: number) => cond.acquire(timeout);
   * ```
   */
  acquire(arg?: number | WaitOptions): Promise<boolean>;
  acquire(arg?: number | WaitOptions): Promise<boolean> {
    return this.#lock.acquire(arg);
  }

  /**
   * Releases the condition's lock: see {@link Lock.release}.
   *
   * @throws `Error` when the lock is not held.
   *
   * @example
   * ```ts
   * cond.release();
   * ```
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Acquires the condition's lock as a {@link Guard} that releases it once: see {@link Lock.lock}.
   *
   * @throws rejects with {@link TimeoutError} when the timeout passes before the lock is acquired, with
   *   `signal.reason` when the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await cond.lock();
   *   items.push(item);
   *   cond.notify();
   * } // released here
   * ```
   */
  lock(options?: number | WaitOptions): Promise<Guard> {
    const lock = this.#lock;
    return guarded(
      (o) => lock.acquire(o),
      () => lock.release(),
      options,
      'Condition.lock()',
      'the lock',
    );
  }

  /**
   * Releases the lock, waits until notified, then re-acquires the lock and resolves `true`. The lock
   * must be held.
   *
   * Cancel safety: whatever ends the wait, the lock is held again when the promise settles, so a
   * `finally { cond.release() }` stays right. A waiter that was notified and then times out or is
   * aborted while it re-acquires the lock passes its notification on to the next waiter.
   *
   * @example
   * ```ts
   * while (items.length === 0) await cond.wait();
   * ```
   */
  wait(): Promise<true>;
  /**
   * Like `wait()`, giving up after `timeout` milliseconds: resolves `false` then, with the lock held
   * again. `0` or less answers `false` at once, keeping the lock.
   *
   * @example
   * ```ts
   * if (!(await cond.wait(1_000))) console.log('no news for a second');
   * ```
   */
  wait(timeout: number): Promise<boolean>;
  /**
   * Like `wait()`, with a timeout (`false`) and a signal (rejects with `signal.reason`, after the lock
   * is re-acquired).
   *
   * @example
   * ```ts
   * await cond.wait({ timeout: 1_000, signal });
   * ```
   */
  wait(options: WaitOptions): Promise<boolean>;
  /**
   * Like `wait()`, with an optional timeout or options: the form to forward an argument that may be
   * either, or absent.
   *
   * @example
   * ```ts
   * const next = (timeout?: number) => cond.wait(timeout);
   * ```
   */
  wait(arg?: number | WaitOptions): Promise<boolean>;
  wait(arg?: number | WaitOptions): Promise<boolean> {
    return park(this.#waiters, arg, this.#mustHold, this.#makeWaiter, this.#releaseLock);
  }

  /**
   * Waits until `predicate()` is truthy, evaluating it with the lock held: first at once, then after
   * each notification. Resolves with its last value, which is falsy when the timeout ran out. The lock
   * must be held, and is held again when the promise settles.
   *
   * @param predicate - checks the guarded state.
   * @param options - a timeout in ms for the whole wait, or `{ timeout, signal }`.
   * @throws rejects with `TypeError` when `predicate` is not a function, `Error` when the lock is not
   *   held, `signal.reason` when aborted.
   *
   * @example
   * ```ts
   * const item = await cond.waitFor(() => queue.shift(), { timeout: 5_000 });
   * ```
   */
  waitFor<T>(predicate: () => T, options?: number | WaitOptions): Promise<T> {
    let result: T;
    let timeout: number;
    let signal: AbortSignal | undefined;
    try {
      checkFunction(predicate, 'predicate');
      ({ timeout, signal } = readWaitArg(options));
      if (!this.#lock.locked()) throw notHeld('waitFor');
      result = predicate();
      if (!result && signal !== undefined && isAborted(signal)) throw reasonOf(signal);
      if (!result && timeout > 0 && !this.#lock.locked()) throw notHeld('waitFor'); // the predicate let it go
    } catch (error) {
      return Promise.reject(error);
    }
    if (result || timeout <= 0) return Promise.resolve(result);
    return new Promise<T>((resolve, reject) => {
      const w = new ConditionWaiter(
        this.#lock,
        this.#passOn,
        this.#waiters,
        resolve as never,
        reject,
        signal,
        predicate,
      );
      enqueue(this.#waiters, w, timeout, signal);
      this.#lock.release();
    });
  }

  /**
   * Wakes the `n` longest-waiting waiters (FIFO). Does nothing when nobody waits. The lock must be held.
   *
   * @param n - how many to wake, a whole number (default 1; `Infinity` wakes all).
   * @throws `RangeError` for a negative, fractional or NaN `n`, `TypeError` for a non-number, `Error`
   *   when the lock is not held.
   *
   * @example
   * ```ts
   * items.push(item);
   * cond.notify();
   * ```
   */
  notify(n: number = 1): void {
    readCount(n, 'n', 0, true);
    if (!this.#lock.locked()) throw notHeld('notify');
    this.#wake(n);
  }

  /**
   * Wakes every waiter. The lock must be held.
   *
   * @throws `Error` when the lock is not held.
   *
   * @example
   * ```ts
   * closed = true;
   * cond.notifyAll();
   * ```
   */
  notifyAll(): void {
    if (!this.#lock.locked()) throw notHeld('notifyAll');
    this.#wake(Infinity);
  }

  get [Symbol.toStringTag](): string {
    return 'Condition';
  }

  #wake(n: number): void {
    for (let left = n; left > 0 && releaseOne(this.#waiters, true); left--);
  }
}

const noop = () => {};

function notHeld(method: string): Error {
  return new Error(`Condition.${method}() needs the lock held: acquire it first`);
}

/** Bits of a condition waiter's `state`, beside QUEUED and TIMED (kept in one field: a waiter is made per wait). */
const NOTIFIED = 4;
/** Re-acquiring the lock, or holding it again (until it settles or waits again). */
const REACQUIRING = 8;
/** Holding the lock again, its predicate about to be evaluated. */
const HOLDING = 16;
const TIMED_OUT = 32;
const ABORTED = 64;

/**
 * A waiter of a condition: notified (or timed out, or aborted), it re-acquires the lock before it
 * settles. Its timer and signal stay armed until then; one that fires after the notification turns it
 * into a timeout or an abort and passes the notification on.
 *
 * A `waitFor` waiter carries its predicate: holding the lock again, it evaluates it in a job of its own
 * (never inside the call that released the lock), and unless it is satisfied or the time is up, goes
 * back into the queue and releases the lock, keeping its one promise, deadline and signal for the whole
 * wait.
 */
class ConditionWaiter extends Waiter {
  #reason: unknown = undefined;
  readonly #onLock = () => this.#settle();

  constructor(
    private readonly lock: Lock,
    private readonly passOn: () => void,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
    private readonly predicate?: () => unknown,
  ) {
    super(queue, resolve, reject, signal);
  }

  override grant(): void {
    this.state = (this.state & ~QUEUED) | NOTIFIED; // the queue took it out; its deadline and signal stay armed
    this.#reacquire();
  }

  override expire(): void {
    this.state |= TIMED_OUT;
    this.#cancel();
    stopWatching(this);
  }

  override abort(reason: unknown): void {
    this.signal = undefined;
    this.state |= ABORTED;
    this.#reason = reason;
    this.#cancel();
    stopTimer(this);
  }

  #cancel(): void {
    if (this.queued) leave(this);
    else if ((this.state & HOLDING) !== 0)
      return; // it holds the lock and settles on its own
    else if ((this.state & NOTIFIED) !== 0) this.passOn();
    this.#reacquire();
  }

  #reacquire(): void {
    if ((this.state & REACQUIRING) !== 0) return;
    this.state |= REACQUIRING;
    enterLock(this.lock, this.#onLock);
  }

  /** Holding the lock again. */
  #settle(): void {
    if ((this.state & ABORTED) !== 0) this.#finish(false, this.#reason);
    else if (this.predicate === undefined) this.#finish(true, (this.state & TIMED_OUT) === 0);
    else {
      this.state |= HOLDING;
      void TRUE.then(() => this.#evaluate());
    }
  }

  #evaluate(): void {
    let result: unknown;
    try {
      result = this.predicate!();
    } catch (error) {
      return this.#finish(false, error);
    }
    if ((this.state & ABORTED) !== 0) this.#finish(false, this.#reason);
    else if (result || (this.state & TIMED_OUT) !== 0) this.#finish(true, result);
    else {
      this.state = (this.state & ~(NOTIFIED | REACQUIRING | HOLDING)) | QUEUED;
      this.queue.add(this);
      try {
        this.lock.release();
      } catch (error) {
        leave(this); // the predicate let the lock go: this wait cannot go on
        this.#finish(false, error);
      }
    }
  }

  #finish(fulfilled: boolean, value: unknown): void {
    stopTimer(this);
    stopWatching(this);
    if (fulfilled) this.resolve(value as boolean);
    else this.reject!(value);
  }
}
