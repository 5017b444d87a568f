/*
 * SharedCondition: a condition variable over a SharedLock, seen by every thread that maps its words.
 *
 * # The words
 *
 * A ticket queue (tickets.ts: read its protocol first) of SharedCondition.BYTES = 260 bytes; the head
 * word's FLAG and FULL bits are unused. Each waiter holds one ticket.
 *
 * - wait(), with the lock held: take a ticket, register it, then release the lock, then wait on the
 *   slot. The ticket is queued before the lock is released, so a notify that follows the release (it
 *   needs the lock) finds it: no wake-up is lost.
 * - notify(n), with the lock held: pop tickets in order and offer each a notification, until n went to
 *   live waiters or none is left. Dead tickets (abandoned, their thread gone) are skipped and do not
 *   count: exactly min(n, waiting) waiters are notified, across all threads.
 * - A notified waiter claims its slot, then takes the lock back (SharedLock.acquire) and settles.
 * - A ticket popped before its waiter registered is granted at once (the waiter finds its slot
 *   GRANTED and claims it): registration happens under the lock, so only a passed-on notification
 *   (below) can meet it, and it counts as delivered.
 *
 * # Giving up
 *
 * A wait that times out or is aborted abandons its ticket at once, on its own thread, with no lock.
 * If it was notified first (its slot was GRANTED, or it had claimed it and is still taking the lock
 * back), it passes the notification on: it pops and offers the next ticket, as a notify(1) would. A
 * thread terminated while it waits leaves a ticket that notify finds dead and skips. Either way, the
 * settled wait holds the lock again, as Condition's does.
 *
 * At most LIMIT (63) waiters wait on one condition at once, across all threads; one more is an error.
 */
import { type WaitOptions, checkFunction, describe, readCount, readTimeout, readWaitArg } from '../core/arguments.js';
import { currentClock, monotonic } from '../core/clock.js';
import { type Inspect, inspectAs, inspectSymbol } from '../core/inspect.js';
import { type MakeWaiter, park } from '../core/park.js';
import { type Resolve, Waiter, type WaiterQueue } from '../core/queue.js';
import { LocalTickets } from './local-tickets.js';
import { sharedMemory } from './memory.js';
import { SharedLock, isSharedLock } from './shared-lock.js';
import { assertMayBlock } from './word.js';
import { GRANT_EARLY, LIMIT, QUEUE_BYTES, TicketQueue, lengthOf, servingOf } from './tickets.js';

/**
 * A {@link Condition} whose waiters may be on any thread: a {@link SharedLock} plus a queue of waiters
 * in shared memory. The producer/consumer hand-off between workers: the state a waiter checks and the
 * notification that it changed are both guarded by the lock. Post `buffer` and `byteOffset` (and the
 * lock's) to another thread and rebuild it there with `new SharedCondition(lock, buffer, byteOffset)`.
 *
 * `notify(n)` wakes exactly `min(n, waiting)` waiters, the longest-waiting first, across threads; a
 * waiter that timed out, was aborted or whose thread was terminated is not waiting. At most 63 waiters
 * at once per condition.
 *
 * @example
 * ```ts
 * // main thread: a ring buffer `items` in shared memory, guarded by lock
 * const lock = new SharedLock();
 * const notEmpty = new SharedCondition(lock);
 * worker.postMessage({ lock: lock.buffer, notEmpty: notEmpty.buffer, items });
 * await notEmpty.acquire();
 * try {
 *   await notEmpty.waitFor(() => count(items) > 0);
 *   take(items);
 * } finally {
 *   notEmpty.release();
 * }
 *
 * // worker: const notEmpty = new SharedCondition(new SharedLock(data.lock), data.notEmpty);
 * await notEmpty.acquire();
 * put(items, 42);
 * notEmpty.notify();
 * notEmpty.release();
 * ```
 */
