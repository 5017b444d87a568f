/*
 * SharedCondition: a condition variable over a SharedLock, seen by every thread that maps its words.
 *
 * # The words (SharedCondition.BYTES = 264)
 *
 *     tickets    the ticket counter (seats.ts)
 *     seat k     two words each, for 32 seats:
 *       state    ticket | FREE, RESERVED, WAITING, POLLING, FLIGHT or DEAD
 *       counts   (registered << 16) | notified: the owner's waiters not notified yet, and the
 *                notifications given to it that it has not taken yet
 *     kind       says the memory holds a SharedCondition (memory.ts)
 *
 * The memory does not say which lock the condition is over: a posted condition carries its lock as
 * its `sharedLock` property (the clone of the lock), which {@link SharedCondition.from} rebuilds.
 *
 * As for SharedLock, the thread (one condition object of it) holds one seat while it has waiters, and
 * its local FIFO queue stands behind it: registered + notified = its local waiters, at all times.
 *
 * # Who writes what
 *
 * - wait(), with the lock held: the owner takes a seat if it has none (FREE or DEAD → RESERVED(t), a
 *   new ticket; the counts zeroed, notifications left there given on), REGISTERS ITS ENGINE WAITER ON
 *   THE COUNTS WORD, then publishes the seat (RESERVED(t) → WAITING(t), a compare-exchange: failing, it
 *   was taken for gone, see below, and sits again); then adds 1 to `registered`, queues the waiter
 *   locally, and releases the lock. A notify needs the lock, so it finds the waiter registered: no
 *   wake-up is lost.
 * - notify(n), with the lock held: walks the seats with registered waiters, oldest ticket first, and
 *   moves k = min(left, registered) of each from `registered` to `notified` (one compare-exchange of the
 *   counts word: exact, whatever else runs). Then it wakes the owner: WAITING(t) → FLIGHT(t) and
 *   `Atomics.notify` of the counts word. If that woke nobody, the owner's thread is gone: FLIGHT(t) →
 *   DEAD(t), and it takes the notifications back (notified → 0) and gives them to the next seats. A
 *   seat already FLIGHT is not notified again: its owner was woken and will look. But a notifier that
 *   has seen it FLIGHT(t), its counts moved by nobody else, for STALE ms (1 s, seats.ts) takes it for gone
 *   before giving: it notifies the counts word (a live owner that re-armed answers: it keeps its turn),
 *   and if nobody answers, FLIGHT(t) → DEAD(t), and it gives on the notifications it takes back.
 * - The owner, woken, re-arms its engine waiter, moves FLIGHT(t) → WAITING(t), then takes the
 *   notifications (notified → 0) and hands them to its first local waiters, in order. Each notified
 *   waiter takes the lock back (through the lock's own queue) before its promise settles.
 * - Before a deadline of its local waiters expires, the owner looks at its seat as if woken: notifications
 *   given before the deadline, their wake-up not delivered yet, go to its first waiters.
 * - A waiter that times out or is aborted before it is notified unregisters on its own thread, at once:
 *   registered - 1; or, if none is left registered (its notification is on its way), notified - 1 and
 *   it passes that notification on (as a notify(1) would). A notified waiter that times out or is
 *   aborted while it takes the lock back passes its notification on too, as `Condition`'s does.
 * - The owner whose local queue empties leaves its seat (its engine waiter notified away; WAITING(t) or
 *   FLIGHT(t) → RESERVED(t), counts taken, RESERVED(t) → FREE, compare-exchanges all).
 * - A thread that finds every seat taken (and polls) takes for gone the seats that showed it the very
 *   same RESERVED(t), FLIGHT(t), or WAITING(t) with nobody registered (where no notify looks), and
 *   counts, at each of its looks for STALE ms: a thread terminated partway through taking, registering
 *   in or leaving its seat, or after it was woken and before it looked. As the notifier above: a
 *   FLIGHT or WAITING seat answering a notify is alive (a live WAITING owner is always armed); else →
 *   DEAD(t), its notifications given on.
 * - An owner that finds its seat DEAD(t) (or another thread's: taken for gone and taken) when it looks
 *   takes DEAD(t) back to read its counts: the waiters still registered there register again in a new
 *   seat; the others had been notified, and wake (their notifications, taken back, went on as well). If
 *   another thread took the seat first, it cannot tell which were notified: every waiter wakes, `true`,
 *   as the waiters of a thread without a seat do (a condition's waiter loops on its predicate).
 * - waitSync registers the same way and blocks in `Atomics.wait` on the counts word, looking at the
 *   seat after each wake-up; then it takes the lock back with `acquireSync`. An async waiter of its
 *   thread notified meanwhile (FIFO: it may be first) gets in line for the lock only once the thread
 *   runs again: taking the lock for a task that cannot run would hold it for nobody while the thread
 *   blocks, and waitSync would then block for ever to take it back.
 *
 * # Why exactly min(n, waiting)
 *
 * Every notification moves one registered waiter to notified in the same compare-exchange, so a notify
 * counts only waiters that are still registered; a waiter that leaves either finds itself registered
 * (and unregisters: not counted) or finds its notification given (and passes it on). A live owner with
 * a WAITING seat always has an engine waiter on its counts word (it registers before publishing and
 * re-arms before going back to WAITING), so a notify that wakes nobody means the thread is gone, and its
 * notifications go to the next seats. A thread terminated after it was woken (FLIGHT) keeps what it was
 * given until it is seen so for STALE ms (above); then it goes on. As with SharedLock, a notify arriving
 * late after a seat changed hands, or a thread stalled for STALE ms while RESERVED or FLIGHT, can make a
 * live owner look gone; its notified waiters still wake (above), so nothing is lost, and that notify
 * may wake more than n: the notifications taken back went to other waiters as well. Until it looks, the
 * seat may have been taken by another thread: an owner unregisters from, or takes notifications from,
 * only a seat that carries its ticket (tickets are each taker's own, RESERVED ones too).
 *
 * # Limits
 *
 * At most 32 threads wait on one condition at once (65,535 waiters per thread); a thread that finds
 * every seat taken cannot register, so its waits end early, `true` as after a notification, after 1 to
 * 32 ms: use `waitFor` or a loop on the guarded state (as with any condition variable). Without
 * `Atomics.waitAsync`, an owner polls its seat (POLLING): a thread terminated while polling keeps the
 * notifications given to it.
 */
