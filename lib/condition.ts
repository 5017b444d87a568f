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
  capture,
  forgetCaptured,
  lastReject,
  lastResolve,
  leave,
  stopTimer,
  stopWatching,
  takeOne,
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
   * @throws `TypeError` when `lock` is not a `Lock` (of any copy of the package).
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
    if (arg !== undefined) return park(this.#waiters, arg, this.#mustHold, this.#makeWaiter, this.#releaseLock);
    // Nothing but a notification ends this wait: its entry is its promise's resolve function, which a
    // notification moves into the lock's queue.
    if (!this.#lock.locked()) return Promise.reject(notHeld('wait'));
    const promise = this.#waiters.wait();
    this.#lock.release();
    return promise;
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
    let timeout = Infinity;
    let signal: AbortSignal | undefined;
    try {
      checkFunction(predicate, 'predicate');
      if (options !== undefined) ({ timeout, signal } = readWaitArg(options));
      if (!this.#lock.locked()) throw notHeld('waitFor');
      result = predicate();
      if (!result && signal !== undefined && isAborted(signal)) throw reasonOf(signal);
      if (!result && timeout > 0 && !this.#lock.locked()) throw notHeld('waitFor'); // the predicate let it go
    } catch (error) {
      return Promise.reject(error);
    }
    if (result || timeout <= 0) return Promise.resolve(result);
    if (timeout === Infinity && signal === undefined) return this.#until(predicate);
    const promise = new Promise<T>(capture as never);
    const w = new ConditionWaiter(this.#lock, this.#passOn, this.#waiters, lastResolve, lastReject, signal, predicate);
    forgetCaptured();
    enqueue(this.#waiters, w, timeout, signal);
    this.#lock.release();
    return promise;
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
    if (n !== 1) readCount(n, 'n', 0, true);
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

  /**
   * `waitFor()` with nothing but notifications to end it: a plain `wait()`, and the promise of its
   * reaction, which evaluates the predicate in a job of its own, the lock held (never inside the
   * `release()` that handed the lock on). No async function is made for a wait that its first
   * notification ends; one that it leaves false goes on in {@link #loop}, whose promise the returned one
   * adopts (once: nothing grows per wake).
   */
  #until<T>(predicate: () => T): Promise<T> {
    const notified = this.#waiters.wait();
    this.#lock.release();
    // A bound method rather than a closure: no context to allocate, no lazy compile on its first call.
    return notified.then(this.#check.bind(this, predicate)) as Promise<T>;
  }

  #check<T>(predicate: () => T): T | Promise<T> {
    return predicate() || this.#loop(predicate);
  }

  /** A plain `wait()` per notification, until the predicate holds, evaluated where the wait resumes. */
  async #loop<T>(predicate: () => T): Promise<T> {
    let result: T;
    do {
      if (!this.#lock.locked()) throw notHeld('waitFor'); // the predicate let it go
      const notified = this.#waiters.wait();
      this.#lock.release();
      await notified;
      result = predicate();
    } while (!result);
    return result;
  }

  #wake(n: number): void {
    for (let left = n; left > 0; left--) {
      const e = takeOne(this.#waiters);
      if (e === undefined) return;
      if (typeof e === 'function') enterLock(this.#lock, e);
      else (e as ConditionWaiter).notified();
    }
  }
}

const noop = () => {};

function notHeld(method: string): Error {
  return new Error(`Condition.${method}() needs the lock held: acquire it first`);
}

/*
 * Bits of a condition waiter's `state`, beside QUEUED and TIMED (kept in one field: a waiter is made per
 * wait). REACQUIRING: out of the condition's queue, in the lock's queue (QUEUED again, there) or holding
 * the lock again, until it settles or waits again.
 */
const REACQUIRING = 4;
/** Holding the lock again, its predicate about to be evaluated. */
const HOLDING = 8;
const TIMED_OUT = 16;
const ABORTED = 32;

/**
 * A waiter of a condition: notified (or timed out, or aborted), it re-acquires the lock before it
 * settles, by joining the lock's queue itself (the lock grants it like any waiter). Its timer and signal
 * stay armed until then; one that fires after the notification turns it into a timeout or an abort and
 * passes the notification on.
 *
 * A `waitFor` waiter carries its predicate: holding the lock again, it evaluates it in a job of its own
 * (never inside the call that released the lock), and unless it is satisfied or the time is up, goes
 * back into the queue and releases the lock, keeping its one promise, deadline and signal for the whole
 * wait.
 */
class ConditionWaiter extends Waiter {
  #reason: unknown = undefined;

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

  /** Taken out of the condition's queue by a notification; its deadline and signal stay armed. */
  notified(): void {
    this.state &= ~QUEUED;
    this.#reacquire();
  }

  /** The lock is its own again: handed on by `release()`, or free when it asked. */
  override grant(): void {
    this.state &= ~QUEUED;
    this.#settle();
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

  /**
   * Timed out or aborted (once: either ends the other). Still in the condition's queue, it leaves it
   * and takes the lock back; out of it, it was notified: unless it already holds the lock, it passes
   * the notification on to the next waiter.
   */
  #cancel(): void {
    if ((this.state & REACQUIRING) === 0) {
      leave(this);
      this.#reacquire();
    } else if ((this.state & HOLDING) === 0) this.passOn();
  }

  #reacquire(): void {
    this.state |= REACQUIRING | QUEUED;
    enterLock(this.lock, this);
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
    else if (!this.lock.locked())
      this.#finish(false, notHeld('waitFor')); // the predicate let it go
    else {
      this.state = (this.state & ~(REACQUIRING | HOLDING)) | QUEUED;
      this.queue.add(this);
      this.lock.release();
    }
  }

  #finish(fulfilled: boolean, value: unknown): void {
    stopTimer(this);
    stopWatching(this);
    if (fulfilled) this.resolve(value as boolean);
    else this.reject!(value);
  }
}