export class SharedCondition {
  /**
   * Bytes one condition occupies in a buffer (a multiple of 4).
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(SharedLock.BYTES + 2 * SharedCondition.BYTES);
   * const lock = new SharedLock(buffer, 0);
   * const notFull = new SharedCondition(lock, buffer, SharedLock.BYTES);
   * const notEmpty = new SharedCondition(lock, buffer, SharedLock.BYTES + SharedCondition.BYTES);
   * ```
   */
  static readonly BYTES: number = QUEUE_BYTES;

  /**
   * The shared memory holding the condition's queue: post it (with
   * {@link SharedCondition.byteOffset}, and the lock's) to other threads.
   *
   * @example
   * ```ts
   * worker.postMessage({ buffer: cond.buffer, byteOffset: cond.byteOffset });
   * ```
   */
  readonly buffer: SharedArrayBuffer;

  /**
   * Where in {@link SharedCondition.buffer} the condition's words start.
   *
   * @example
   * ```ts
   * const same = new SharedCondition(lock, cond.buffer, cond.byteOffset);
   * ```
   */
  readonly byteOffset: number;

  readonly #lock: SharedLock;
  readonly #q: TicketQueue;
  readonly #local: LocalTickets<CondWaiter>;
  #made: CondWaiter | undefined;
  readonly #make: MakeWaiter = (queue, resolve, reject, signal) =>
    (this.#made = new CondWaiter(this.#lock, this.#abandon, this.#passOn, queue, resolve, reject, signal));
  readonly #mustHold = () => {
    this.#checkHeld('wait');
    this.#checkRoom('wait');
    return false;
  };
  readonly #abandon = (w: CondWaiter): boolean => {
    const t = w.ticket;
    this.#local.forget(w);
    const notified = this.#q.abandon(t) === 'granted';
    this.#q.dropAbandoned();
    return notified;
  };
  readonly #passOn = () => this.#wake(1);

  /**
   * @param lock - the {@link SharedLock} whose holder may wait and notify; several conditions may share
   *   one.
   * @param buffer - the shared memory for the condition's queue; omitted, a new `SharedArrayBuffer` of
   *   {@link SharedCondition.BYTES} bytes.
   * @param byteOffset - where the condition's words start in `buffer`: a multiple of 4, default 0.
   * @throws `TypeError` when `lock` is not a `SharedLock` (of either build), or for `buffer` and
   *   `byteOffset` as {@link SharedLock}'s constructor.
   *
   * @example
   * ```ts
   * const lock = new SharedLock();
   * const notEmpty = new SharedCondition(lock);
   * const notFull = new SharedCondition(lock);
   * ```
   */
  constructor(lock: SharedLock, buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    if (!isSharedLock(lock)) throw new TypeError(`lock must be a SharedLock, got ${describe(lock)}`);
    const memory = sharedMemory('SharedCondition', 'a condition', SharedCondition.BYTES, buffer, byteOffset);
    this.#lock = lock;
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    this.#q = new TicketQueue(memory.words, memory.index, GRANT_EARLY);
    this.#local = new LocalTickets(this.#q, (w, t) => this.#check(w, t));
  }

  /**
   * Whether the condition's lock is held, on any thread.
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
   * Acquires the condition's lock: see {@link SharedLock.acquire}.
   *
   * @example
   * ```ts
   * await cond.acquire();
   * ```
   */
  acquire(): Promise<true>;
  /**
   * Acquires the condition's lock, or gives up after `timeout` ms (`false`).
   *
   * @example
   * ```ts
   * if (!(await cond.acquire(100))) return;
   * ```
   */
  acquire(timeout: number): Promise<boolean>;
  /**
   * Acquires the condition's lock, with a timeout and a signal.
   *
   * @example
   * ```ts
   * await cond.acquire({ signal });
   * ```
   */
  acquire(options: WaitOptions): Promise<boolean>;
  /**
   * Acquires the condition's lock, with an optional timeout or options.
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
   * Releases the condition's lock: see {@link SharedLock.release}.
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
   * Releases the lock, waits until notified (from any thread), then re-acquires the lock and resolves
   * `true`. The lock must be held.
   *
   * Cancel safety: whatever ends the wait, the lock is held again when the promise settles. A waiter
   * that was notified and then times out or is aborted passes its notification on to the next waiter.
   *
   * @example
   * ```ts
   * while (count(items) === 0) await cond.wait();
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
   * Like `wait()`, with an optional timeout or options.
   *
   * @example
   * ```ts
   * const next = (timeout?: number) => cond.wait(timeout);
   * ```
   */
  wait(arg?: number | WaitOptions): Promise<boolean>;
  wait(arg?: number | WaitOptions): Promise<boolean> {
    this.#made = undefined;
    const result = park(this.#local.waiters, arg, this.#mustHold, this.#make);
    const w = this.#made as CondWaiter | undefined;
    if (w?.queued) {
      this.#local.holdThread();
      this.#register(w);
      this.#lock.release();
    }
    return result;
  }

  /**
   * Releases the lock, blocks the thread until notified or until `timeout` milliseconds pass, then
   * blocks again until it has the lock back. Only where `Atomics.wait` is allowed (not on a browser
   * page's main thread); it blocks every task of the thread.
   *
   * @param timeout - milliseconds; omitted or `Infinity` waits for ever, `0` or less answers `false` at
   *   once, keeping the lock.
   * @returns `true` when notified, `false` when the timeout ran out first; the lock is held either way.
   * @throws `Error` when the lock is not held, or where the thread may not block (use
   *   `await cond.wait()` there); `TypeError` / `RangeError` for a bad timeout.
   *
   * @example
   * ```ts
   * // in a worker, holding the lock
   * while (count(items) === 0) cond.waitSync();
   * ```
   */
  waitSync(timeout?: number): boolean {
    const ms = timeout === undefined ? Infinity : readTimeout(timeout, 'timeout');
    assertMayBlock('SharedCondition.waitSync()', 'await cond.wait()');
    this.#checkHeld('waitSync');
    if (ms <= 0) return false;
    this.#checkRoom('waitSync');
    const q = this.#q;
    const deadline = monotonic() + ms;
    let t = this.#takeTicket(false);
    this.#lock.release();
    let notified = t === -1;
    while (!notified) {
      const left = deadline - monotonic();
      if (left <= 0) {
        notified = q.abandon(t) === 'granted';
        q.dropAbandoned();
        break;
      }
      Atomics.wait(q.words, q.slot(t), q.waitingValue(t, false), left);
      const state = q.state(t);
      if (state === 'granted') notified = q.claim(t);
      if (state === 'done' && !notified) {
        // Skipped before it waited (a notification passed on found nobody on the slot yet): queue again.
        t = lengthOf(q.head()) < LIMIT ? this.#takeTicket(false) : -1;
        notified = t === -1;
      }
    }
    this.#lock.acquireSync();
    return notified;
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
   * const ready = await cond.waitFor(() => count(items) > 0, { timeout: 5_000 });
   * ```
   */
  async waitFor<T>(predicate: () => T, options?: number | WaitOptions): Promise<T> {
    checkFunction(predicate, 'predicate');
    const { timeout, signal } = readWaitArg(options);
    this.#checkHeld('waitFor');
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
   * Wakes the `n` longest-waiting waiters, of any thread (FIFO). Does nothing when nobody waits. The
   * lock must be held.
   *
   * @param n - how many to wake, a whole number (default 1; `Infinity` wakes all).
   * @throws `RangeError` for a negative, fractional or NaN `n`, `TypeError` for a non-number, `Error`
   *   when the lock is not held.
   *
   * @example
   * ```ts
   * put(items, item);
   * cond.notify();
   * ```
   */
  notify(n: number = 1): void {
    readCount(n, 'n', 0, true);
    this.#checkHeld('notify');
    this.#wake(n);
  }

  /**
   * Wakes every waiter, of every thread. The lock must be held.
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
    this.#checkHeld('notifyAll');
    this.#wake(Infinity);
  }

  get [Symbol.toStringTag](): string {
    return 'SharedCondition';
  }

  [inspectSymbol](_depth: number, options: object, inspect: Inspect): string {
    return inspectAs('SharedCondition', { locked: this.locked(), waiters: this.#local.waiters.size }, options, inspect);
  }

  #checkHeld(method: string): void {
    if (!this.#lock.locked()) {
      throw new Error(`SharedCondition.${method}() needs the lock held: acquire it first`);
    }
  }

  #checkRoom(method: string): void {
    this.#q.dropAbandoned();
    if (lengthOf(this.#q.head()) >= LIMIT) {
      throw new Error(
        `SharedCondition.${method}(): ${LIMIT} waiters already wait on this condition, the most it holds`,
      );
    }
  }

  /** Takes and registers a ticket (there is room): the ticket, or -1 when it was notified at once. */
  #takeTicket(polling: boolean): number {
    const q = this.#q;
    for (;;) {
      const head = q.head();
      const t = q.take(head);
      if (t === -1) continue;
      const registered = q.register(t, polling);
      if (registered === 'waiting') return t;
      return -1; // granted before it registered; it claimed the notification
    }
  }

  /** Queues w on a ticket of its own, or notifies it when it is notified at once. */
  #register(w: CondWaiter): void {
    const t = this.#takeTicket(this.#local.polling);
    if (t === -1) w.notified();
    else this.#local.arm(w, t);
  }

  /** Ticket t's slot moved (or was polled) for w. */
  #check(w: CondWaiter, t: number): void {
    const state = this.#q.state(t);
    if (state === 'waiting') {
      if (!this.#local.polling) this.#local.arm(w, t);
      return;
    }
    this.#local.forget(w);
    if (state === 'granted' && this.#q.claim(t)) return w.notified();
    // Skipped before it waited: queue again where there is room, else take it as a wake-up.
    if (lengthOf(this.#q.head()) < LIMIT) this.#register(w);
    else w.notified();
  }

  /** Notifies up to n live waiters, in ticket order. */
  #wake(n: number): void {
    const q = this.#q;
    for (let left = n; left > 0;) {
      const head = q.head();
      if (lengthOf(head) === 0) return;
      const t = servingOf(head);
      if (q.pop(head) === -1) continue;
      const mine = this.#local.mine.get(t);
      if (mine !== undefined) {
        this.#local.forget(mine);
        q.takeBack(t);
        mine.notified();
        left--;
      } else if (q.offer(t)) left--;
    }
  }
}

/**
 * A waiter of a shared condition: notified (or timed out, or aborted), it re-acquires the lock before
 * it settles. Its timer and signal stay armed until then; one that fires after the notification turns
 * it into a timeout or an abort and passes the notification on.
 */
class CondWaiter extends Waiter {
  ticket = -1;
  #notified = false;
  #reacquiring = false;
  #outcome: { value: boolean } | { reason: unknown } = { value: true };

  constructor(
    private readonly lock: SharedLock,
    private readonly abandon: (w: CondWaiter) => boolean,
    private readonly passOn: () => void,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(queue, resolve, reject, signal);
  }

  notified(): void {
    this.leave(); // its deadline and signal stay armed
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
    if (this.queued) {
      this.leave();
      if (this.abandon(this)) this.passOn();
    } else if (this.#notified) this.passOn();
    this.#reacquire();
  }

  #reacquire(): void {
    if (this.#reacquiring) return;
    this.#reacquiring = true;
    void this.lock.acquire().then(() => {
      this.stopTimer();
      this.stopWatching();
      if ('value' in this.#outcome) this.resolve(this.#outcome.value);
      else this.reject!(this.#outcome.reason);
    });
  }
}