import { type WaitOptions, checkFunction, describe, readCount, readTimeout, readWaitArg } from '../core/arguments.js';
import { currentClock, monotonic } from '../core/clock.js';
import { inspectable } from '../core/inspect.js';
import { type MakeWaiter, park } from '../core/park.js';
import {
  QUEUED,
  type Resolve,
  Waiter,
  WaiterQueue,
  leave,
  releaseOne,
  stopTimer,
  stopWatching,
} from '../core/queue.js';
import { type Guard, guarded } from '../guard.js';
import { CONDITION, arrived, sharedMemory } from './memory.js';
import {
  DEAD,
  FLIGHT,
  POLLING,
  POLL_MAX,
  RESERVED,
  SEATS,
  STATE,
  WAITING,
  Watch,
  before,
  canWaitAsync,
  newTicket,
  sleep,
  takeSeat,
  pollAfter,
} from './seats.js';
import { type SharedLock, enterSharedLock, isSharedLock, sharedLockFrom } from './shared-lock.js';
import { assertMayBlock, holdThread, lookBeforeDeadlines, releaseThread } from './word.js';

/** One registered waiter in a counts word; the notified ones are the low 16 bits. */
const REGISTERED = 0x10000;
const NOTIFIED = 0xffff;

/** What a condition's waiter tells its condition. */
interface Owner {
  /** A queued waiter gave up: take it out of the counts. */
  unregister(): void;
  /** A notified waiter gave up: pass its notification on. */
  passOn(): void;
}

/**
 * A {@link Condition} whose waiters may be on any thread: a {@link SharedLock} plus, in shared memory,
 * one seat per waiting thread. The producer/consumer hand-off between workers: the state a waiter
 * checks and the notification that it changed are both guarded by the lock. Post the condition itself
 * to another thread and rebuild it there with {@link SharedCondition.from}, tied to the same lock (or
 * post `buffer` and `byteOffset`, and the lock's, and call `new SharedCondition(lock, buffer, byteOffset)`).
 *
 * `notify(n)` wakes exactly `min(n, waiting)` waiters across threads: threads in the order their first
 * waiter arrived, and within a thread its waiters in FIFO order. A waiter that timed out, was aborted
 * or whose thread was terminated is not waiting.
 *
 * @example
 * ```ts
 * // main thread: a ring buffer `items` in shared memory, guarded by lock
 * const lock = new SharedLock();
 * const notEmpty = new SharedCondition(lock);
 * worker.postMessage({ notEmpty, items });
 * await notEmpty.acquire();
 * try {
 *   await notEmpty.waitFor(() => count(items) > 0);
 *   take(items);
 * } finally {
 *   notEmpty.release();
 * }
 *
 * // worker: const notEmpty = SharedCondition.from(data.notEmpty);
 * await notEmpty.acquire();
 * put(items, 42);
 * notEmpty.notify();
 * notEmpty.release();
 * ```
 */
