import { type WaitOptions, checkFunction, describe, readCount, readWaitArg } from './core/arguments.js';
import { currentClock } from './core/clock.js';
import { inspectable } from './core/inspect.js';
import { type MakeWaiter, park } from './core/park.js';
import { QUEUED, type Resolve, Waiter, WaiterQueue } from './core/queue.js';
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
  static #inspectable = false;
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
    if (!Condition.#inspectable)
      Condition.#inspectable = inspectable(Condition.prototype, 'Condition', (c) => ({
        locked: c.locked(),
        waiters: c.#waiters.size,
      }));
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
    const before = this.#waiters.size;
    const result = park(this.#waiters, arg, this.#mustHold, this.#makeWaiter);
    if (this.#waiters.size > before) this.#lock.release();
    return result;
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
  async waitFor<T>(predicate: () => T, options?: number | WaitOptions): Promise<T> {
    checkFunction(predicate, 'predicate');
    const { timeout, signal } = readWaitArg(options);
    if (!this.#lock.locked()) throw notHeld('waitFor');
    const clock = currentClock();
    const start = clock.now();
    let result = predicate();
    while (!result) {
      const notified = await this.wait({ timeout: timeout - (clock.now() - start), signal });
      result = predicate();
      if (!notified) break;
    }
    return result;
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
    for (let left = n; left > 0 && this.#waiters.releaseOne(true); left--);
  }
}

function notHeld(method: string): Error {
  return new Error(`Condition.${method}() needs the lock held: acquire it first`);
}

/**
 * A waiter of a condition: notified (or timed out, or aborted), it re-acquires the lock before it
 * settles. Its timer and signal stay armed until then; one that fires after the notification turns it
 * into a timeout or an abort and passes the notification on.
 */
class ConditionWaiter extends Waiter {
  #notified = false;
  #reacquiring = false;
  #outcome: { value: boolean } | { reason: unknown } = { value: true };

  constructor(
    private readonly lock: Lock,
    private readonly passOn: () => void,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(queue, resolve, reject, signal);
  }

  override grant(): void {
    this.state &= ~QUEUED; // the queue took it out; its deadline and signal stay armed
    this.#notified = true;
    this.#reacquire();
  }

  override expire(): void {
    this.#cancel({ value: false });
    this.stopWatching();
  }

  override abort(reason: unknown): void {
    this.signal = undefined;
    this.#cancel({ reason });
    this.stopTimer();
  }

  #cancel(outcome: { value: boolean } | { reason: unknown }): void {
    this.#outcome = outcome;
    if (this.queued) this.leave();
    else if (this.#notified) this.passOn();
    this.#reacquire();
  }

  #reacquire(): void {
    if (this.#reacquiring) return;
    this.#reacquiring = true;
    enterLock(this.lock, () => {
      this.stopTimer();
      this.stopWatching();
      if ('value' in this.#outcome) this.resolve(this.#outcome.value);
      else this.reject!(this.#outcome.reason);
    });
  }
}