export class SharedCondition {
  /**
   * Bytes one condition occupies in a buffer (264, a multiple of 4).
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(SharedLock.BYTES + 2 * SharedCondition.BYTES);
   * const lock = new SharedLock(buffer, 0);
   * const notFull = new SharedCondition(lock, buffer, SharedLock.BYTES);
   * const notEmpty = new SharedCondition(lock, buffer, SharedLock.BYTES + SharedCondition.BYTES);
   * ```
   */
  static readonly BYTES: number = 264; // 4 * (1 + 2 * SEATS + 1): a literal, so bundlers see no side effect

  /**
   * The condition over the memory of `value`, tied to the same lock: a `SharedCondition` posted from another
   * thread (what arrives is its structured clone, a plain object with its `buffer`, `byteOffset` and
   * `sharedLock`, itself a posted lock), or a `SharedCondition` of this thread. The lock is
   * {@link SharedLock.from} of `value.sharedLock`: this thread's live lock over its memory when there is one.
   * Returns `value` itself for a `SharedCondition` of this thread; for a clone, this thread's live condition at that
   * place of the same `SharedArrayBuffer` object when there is one (the objects of one message share their
   * buffers), else a new one (a primitive received in two messages rebuilds to two objects over the same
   * memory, which work together as two threads' do).
   *
   * @throws `TypeError` naming what is wrong and showing it when `value` is not an object, has no
   *   `SharedArrayBuffer` as `buffer` or no valid `byteOffset` in it, its memory holds no condition,
   *   `value.sharedLock` is not a lock as {@link SharedLock.from} takes it, or this thread's condition
   *   there is over another lock.
   *
   * @example
   * ```ts
   * // main thread
   * const lock = new SharedLock();
   * const notEmpty = new SharedCondition(lock);
   * worker.postMessage({ lock, notEmpty });
   *
   * // worker
   * parentPort.once('message', (data) => {
   *   const lock = SharedLock.from(data.lock);
   *   const notEmpty = SharedCondition.from(data.notEmpty); // notEmpty.sharedLock === lock
   * });
   * ```
   */
  static from(value: unknown): SharedCondition {
    if (value instanceof SharedCondition) return value;
    const at = arrived<SharedCondition>(CONDITION, value);
    const given = at.value.sharedLock;
    const lock = isSharedLock(given) ? given : sharedLockFrom(given, 'value.sharedLock', 'SharedCondition.from()');
    const live = at.live;
    if (live === undefined) return new SharedCondition(lock, at.buffer, at.byteOffset);
    const own = live.sharedLock;
    if (own.buffer !== lock.buffer || own.byteOffset !== lock.byteOffset) {
      throw new TypeError(
        `SharedCondition.from(): value.sharedLock (at byteOffset ${lock.byteOffset}) is not the lock of this ` +
          `thread's SharedCondition at byteOffset ${at.byteOffset} (a lock at byteOffset ${own.byteOffset}` +
          `${own.buffer === lock.buffer ? '' : ' of another buffer'})`,
      );
    }
    return live;
  }

  /**
   * The {@link SharedLock} the condition is over, as given to its constructor (a posted condition
   * carries it, so that {@link SharedCondition.from} ties the condition to the same lock).
   *
   * @example
   * ```ts
   * const notEmpty = new SharedCondition(lock);
   * notEmpty.sharedLock === lock; // true
   * ```
   */
  readonly sharedLock: SharedLock;

  /**
   * The shared memory holding the condition's seats. A posted condition carries it (with
   * {@link SharedCondition.byteOffset} and {@link SharedCondition.sharedLock}), as its structured clone
   * keeps exactly these three properties.
   *
   * @example
   * ```ts
   * const again = new SharedCondition(cond.sharedLock, cond.buffer, cond.byteOffset);
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
  readonly #words: Int32Array;
  /** Index of the ticket counter; seat k's state word is at #at + 1 + 2k, its counts word next. */
  readonly #at: number;
  readonly #waiters = new WaiterQueue();
  /** Word index of this object's seat (its state word), or -1. */
  #seat = -1;
  /** Our seat's state as we published it: WAITING(t) or POLLING(t). */
  #mine = 0;
  #armed: object | undefined = undefined;
  #poll: ReturnType<typeof setTimeout> | undefined = undefined;
  #delay = 1;
  #holdsThread = false;
  /** What this object saw of FLIGHT and RESERVED seats, and since when (seats.ts), once it did. */
  #watch: Watch | undefined = undefined;
  /** RESERVED and a ticket not written anywhere yet, for the next seat this object takes, or 0. */
  #spare = 0;
  readonly #owner: Owner = {
    unregister: () => this.#unregister(),
    passOn: () => this.#give(1),
  };
  readonly #make: MakeWaiter = (queue, resolve, reject, signal) =>
    new SharedConditionWaiter(this.#lock, this.#owner, queue, resolve, reject, signal);
  readonly #look = () => {
    if (this.#seat >= 0) this.#check();
  };
  readonly #mustHold = () => {
    if (!this.#lock.locked()) throw notHeld('wait');
    return false;
  };
  readonly #onPoll = () => {
    this.#poll = undefined;
    this.#delay = Math.min(this.#delay * 2, POLL_MAX);
    this.#check();
  };
  static #inspectable = false;

  /**
   * @param lock - the {@link SharedLock} whose holder may wait and notify; several conditions may share
   *   one.
   * @param buffer - the shared memory for the condition's seats; omitted, a new `SharedArrayBuffer` of
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
   * // in a worker:
   * const again = new SharedCondition(new SharedLock(lockBuffer), notEmpty.buffer, notEmpty.byteOffset);
   * ```
   */
  constructor(lock: SharedLock, buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    if (!isSharedLock(lock)) throw new TypeError(`lock must be a SharedLock, got ${describe(lock)}`);
    const memory = sharedMemory(CONDITION, buffer, byteOffset, this);
    this.sharedLock = this.#lock = lock;
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    this.#words = memory.words;
    this.#at = memory.index;
    this.#waiters.onEmpty = () => this.#idle();
    if (!SharedCondition.#inspectable) SharedCondition.#prepare();
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
   * Sets up the prototype, on the first condition made, not in the class body (see core/inspect.ts).
   * In a function of its own: a closure made in the constructor would share its scope, and keep that
   * first object (and its buffer) alive for ever.
   */
  static #prepare(): void {
    SharedCondition.#inspectable = inspectable(SharedCondition.prototype, 'SharedCondition', (c) => ({
      locked: c.locked(),
      waiters: c.#waiters.size,
    }));
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
   * Acquires the condition's lock, or gives up after `timeout` ms (`false`): see
   * {@link SharedLock.acquire}.
   *
   * @example
   * ```ts
   * if (!(await cond.acquire(100))) return;
   * ```
   */
  acquire(timeout: number): Promise<boolean>;
  /**
   * Acquires the condition's lock, with a timeout and a signal: see {@link SharedLock.acquire}.
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
   * Acquires the condition's lock as a {@link Guard} that releases it once: see {@link SharedLock.lock}.
   *
   * @throws rejects with {@link TimeoutError} when the timeout passes before the lock is acquired, with
   *   `signal.reason` when the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await notEmpty.lock();
   *   ring.push(item);
   *   notEmpty.notify();
   * } // released here
   * ```
   */
  lock(options?: number | WaitOptions): Promise<Guard> {
    const lock = this.#lock;
    return guarded(
      (o) => lock.acquire(o),
      () => lock.release(),
      options,
      'SharedCondition.lock()',
      'the lock',
    );
  }

  /**
   * Releases the lock, waits until notified (by a `notify` on any thread), then re-acquires the lock and
   * resolves `true`. The lock must be held.
   *
   * Cancel safety: whatever ends the wait, the lock is held again when the promise settles, so a
   * `finally { cond.release() }` stays right. A waiter that was notified and then times out or is
   * aborted passes its notification on to the next waiter, on whatever thread.
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
    const before = this.#waiters.size;
    const result = park(this.#waiters, arg, this.#mustHold, this.#make);
    // Notifications given and not delivered yet go to the first waiters before any deadline expires.
    lookBeforeDeadlines(this.#waiters, this.#look);
    if (this.#waiters.size > before) {
      if (!this.#holdsThread) {
        this.#holdsThread = true;
        holdThread();
      }
      this.#register();
      this.#lock.release();
    }
    return result;
  }

  /**
   * Like `wait()`, blocking the whole thread (with `Atomics.wait`) until notified or `timeout`
   * milliseconds pass; the lock is held again when it returns. Only where `Atomics.wait` is allowed
   * (not on a browser page's main thread).
   *
   * @param timeout - milliseconds; omitted or `Infinity` waits for ever; `0` or less returns `false` at
   *   once, keeping the lock.
   * @returns `true` when notified, `false` when the timeout ran out first.
   * @throws `Error` where the thread may not block (use `await cond.wait()` there) or when the lock is
   *   not held; `TypeError` / `RangeError` for a timeout that is not a number / NaN.
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
    if (!this.#lock.locked()) throw notHeld('waitSync');
    if (ms <= 0) return false;
    let notified = false;
    const w = new SyncWaiter(this.#waiters, () => (notified = true));
    this.#waiters.add(w);
    this.#register();
    this.#lock.release();
    const words = this.#words;
    const deadline = monotonic() + ms;
    blocking++; // see SharedConditionWaiter: its thread's async waiters notified meanwhile wait their turn
    try {
      while (!notified) {
        const left = deadline - monotonic();
        if (left <= 0) {
          if (w.queued) {
            this.#unregister();
            w.cancel();
          }
          break;
        }
        const seat = this.#seat;
        if (seat < 0) {
          sleep(Math.min(left, this.#delay));
          this.#delay = Math.min(this.#delay * 2, POLL_MAX);
          this.#check();
          continue;
        }
        const counts = Atomics.load(words, seat + 1);
        if (Atomics.load(words, seat) !== this.#mine || (counts & NOTIFIED) !== 0) {
          this.#check();
          continue;
        }
        Atomics.wait(words, seat + 1, counts, canWaitAsync() ? left : Math.min(left, POLL_MAX));
      }
    } finally {
      blocking--;
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
   * Wakes `n` waiters, across threads: exactly `min(n, waiting)`. The lock must be held.
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
    if (!this.#lock.locked()) throw notHeld('notify');
    this.#give(n);
  }

  /**
   * Wakes every waiter, on every thread. The lock must be held.
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
    this.#give(Infinity);
  }

  get [Symbol.toStringTag](): string {
    return 'SharedCondition';
  }

  /** Gives `n` notifications to registered waiters, oldest seat first (see the protocol). */
  #give(n: number): void {
    const words = this.#words;
    for (let left = n; left > 0;) {
      const seat = this.#oldest();
      if (seat < 0) return;
      const counts = Atomics.load(words, seat + 1);
      const registered = counts >>> 16;
      if (registered === 0) continue;
      const v = Atomics.load(words, seat);
      if ((v & STATE) === FLIGHT && seat !== this.#seat && this.#seenStale(seat, v, counts)) {
        // Woken, and it has not looked since STALE ms: its thread is gone, or it loses its turn.
        const back = this.#kill(seat, v);
        if (back >= 0) {
          left += back;
          continue;
        }
      }
      const k = Math.min(left, registered);
      const given = counts - k * REGISTERED + k;
      if (Atomics.compareExchange(words, seat + 1, counts, given) !== counts) continue;
      left -= k;
      if (seat === this.#seat && this.#ours(seat)) this.#take();
      else left += this.#wake(seat, given);
    }
  }

  /** Whether `seat` showed `v` and `counts` at each of our looks for STALE ms (seats.ts). */
  #seenStale(seat: number, v: number, counts: number): boolean {
    const watch = (this.#watch ??= new Watch());
    return watch.stale((seat - this.#at - 1) >> 1, v, counts, watch.now());
  }

  /**
   * Takes the thread of `seat`, seen stale showing `v` (RESERVED(t), FLIGHT(t) or WAITING(t)), for gone:
   * v → DEAD(t), and returns the notifications taken back, to give on; -1 when the seat moved, or, not
   * RESERVED, its owner answers a notify (it is armed: alive).
   */
  #kill(seat: number, v: number): number {
    const words = this.#words;
    this.#watch!.forget((seat - this.#at - 1) >> 1);
    if ((v & STATE) !== RESERVED && Atomics.notify(words, seat + 1) > 0) return -1;
    if (Atomics.compareExchange(words, seat, v, (v & ~STATE) | DEAD) !== v) return -1;
    return this.#takeBack(seat);
  }

  /**
   * Every seat is taken: takes for gone the threads of seats that showed the very same RESERVED(t) or
   * FLIGHT(t), or WAITING(t) with nobody registered (no notify looks there), and counts, at each of our
   * looks for STALE ms, giving their notifications on. True when it freed one.
   */
  #bury(): boolean {
    const words = this.#words;
    let freed = false;
    for (let i = 0, at = this.#at + 1; i < SEATS; i++, at += 2) {
      const v = Atomics.load(words, at);
      const s = v & STATE;
      const counts = Atomics.load(words, at + 1);
      const unseen = s === RESERVED || s === FLIGHT || (s === WAITING && counts >>> 16 === 0);
      if (!unseen || !this.#seenStale(at, v, counts)) continue;
      const back = this.#kill(at, v);
      if (back < 0) continue;
      freed = true;
      if (back > 0) this.#give(back);
    }
    return freed;
  }

  /** The seat (state word index) with registered waiters and the oldest ticket, or -1. */
  #oldest(): number {
    const words = this.#words;
    let found = -1;
    let ticket = 0;
    for (let i = 0, at = this.#at + 1; i < SEATS; i++, at += 2) {
      const v = Atomics.load(words, at);
      const s = v & STATE;
      if (
        (s === WAITING || s === POLLING || s === FLIGHT) &&
        Atomics.load(words, at + 1) >>> 16 !== 0 &&
        (found < 0 || before(v & ~STATE, ticket))
      ) {
        found = at;
        ticket = v & ~STATE;
      }
    }
    return found;
  }

  /**
   * Wakes the owner of `seat`, whose counts we made `given`; returns the notifications taken back when
   * its thread is gone.
   */
  #wake(seat: number, given: number): number {
    const words = this.#words;
    for (;;) {
      const v = Atomics.load(words, seat);
      const t = v & ~STATE;
      switch (v & STATE) {
        case WAITING:
          if (Atomics.compareExchange(words, seat, v, t | FLIGHT) !== v) continue;
          if (Atomics.notify(words, seat + 1) > 0) {
            // Woken: it will look. Should it not (its thread terminated meanwhile), seen so for STALE ms
            // it is taken for gone at a later notify of ours (see #give).
            const watch = (this.#watch ??= new Watch());
            watch.seen((seat - this.#at - 1) >> 1, t | FLIGHT, given, watch.now());
            return 0;
          }
          if (Atomics.compareExchange(words, seat, t | FLIGHT, t | DEAD) !== (t | FLIGHT)) return 0;
          return this.#takeBack(seat);
        case POLLING:
          Atomics.notify(words, seat + 1); // for a thread blocked in waitSync
          return 0;
        case FLIGHT:
          // Woken already: it will look. Its counts moved by our doing only: still the same look.
          this.#watch?.keep((seat - this.#at - 1) >> 1, v, given);
          return 0;
        default:
          return this.#takeBack(seat); // dead, or left meanwhile: what it was given is not taken
      }
    }
  }

  /** Takes every notification of `seat` back. */
  #takeBack(seat: number): number {
    const words = this.#words;
    for (let counts = Atomics.load(words, seat + 1); ;) {
      const seen = Atomics.compareExchange(words, seat + 1, counts, counts & ~NOTIFIED);
      if (seen === counts) return counts & NOTIFIED;
      counts = seen;
    }
  }

  /**
   * A local waiter was queued (with the lock held): one more registered; or, taking a seat, all of them
   * (the ones queued while every seat was taken are registered nowhere yet).
   */
  #register(): void {
    if (this.#seat >= 0) Atomics.add(this.#words, this.#seat + 1, REGISTERED);
    else if (this.#sit()) Atomics.add(this.#words, this.#seat + 1, this.#waiters.size * REGISTERED);
    else this.#startPolling();
  }

  /** Takes a seat and publishes it, registering no one yet. */
  #sit(): boolean {
    const words = this.#words;
    for (;;) {
      // A ticket of ours, kept while no seat is found (it was written nowhere): polls take no tickets.
      const reserved = (this.#spare ||= newTicket(words, this.#at) | RESERVED);
      const seat = takeSeat(words, this.#at + 1, 2, reserved);
      if (seat < 0) {
        if (this.#bury()) continue;
        return false;
      }
      this.#spare = 0;
      this.#seat = seat;
      const left = Atomics.exchange(words, seat + 1, 0) & NOTIFIED; // given to a thread now gone
      this.#arm();
      const mine = (reserved & ~STATE) | (canWaitAsync() ? WAITING : POLLING);
      // From the RESERVED(t) we wrote: DEAD(t) if a thread with no seat took us for gone meanwhile (we
      // were stalled past STALE). Then the seat is not ours: sit again.
      const won = Atomics.compareExchange(words, seat, reserved, mine) === reserved;
      if (!won) this.#dropSeat();
      if (left > 0) this.#give(left);
      if (!won) continue;
      this.#mine = mine;
      this.#delay = 1;
      return true;
    }
  }

  /** Forgets a seat that is not ours any more, our engine waiter on it notified away. */
  #dropSeat(): void {
    if (this.#armed !== undefined) Atomics.notify(this.#words, this.#seat + 1);
    this.#armed = undefined;
    this.#seat = -1;
  }

  /** Registers the engine waiter on our counts word, or polls where there is no waitAsync. */
  #arm(): void {
    if (!canWaitAsync()) return this.#startPolling();
    const words = this.#words;
    const token = {};
    for (;;) {
      const result = Atomics.waitAsync(words, this.#seat + 1, Atomics.load(words, this.#seat + 1));
      if (!result.async) continue; // the counts moved between the two reads
      this.#armed = token;
      void result.value.then(() => {
        if (this.#armed !== token) return;
        this.#armed = undefined;
        this.#check();
      });
      return;
    }
  }

  /** Woken, polled, or looking from waitSync: takes what was given, or gets back in line. */
  #check(): void {
    const seat = this.#seat;
    if (seat < 0) {
      // No seat: try again; still none, the waiters wake early (see Limits). There are waiters: the
      // queue emptying (#idle) stops the poll and disarms the engine waiter that call this.
      if (this.#sit()) Atomics.add(this.#words, this.#seat + 1, this.#waiters.size * REGISTERED);
      else while (releaseOne(this.#waiters, true)); // each takes the lock back before it settles
      return;
    }
    const words = this.#words;
    const mine = this.#mine;
    const t = mine & ~STATE;
    const v = Atomics.load(words, seat);
    if (v === (t | FLIGHT)) {
      this.#arm(); // before going back to WAITING: a live WAITING seat always has an engine waiter
      if (Atomics.compareExchange(words, seat, v, mine) !== v) return this.#check();
    } else if (v !== mine) {
      return this.#rejoin();
    } else if ((mine & STATE) === POLLING || this.#armed === undefined) {
      this.#arm();
    }
    this.#take();
  }

  /**
   * Taken for gone: our waiters that were notified wake (the notifications taken back from us went on
   * to others as well), the others register again in a seat we take anew. The waiters still registered
   * are those the counts of our dead seat still count; if another thread took the seat before we
   * looked, we cannot tell, and every waiter wakes, `true`, as the waiters of a thread without a seat do.
   */
  #rejoin(): void {
    const words = this.#words;
    const seat = this.#seat;
    const t = this.#mine & ~STATE;
    this.#dropSeat();
    let woken = this.#waiters.size;
    if (Atomics.compareExchange(words, seat, t | DEAD, t | RESERVED) === (t | DEAD)) {
      woken -= Atomics.exchange(words, seat + 1, 0) >>> 16;
      Atomics.compareExchange(words, seat, t | RESERVED, 0);
    }
    for (let i = 0; i < woken; i++) releaseOne(this.#waiters, true); // each takes the lock back before it settles
    if (this.#waiters.size > 0) this.#check();
  }

  /**
   * Whether the seat we hold carries our ticket still: once taken for gone (DEAD), it may have been
   * taken by another thread before we looked.
   */
  #ours(seat: number): boolean {
    return ((Atomics.load(this.#words, seat) ^ this.#mine) & ~STATE) === 0;
  }

  /** Takes the notifications given to our seat and hands them to our first local waiters. */
  #take(): void {
    const given = this.#takeBack(this.#seat);
    let extra = 0;
    for (let i = 0; i < given; i++) if (!releaseOne(this.#waiters, true)) extra++;
    if (extra > 0) this.#give(extra);
  }

  /** A queued local waiter gave up: one registered less, or pass on the notification meant for it. */
  #unregister(): void {
    const words = this.#words;
    const seat = this.#seat;
    if (seat < 0 || !this.#ours(seat)) return; // not registered anywhere now
    for (let counts = Atomics.load(words, seat + 1); ;) {
      const next = counts >>> 16 > 0 ? counts - REGISTERED : (counts & NOTIFIED) > 0 ? counts - 1 : counts;
      const seen = Atomics.compareExchange(words, seat + 1, counts, next);
      if (seen !== counts) {
        counts = seen;
        continue;
      }
      if (counts >>> 16 === 0 && (counts & NOTIFIED) > 0) this.#give(1);
      return;
    }
  }

  #startPolling(): void {
    if (this.#poll === undefined) this.#poll = pollAfter(this.#onPoll, this.#delay);
  }

  /** The last local waiter left: gives the seat back, stops polling, lets the thread go. */
  #idle(): void {
    const words = this.#words;
    const seat = this.#seat;
    if (seat >= 0) {
      if (this.#armed !== undefined) Atomics.notify(words, seat + 1);
      this.#armed = undefined;
      this.#seat = -1;
      const mine = this.#mine;
      const flight = (mine & ~STATE) | FLIGHT;
      const reserved = (mine & ~STATE) | RESERVED;
      if (
        Atomics.compareExchange(words, seat, mine, reserved) === mine ||
        Atomics.compareExchange(words, seat, flight, reserved) === flight
      ) {
        const left = Atomics.exchange(words, seat + 1, 0) & NOTIFIED;
        Atomics.compareExchange(words, seat, reserved, 0); // else taken for gone meanwhile: DEAD, free already
        if (left > 0) this.#give(left);
      } // else taken for gone (DEAD): free for anyone already
    }
    if (this.#poll !== undefined) {
      clearTimeout(this.#poll);
      this.#poll = undefined;
    }
    if (this.#holdsThread) {
      this.#holdsThread = false;
      releaseThread();
    }
  }
}

/** How many waitSync calls of this thread are blocking now (nested only through a notify's callbacks: none). */
let blocking = 0;

function notHeld(method: string): Error {
  return new Error(`SharedCondition.${method}() needs the lock held: acquire it first`);
}

/** waitSync's place in the local queue: notified when released. */
class SyncWaiter extends Waiter {
  constructor(queue: WaiterQueue, resolve: Resolve) {
    super(queue, resolve, undefined, undefined);
  }

  cancel(): void {
    leave(this);
  }
}

/**
 * A waiter of a shared condition: notified (or timed out, or aborted), it re-acquires the lock before
 * it settles. Its timer and signal stay armed until then; one that fires after the notification turns
 * it into a timeout or an abort and passes the notification on.
 */
class SharedConditionWaiter extends Waiter {
  #notified = false;
  #reacquiring = false;
  #outcome: { value: boolean } | { reason: unknown } = { value: true };

  constructor(
    private readonly lock: SharedLock,
    private readonly owner: Owner,
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
    stopWatching(this);
  }

  override abort(reason: unknown): void {
    this.signal = undefined;
    this.#cancel({ reason });
    stopTimer(this);
  }

  #cancel(outcome: { value: boolean } | { reason: unknown }): void {
    this.#outcome = outcome;
    if (this.queued) {
      this.owner.unregister();
      leave(this);
    } else if (this.#notified) this.owner.passOn();
    this.#reacquire();
  }

  #reacquire(): void {
    if (this.#reacquiring) return;
    this.#reacquiring = true;
    // Notified while its thread blocks in waitSync, this waiter's task cannot run before the thread
    // does: taking the lock for it now would leave the lock held for a task that cannot run, and
    // waitSync blocking to take it back for ever. It gets in line once the thread runs again.
    if (blocking > 0) void Promise.resolve().then(() => this.#enter());
    else this.#enter();
  }

  #enter(): void {
    enterSharedLock(this.lock, () => {
      stopTimer(this);
      stopWatching(this);
      if ('value' in this.#outcome) this.resolve(this.#outcome.value);
      else this.reject!(this.#outcome.reason);
    });
  }
}
