/*
 * SharedSemaphore: one counting semaphore, seen by every thread that maps its words of shared memory.
 *
 * It is SharedLock's protocol (shared-lock.ts) with the lock bit widened to a number of free permits:
 * "the lock is free" reads "a permit is free", "take the lock" reads "take a permit", and a release hands
 * one permit at a time. A lock hands its one permit to one seat; a semaphore may hand several to one
 * thread before that thread runs, so each seat has a grants word too.
 *
 * # The words (SharedSemaphore.BYTES = 268)
 *
 *     state     bits 25..30: COUNT, the seats counted; bits 0..24: PERMITS, the free permits
 *               (at most 2^25 - 1)
 *     tickets   the ticket counter (seats.ts)
 *     seat k    (32 words) ticket | state: FREE, RESERVED, WAITING, POLLING, GRANTED, SERVED or DEAD
 *     grants k  (32 words) bits 0..14: NEED, the waiters of seat k's thread that a grant to the seat
 *               does not cover; bits 16..31: EXTRAS, the permits handed to seat k beyond its grant
 *     kind      says the memory holds a SharedSemaphore (memory.ts)
 *
 * As with SharedLock, the thread, not each waiter, takes a place in line: a semaphore object with local
 * waiters holds exactly one seat, and its local FIFO queue stands behind it. Invariant: a thread counts
 * itself only while no permit is free (finding one free, it takes it instead), and it stays counted
 * while a waiter of its is not covered by a permit on its way: published (WAITING, POLLING), or GRANTED
 * with more waiters queued, until it claims. A seat granted with nothing more to cover is SERVED, and
 * uncounted. So permits become free only while nobody is queued uncovered.
 *
 * # Who initializes
 *
 * The constructor that finds the memory fresh (its kind word 0, see memory.ts) writes the initial
 * permits into the state word before any other thread may use it; every other object, in any thread
 * (a second `new SharedSemaphore(3, buffer, offset)`, or `SharedSemaphore.from`), finds the kind word
 * set and joins the semaphore as it is: its `value` argument is checked, then unused. So building the
 * semaphore again in another thread never resets its count, and two threads building at once agree on
 * one of their values.
 *
 * # Who writes what
 *
 * - acquire, a permit free: state → state - 1 (a compare-exchange). Taken.
 * - A thread whose first local waiter arrives while no permit is free takes a seat (FREE or DEAD →
 *   RESERVED), REGISTERS ITS ENGINE WAITER ON THE SEAT WORD (`Atomics.waitAsync` on RESERVED), then
 *   counts itself (state + ONE, only while PERMITS is 0; finding a permit free, it takes it instead), then
 *   adds its need to the grants word (its waiters but the first; all of them for acquireSync, which is
 *   served first) and publishes: seat → WAITING(t), a new ticket. Then it reads the state word once more.
 *   If a permit is free now, a release let one go meanwhile (see below; it may also have granted the
 *   seat and, finding no engine waiter yet, taken it for gone): the thread takes its seat out of line
 *   with a compare-exchange (WAITING(t) → RESERVED(t)) and clears its need; only if that succeeds is it
 *   still counted, and it takes the permit uncounting itself in one step (state - 1 - ONE), or, someone
 *   else having taken it, publishes again. If the seat moved, it claims the grant or, taken for gone,
 *   gets back in line.
 * - A waiter that joins a thread already in line adds one need (grants + 1). If a release served the
 *   seat meanwhile, the thread counts itself again (state + ONE, SERVED(t) → GRANTED(t); see below).
 *   Then, if a permit is free (a release let it go before it could see that need), it takes it and
 *   releases it again: that release sees the need.
 * - release(n) gives its n permits one at a time. With COUNT 0, it adds all it has left: state → state + k
 *   (a compare-exchange, so a thread counting itself meanwhile either is seen or sees the permits).
 *   Else it grants the oldest WAITING seat: WAITING(t) → GRANTED(t), still counted, if the seat's need
 *   is not 0; else WAITING(t) → SERVED(t) and it uncounts the seat (state - ONE), then reads the need
 *   again: a waiter that joined meanwhile either saw SERVED or is seen now (each writes its word before
 *   it reads the other's). Either counts the seat again (state + ONE, first: a scan counts every GRANTED
 *   seat it sees) and changes SERVED(t) → GRANTED(t), uncounting it back if the other did first (a seat
 *   never goes from GRANTED to SERVED). Then it notifies the seat word: that permit is handed over,
 *   PERMITS unchanged. If the notify woke nobody, the seat's thread is gone: the releaser closes its
 *   grants word (→ 0, the extras handed to it meanwhile are the releaser's to pass on, and none comes any
 *   more), then takes the grant back (GRANTED(t) or SERVED(t) → DEAD(t), uncounting a GRANTED one) and
 *   offers the permits to the next seats.
 * - A release that finds no WAITING seat but a GRANTED one with need hands its permit to that seat: one
 *   need becomes one extra (grants → grants + EXTRA - 1, a compare-exchange, only while NEED > 0). Then
 *   it reads the seat again. Still GRANTED(t), its thread claims the extra with the grant. Else the seat
 *   moved on (claimed, taken for gone, published again): the releaser takes an extra back
 *   (grants → grants - EXTRA + 1, while EXTRAS > 0) and offers the permit again, unless none is left, for
 *   then whoever emptied the word (the claim, or a release taking the seat for gone) has it.
 * - If COUNT > 0 but no seat is published or in need (a thread between counting and publishing, or
 *   granted with nothing more to cover), the releaser lets that permit go (state + 1), then looks at the
 *   seats again and takes a permit back (state - 1, if one is still free) to hand it over if a seat was
 *   published, or came in need, meanwhile: either it sees the seat, or the thread sees the permit (the
 *   thread writes its seat or its need before reading the state, the releaser writes the state before
 *   reading the seats). Nobody spins.
 * - The oldest seat is found as SharedLock finds it: the ticket counter read first, then COUNT, then the
 *   seats in turn, stopping once COUNT counted seats (published, or GRANTED) ticketed no later than that
 *   counter were seen.
 * - The owner, woken, claims its grant (GRANTED(t) or SERVED(t) → RESERVED(t)) and closes its grants
 *   word (→ 0, one exchange): it holds one permit and the extras. Its first local waiters get them, in
 *   order; a permit none of them can use any more (they gave up) is passed on (released). If it still has
 *   local waiters, it re-arms its engine waiter and publishes again, with a new ticket (at the back of the
 *   line), still counted if it was GRANTED; else it leaves the seat, uncounted.
 * - A releaser that finds its own seat (its index, with its ticket) the oldest hands the permit to its
 *   local waiter directly, taking the seat out of line with a compare-exchange (WAITING(t) → RESERVED(t),
 *   then state - ONE): unlike SharedLock's, whose releaser is the one holder, releases run on several
 *   threads at once, and another may grant that seat first; then its grant reaches the thread as any
 *   grant does, and this release offers its permit again. Every other step of a release is a
 *   compare-exchange already: two releases that pick the same seat grant it once.
 * - Before a deadline of its local waiters expires, the thread looks at its seat as if woken: a grant
 *   whose wake-up is not delivered yet goes to its first waiters, never dropped.
 * - A thread whose local queue empties (its waiters timed out or were aborted) withdraws at once, on its
 *   own thread: WAITING(t) → RESERVED(t), state - ONE, need cleared. If the seat was granted first, it
 *   claims the permits and releases them (passes them on) right there. Then it leaves the seat. So a
 *   waiter that gave up never absorbs a permit and never holds anyone up, even when its thread is busy
 *   afterwards. A waiter that gives up while others of its thread stay leaves the need as it is: a permit
 *   handed for it is passed on when the thread claims.
 * - acquireSync publishes the same way and blocks in `Atomics.wait` on its seat word (counted by the
 *   releaser's notify, so a thread terminated while blocked is skipped too). A grant that reaches a thread
 *   blocked in acquireSync goes to acquireSync (the extras to the async waiters, in turn): they cannot
 *   run before. It gets them back in line at once, with an engine waiter of their own (the one armed
 *   for them was woken with the grant). An acquireSync that times out while its thread has async
 *   waiters leaves the seat published for them, with their engine waiter armed on it (it may have moved
 *   to a new seat, where none was yet).
 *
 * # Why nothing is lost, and nobody dead absorbs a permit
 *
 * As in SharedLock: a published, live thread always has an engine waiter (or a blocked `Atomics.wait`) on
 * its seat, registered before it publishes. So a notify that wakes nobody after a grant means the thread
 * is gone, and the grant is taken back by the compare-exchange that also decides the owner's claim:
 * exactly one of them wins. A permit is either free (in PERMITS), held by a task, on its way in one
 * GRANTED or SERVED seat, or one of the EXTRAS of a grants word; every path above moves it from one of
 * these to another with one atomic step. An extra lands only on a word with need, and every word is
 * left without need when its seat goes out of line (the claim and a take-for-gone empty it, a withdrawal
 * clears the need), so an extra that lands as the seat moves on is taken back by its releaser or was
 * taken, with the word, by the one that emptied it. In the two rare races of SharedLock, a live thread
 * taken for gone finds its seat DEAD(t) when it next looks, and queues again at the back: nothing is
 * lost; only that turn is.
 *
 * # Fairness (no barging)
 *
 * FIFO across threads by the time each thread's first waiter arrived (its ticket), FIFO within a thread:
 * a thread served goes to the back with its next waiter, so a waiter has at most one hand-off per other
 * thread ahead of it, while at most 32 threads wait at once (a thread that finds every seat taken polls,
 * 1 ms doubling to 32 ms, for a seat or a free permit, outside the line). A permit released while any
 * waiter of any thread is queued goes to a queued waiter, never to a newcomer: to the oldest WAITING
 * seat, else, as an extra, to a thread granted already and not running yet that has waiters its grant
 * does not cover (it serves them in order when it runs); permits become free only while no waiter is
 * queued uncovered. One window remains, as with SharedLock: for the instant a thread is counted but not
 * yet published (within one synchronous step of its own), a release lets a permit go for it (above),
 * and a newcomer may take that permit first (the thread then waits in line). A thread covers at most
 * 16,383 waiters beyond the first between two of its claims; more wait for its next turn.
 *
 * # Faults and the polling fallback
 *
 * A thread terminated while it holds permits, or after it was handed a permit and woken, keeps them, as
 * with any semaphore; in the second case its seat stays SERVED (taken) or, if it had more waiters
 * queued, GRANTED and counted, and it keeps also the extras handed to it while no other thread waited,
 * at most one per such waiter: releases then look at that seat before letting a permit go free. A
 * thread terminated while it waits holds nobody up and absorbs nothing. Without `Atomics.waitAsync`, a
 * thread polls its seat (from 1 ms at each turn in line, doubling to 32 ms; the seat is POLLING): no
 * notify can tell whether it is alive, so a thread terminated while polling can be handed permits and
 * keep them.
 */
import { type WaitOptions, checkFunction, readCount, readTimeout } from '../core/arguments.js';
import { monotonic } from '../core/clock.js';
import { inspectable } from '../core/inspect.js';
import { park } from '../core/park.js';
import { TRUE, WaiterQueue, releaseOne } from '../core/queue.js';
import { type Guard, guarded, heldGuard, runGuarded } from '../guard.js';
import { SEMAPHORE, arrived, sharedMemory } from './memory.js';
import {
  DEAD,
  GRANTED,
  POLLING,
  POLL_MAX,
  RESERVED,
  SEATS,
  STATE,
  WAITING,
  before,
  canWaitAsync,
  newTicket,
  sleep,
  takeSeat,
  pollAfter,
} from './seats.js';
import { assertMayBlock, holdThread, lookBeforeDeadlines, releaseThread } from './word.js';

/** The free permits, in the state word. */
const PERMITS = 0x01ffffff;
/** The most permits a shared semaphore holds. */
const MAX = PERMITS;
/** One counted seat, in the state word. */
const ONE = 0x02000000;
/** Bits 25..30 of the state word: the seats counted. */
const COUNT = 0x7e000000;
/** A seat granted whose thread had no more need: uncounted, unlike GRANTED (a seat state, see seats.ts). */
const SERVED = 7;
/**
 * Bits 0..14 of a seat's grants word (SEATS words after the seat): its thread's local waiters that a grant
 * to the seat would not cover yet.
 */
const NEED = 0x7fff;
/** One extra permit handed to a GRANTED seat, in bits 16..31 of its grants word. */
const EXTRA = 0x10000;
/** The most need a thread puts in its grants word between two claims (so need and extras stay small). */
const MOST_NEED = 0x3fff;

/**
 * A {@link Semaphore} whose state lives in a `SharedArrayBuffer`, so the tasks of every thread holding the
 * buffer (Node `worker_threads`, browser Web Workers) share one set of permits, with no messages. Post
 * the semaphore itself to another thread and rebuild it there with {@link SharedSemaphore.from} (or post
 * `buffer` and `byteOffset` and call `new SharedSemaphore(value, buffer, byteOffset)`: only the object
 * that finds the memory fresh sets the value; the others join the semaphore as it is).
 *
 * Order: FIFO across threads (by the time each thread's first waiter arrived), FIFO within a thread; a
 * permit released while a waiter of any thread is queued goes to the longest-waiting thread (or to a
 * thread handed one already, for its next waiter), never to a newcomer (but in the instant a thread
 * joins the line, as with `SharedLock`), and a waiter gets a permit after
 * at most one hand-off per other thread ahead of it, while at most 32 threads wait at once. Like
 * `Semaphore`, it does not track who holds a permit. A waiter that times out or is aborted, or whose
 * thread is terminated, holds nobody up and never absorbs a permit; a thread terminated while it holds a
 * permit keeps it, and so does one handed a permit in the instant before the engine drops a terminated
 * thread's waiters (with, if it had more waiters queued, the permits released while no other thread
 * waited, one per such waiter). `acquire()` never blocks the thread; `acquireSync()` does.
 *
 * @example
 * ```ts
 * // main thread: at most 2 workers use the device at once
 * import { SharedSemaphore } from 'awaitable-event';
 * const device = new SharedSemaphore(2);
 * for (let i = 0; i < 4; i++) new Worker('./worker.js', { workerData: { device } });
 *
 * // worker.js
 * const device = SharedSemaphore.from(workerData.device);
 * await device.runExclusive(() => useDevice());
 * ```
 */
export class SharedSemaphore {
  /**
   * Bytes one semaphore occupies in a buffer (268, a multiple of 4); several primitives of one buffer sit
   * at offsets that far apart.
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(2 * SharedSemaphore.BYTES);
   * const [a, b] = [0, 1].map((i) => new SharedSemaphore(3, buffer, i * SharedSemaphore.BYTES));
   * ```
   */
  static readonly BYTES: number = 268; // 4 * (2 + 2 * SEATS + 1): a literal, so bundlers see no side effect

  /**
   * The semaphore over the memory of `value`: a `SharedSemaphore` posted from another thread (what
   * arrives is its structured clone, a plain object with its `buffer` and `byteOffset`), or a
   * `SharedSemaphore` of this thread. Returns this thread's live semaphore over that memory when there is
   * one (`value` itself, for a `SharedSemaphore` of this thread), else a new one, with the permits the
   * semaphore has now.
   *
   * @throws `TypeError` naming what is wrong and showing it when `value` is not an object, has no
   *   `SharedArrayBuffer` as `buffer` or no valid `byteOffset` in it, or its memory holds no semaphore
   *   (another kind of primitive, or none).
   *
   * @example
   * ```ts
   * // main thread
   * const device = new SharedSemaphore(2);
   * worker.postMessage({ device });
   *
   * // worker
   * parentPort.once('message', async (data) => {
   *   const device = SharedSemaphore.from(data.device);
   *   await device.runExclusive(() => useDevice());
   * });
   * ```
   */
  static from(value: unknown): SharedSemaphore {
    if (value instanceof SharedSemaphore) return value;
    const at = arrived<SharedSemaphore>(SEMAPHORE, value);
    return at.live ?? new SharedSemaphore(0, at.buffer, at.byteOffset);
  }

  /**
   * The shared memory holding the semaphore. A posted semaphore carries it (with
   * {@link SharedSemaphore.byteOffset}), as its structured clone keeps exactly these two properties.
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES + 4); // a semaphore and a counter
   * const pool = new SharedSemaphore(3, buffer);
   * const counter = new Int32Array(pool.buffer, SharedSemaphore.BYTES, 1);
   * ```
   */
  readonly buffer: SharedArrayBuffer;

  /**
   * Where in {@link SharedSemaphore.buffer} the semaphore's words start.
   *
   * @example
   * ```ts
   * const same = new SharedSemaphore(3, pool.buffer, pool.byteOffset);
   * ```
   */
  readonly byteOffset: number;

  readonly #words: Int32Array;
  /** Index of the state word; the ticket counter follows, then the seats. */
  readonly #at: number;
  readonly #waiters = new WaiterQueue();
  /** Word index of this object's seat, or -1. */
  #seat = -1;
  /** What this object last wrote in its seat: RESERVED(t), or WAITING(t) / POLLING(t) while published. */
  #mine = 0;
  #published = false;
  /** Whether this object is counted in the state word (from counting itself until its seat is out of line). */
  #counted = false;
  /** The need this object put in its grants word since it last cleared it. */
  #asked = 0;
  /** The pending engine waiter on the seat (its identity), or undefined. */
  #armed: object | undefined = undefined;
  #poll: ReturnType<typeof setTimeout> | undefined = undefined;
  #delay = 1;
  #holdsThread = false;
  readonly #tryNow = () => this.#waiters.size === 0 && this.#take();
  readonly #look = () => this.#check();
  readonly #onPoll = () => {
    this.#poll = undefined;
    this.#delay = Math.min(this.#delay * 2, POLL_MAX);
    this.#check();
  };
  static #prototypeReady = false;

  /**
   * @param value - the number of permits, a whole number from 0 to 33,554,431 (default 1). Used only
   *   where the memory is fresh (all zero): over memory that already holds a semaphore (built by another
   *   thread, or by this one), the object joins it with the permits it has now.
   * @param buffer - the shared memory to use; omitted, a new `SharedArrayBuffer` of
   *   {@link SharedSemaphore.BYTES} bytes.
   * @param byteOffset - where the semaphore's words start in `buffer`: a multiple of 4, default 0.
   * @throws `TypeError` when `value` is not a number, `RangeError` when it is negative, fractional, NaN or
   *   beyond 33,554,431; for `buffer` and `byteOffset`, the errors `SharedLock` gives (a buffer that is not
   *   a `SharedArrayBuffer`, an offset that is not a multiple of 4 or leaves no room, words overlapping
   *   another primitive this thread built on `buffer`).
   *
   * @example
   * ```ts
   * const pool = new SharedSemaphore(3);                                // a new buffer, 3 permits
   * const again = new SharedSemaphore(3, pool.buffer, pool.byteOffset); // the same one, e.g. in a worker
   * ```
   */
  constructor(value: number = 1, buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    const initial = readCount(value, 'value', 0);
    if (initial > MAX) throw new RangeError(`value must be at most ${MAX}, got ${initial}`);
    // The initial permits, written only where the memory is fresh (see the protocol).
    const memory = sharedMemory(SEMAPHORE, buffer, byteOffset, this, (words, at) => Atomics.store(words, at, initial));
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    this.#words = memory.words;
    this.#at = memory.index;
    this.#waiters.onEmpty = () => this.#idle();
    if (!SharedSemaphore.#prototypeReady) SharedSemaphore.#prepare();
  }

  /**
   * The number of permits free now, for every thread. While any thread waits, 0 (but for an instant
   * while a release and a thread joining the line cross).
   *
   * @example
   * ```ts
   * console.log(`${pool.value} slots free`);
   * ```
   */
  get value(): number {
    return Atomics.load(this.#words, this.#at) & PERMITS;
  }

  /**
   * Sets up the prototype, on the first semaphore made, not in the class body (see core/inspect.ts).
   * In a function of its own: a closure made in the constructor would share its scope, and keep that
   * first object (and its buffer) alive for ever.
   */
  static #prepare(): void {
    SharedSemaphore.#prototypeReady = inspectable(SharedSemaphore.prototype, 'SharedSemaphore', (s) => ({
      value: s.value,
      waiters: s.#waiters.size,
    }));
  }

  /**
   * Whether `acquire()` would have to wait: no permit is free, or a task of this thread is queued ahead.
   *
   * @example
   * ```ts
   * if (pool.locked()) console.log('every slot is busy');
   * ```
   */
  locked(): boolean {
    return this.value === 0 || this.#waiters.size > 0;
  }

  /**
   * Takes a permit: at once when one is free and nobody on this thread is queued, else in turn (FIFO
   * across threads, then within a thread).
   *
   * Cancel safety: a waiter that times out or is aborted gives up its place at once and never holds a
   * permit afterwards (if one reached it first, it is passed on); once `acquire()` has resolved `true`,
   * the caller holds a permit and must release it. A Node worker with a pending `acquire()` stays alive
   * until it settles.
   *
   * @example
   * ```ts
   * await pool.acquire();
   * try {
   *   await useDevice();
   * } finally {
   *   pool.release();
   * }
   * ```
   */
  acquire(): Promise<true>;
  /**
   * Takes a permit, or gives up after `timeout` milliseconds (`false`: none taken). `0` or less only
   * takes a free permit.
   *
   * @example
   * ```ts
   * if (await pool.acquire(100)) {
   *   try { await useDevice(); } finally { pool.release(); }
   * }
   * ```
   */
  acquire(timeout: number): Promise<boolean>;
  /**
   * Takes a permit, unless the timeout runs out first (`false`) or the signal aborts (rejects with
   * `signal.reason`).
   *
   * @example
   * ```ts
   * await pool.acquire({ signal: shutdown.signal });
   * ```
   */
  acquire(options: WaitOptions): Promise<boolean>;
  /**
   * Takes a permit, with an optional timeout (ms) or options: the form to forward an argument that may
   * be either, or absent.
   *
   * @example
   * ```ts
   * const take = (timeout?: number) => pool.acquire(timeout);
   * ```
   */
  acquire(arg?: number | WaitOptions): Promise<boolean>;
  acquire(arg?: number | WaitOptions): Promise<boolean> {
    if (arg === undefined && this.#tryNow()) return TRUE;
    const before = this.#waiters.size;
    const promise = park(this.#waiters, arg, this.#tryNow);
    if (this.#waiters.size > before) this.#joined();
    lookBeforeDeadlines(this.#waiters, this.#look); // a grant not delivered yet goes to the first waiter
    return promise;
  }

  /**
   * Takes a permit, blocking the whole thread until one comes or `timeout` milliseconds pass. Only where
   * `Atomics.wait` is allowed: Node's main thread, Node workers and Web Workers, not a browser page's
   * main thread. It blocks every task of the thread: a permit only a task of the same thread would
   * release never comes; give it a timeout there. A permit that comes to this thread while it blocks goes
   * to acquireSync, ahead of the thread's async waiters (which cannot run before it returns).
   *
   * @param timeout - milliseconds; omitted or `Infinity` waits for ever, `0` or less only takes a free
   *   permit.
   * @returns `true` when a permit was taken, `false` when the timeout ran out first.
   * @throws `Error` where the thread may not block (use `await pool.acquire()` there); `TypeError` /
   *   `RangeError` for a timeout that is not a number / NaN.
   *
   * @example
   * ```ts
   * // in a worker
   * if (pool.acquireSync(1_000)) {
   *   try { useDevice(); } finally { pool.release(); }
   * }
   * ```
   */
  acquireSync(timeout?: number): boolean {
    const ms = timeout === undefined ? Infinity : readTimeout(timeout, 'timeout');
    assertMayBlock('SharedSemaphore.acquireSync()', 'await semaphore.acquire()');
    if (this.#take()) return true;
    if (ms <= 0) return false;
    // Published for async waiters: this call is served first now, one more waiter than the seat asked for.
    if (this.#published) this.#ask(1);
    const words = this.#words;
    const deadline = monotonic() + ms;
    let poll = 1;
    for (;;) {
      const left = deadline - monotonic();
      if (!this.#published) {
        if (this.#seat < 0 && !this.#sit()) {
          // Every seat is taken: try for a permit (and a seat) again after 1 ms, doubling up to 32 ms.
          if (left <= 0) return false;
          sleep(Math.min(left, poll));
          poll = Math.min(poll * 2, POLL_MAX);
          if (this.#take()) return true;
          continue;
        }
        const held = this.#publish(this.#waiters.size);
        if (held > 0) return this.#claimedSync(held);
        continue; // published, or out of line again: look again
      }
      const mine = this.#mine;
      if (left <= 0) {
        if (this.#waiters.size === 0) {
          return this.#claimedSync(this.#withdraw()); // handed permits at the deadline: ours
        }
        // The seat stays published for the async waiters, with an engine waiter of theirs: this call may
        // have published it on a new seat, where none is armed yet (a grant would find it gone).
        if (this.#armed === undefined) this.#arm();
        return false;
      }
      const seat = this.#seat;
      Atomics.wait(words, seat, mine, left);
      const held = Atomics.load(words, seat) !== mine ? this.#moved() : 0;
      if (held > 0) return this.#claimedSync(held);
    }
  }

  /**
   * acquireSync holds `held` permits (none: it gave up): it keeps one, the async waiters of the thread get
   * the rest in turn.
   */
  #claimedSync(held: number): boolean {
    this.#serve(held - 1);
    return this.#doneSync(held > 0);
  }

  /**
   * Takes a permit now if one is free and this thread has nobody queued for one, and returns `true`;
   * otherwise takes nothing and returns `false` (as `acquire(0)` would resolve).
   *
   * @example
   * ```ts
   * if (pool.tryAcquire()) {
   *   try { useDevice(); } finally { pool.release(); }
   * } else {
   *   console.log('busy: try later');
   * }
   * ```
   */
  tryAcquire(): boolean {
    return this.#tryNow();
  }

  /**
   * Like {@link SharedSemaphore.tryAcquire}, as a {@link Guard} that gives the permit back once, or
   * `undefined` when none is free now (`using` accepts both).
   *
   * @example
   * ```ts
   * using guard = pool.tryLock();
   * if (guard !== undefined) useDevice();
   * ```
   */
  tryLock(): Guard | undefined {
    return this.#tryNow() ? heldGuard(() => this.release()) : undefined;
  }

  /**
   * Gives back `n` permits, one at a time to the longest-waiting threads (the first waiter of each);
   * those nobody waits for become free. Like `Semaphore`, it may add permits beyond the initial value.
   *
   * @param n - how many permits, a whole number of at least 1 (default 1).
   * @throws `TypeError` when `n` is not a number, `RangeError` when it is below 1, fractional, NaN or
   *   infinite, or when the free permits would exceed 33,554,431 (nothing is given back then).
   *
   * @example
   * ```ts
   * pool.release();
   * gate.release(3); // lets three waiters through, on any threads
   * ```
   */
  release(n: number = 1): void {
    if (n !== 1) readCount(n, 'n', 1);
    const words = this.#words;
    const at = this.#at;
    if (n > MAX - (Atomics.load(words, at) & PERMITS)) this.#tooMany(n);
    // The hand-off's path, in one function (no calls before the notify). k: the permits still to give;
    // loose: one was let go for a counted thread not yet published, and we look again.
    let k = n;
    let loose = false;
    for (;;) {
      const newest = Atomics.load(words, at + 1); // the last ticket given, read before the count (see the scan)
      const w = Atomics.load(words, at);
      if ((w & COUNT) === 0 && !loose) {
        if (k > MAX - (w & PERMITS)) this.#tooMany(k); // only when releases of other threads crossed ours
        if (Atomics.compareExchange(words, at, w, w + k) === w) return;
        continue;
      }
      // The published seat with the oldest ticket, and a granted one whose thread has waiters its grant
      // does not cover. The scan stops once it has seen as many seats ticketed no later than `newest` as
      // `w` counts (see SharedLock's protocol; a granted seat stays counted until claimed).
      let left = (w & COUNT) / ONE;
      let seat = -1;
      let v = 0;
      let needy = -1;
      let g = 0;
      for (let i = 0, s = at + 2; i < SEATS && left > 0; i++, s++) {
        const x = Atomics.load(words, s);
        const state = x & STATE;
        if (state === WAITING || state === POLLING) {
          if (seat < 0 || before(x & ~STATE, v & ~STATE)) {
            seat = s;
            v = x;
          }
        } else if (state !== GRANTED) continue;
        else if (needy < 0 && (Atomics.load(words, s + SEATS) & NEED) !== 0) {
          needy = s;
          g = x;
        }
        if (!before(newest, x & ~STATE)) left--;
      }
      if (loose) {
        // We let a permit go and looked again: take one back for a seat published (or in need) meanwhile.
        loose = false;
        if ((seat >= 0 || needy >= 0) && this.#take()) k++;
        if (k === 0) return;
        continue;
      }
      if (seat < 0 && needy >= 0) {
        // Nobody waits unserved but a thread granted a permit, not running yet, with more waiters queued:
        // this permit goes to that seat too, an extra grant its thread claims with the first.
        if (this.#extra(needy, g) && --k === 0) return;
        continue;
      }
      if (seat < 0) {
        // Counted seats not published yet: let one permit go, then look again (see the protocol).
        if ((w & PERMITS) === MAX) this.#tooMany(k);
        if (Atomics.compareExchange(words, at, w, w + 1) === w) {
          k--;
          loose = true;
        }
        continue;
      }
      if (seat === this.#seat && v === this.#mine) {
        // Our own seat (with our ticket: not one taken for gone and reused): straight to our first
        // waiter; the engine waiter stays armed. Out of line with a compare-exchange, for a release on
        // another thread may grant the seat meanwhile (then its permit reaches us as a grant, and ours
        // goes on).
        if (this.#unpublish()) {
          this.#handOff();
          this.#ensure();
          if (--k === 0) return;
        }
        continue;
      }
      const t = v & ~STATE;
      // Granted and still counted while its thread has more waiters queued (the need its grants word
      // shows), else served and uncounted; a need that came meanwhile counts it again (see the protocol).
      const need = (Atomics.load(words, seat + SEATS) & NEED) !== 0;
      let granted = t | (need ? GRANTED : SERVED);
      if (Atomics.compareExchange(words, seat, v, granted) === v) {
        if (!need) {
          Atomics.sub(words, at, ONE);
          if ((Atomics.load(words, seat + SEATS) & NEED) !== 0) {
            // Counted before it shows GRANTED, for a scan counts every GRANTED seat it sees.
            Atomics.add(words, at, ONE);
            if (Atomics.compareExchange(words, seat, granted, t | GRANTED) === granted) granted = t | GRANTED;
            else Atomics.sub(words, at, ONE); // its thread counted it again first
          }
        }
        // A polling seat's thread may be blocked in acquireSync: notify it too, but waking nobody
        // proves nothing.
        if (Atomics.notify(words, seat) > 0 || (v & STATE) === POLLING) {
          if (--k === 0) return;
          continue;
        }
        // Nobody waits on that seat: its thread is gone. Its grants word first (closed: no extra comes
        // any more; those that came are ours to pass on), then the grant back, unless it was claimed.
        k += Atomics.exchange(words, seat + SEATS, 0) >>> 16;
        if (Atomics.compareExchange(words, seat, granted, t | DEAD) !== granted) k--;
        else if (granted === (t | GRANTED)) Atomics.sub(words, at, ONE);
        if (k === 0) return;
      }
      // The seat changed meanwhile, or its thread is gone: the permit is still ours to pass on.
    }
  }

  /**
   * Hands one permit to the GRANTED seat at `seat`, seen as `granted` with need: true when handed, false
   * when it is still ours (the need went, or the seat moved on before the permit landed).
   */
  #extra(seat: number, granted: number): boolean {
    const words = this.#words;
    const at = seat + SEATS;
    const x = Atomics.load(words, at);
    if ((x & NEED) === 0 || Atomics.compareExchange(words, at, x, x + EXTRA - 1) !== x) return false;
    // Still the grant we saw: its thread claims our permit with it. Else the seat moved on (claimed,
    // taken for gone, or published again): take the permit back, unless whoever closed the word has it.
    if (Atomics.load(words, seat) === granted) return true;
    for (let y = Atomics.load(words, at); y >>> 16 !== 0;) {
      const seen = Atomics.compareExchange(words, at, y, y - EXTRA + 1);
      if (seen === y) return false;
      y = seen;
    }
    return true;
  }

  #tooMany(n: number): never {
    throw new RangeError(
      `SharedSemaphore.release(${n}) would make more than ${MAX} permits free (${this.value} free now)`,
    );
  }

  /**
   * Runs `fn` holding a permit and gives it back afterwards, however `fn` ends.
   *
   * @param options - a timeout (ms), or `{ timeout, signal }`, for taking the permit.
   * @returns what `fn` returns (awaited).
   * @throws rejects with {@link TimeoutError} when the timeout passes before a permit is taken, with
   *   `signal.reason` when the signal aborts first, with `TypeError` when `fn` is not a function.
   *
   * @example
   * ```ts
   * const frame = await pool.runExclusive(() => camera.capture(), 1_000);
   * ```
   */
  async runExclusive<T>(fn: () => T | PromiseLike<T>, options?: number | WaitOptions): Promise<T> {
    checkFunction(fn, 'fn');
    return runGuarded(this.#guard(options, 'SharedSemaphore.runExclusive()'), fn);
  }

  /**
   * Takes a permit like `acquire()`, as a {@link Guard} that gives it back once: with `using`, at the end
   * of the block.
   *
   * @param options - a timeout (ms), or `{ timeout, signal }`.
   * @throws rejects with {@link TimeoutError} when the timeout passes before a permit is taken, with
   *   `signal.reason` when the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await pool.lock(1_000);
   *   await useDevice();
   * } // the permit is back here
   * ```
   */
  lock(options?: number | WaitOptions): Promise<Guard> {
    return this.#guard(options, 'SharedSemaphore.lock()');
  }

  #guard(options: unknown, method: string): Promise<Guard> {
    return guarded(
      (o) => this.acquire(o),
      () => this.release(),
      options,
      method,
      'a permit',
    );
  }

  get [Symbol.toStringTag](): string {
    return 'SharedSemaphore';
  }

  /** Takes a free permit. */
  #take(): boolean {
    const words = this.#words;
    const at = this.#at;
    for (let w = Atomics.load(words, at); (w & PERMITS) !== 0;) {
      const seen = Atomics.compareExchange(words, at, w, w - 1);
      if (seen === w) return true;
      w = seen;
    }
    return false;
  }

  /** A local waiter joined (queued): keep the thread alive and make sure this object is in line. */
  #joined(): void {
    if (!this.#holdsThread) {
      this.#holdsThread = true;
      holdThread();
    }
    if (!this.#published) return this.#ensure();
    // In line already: one more waiter a grant to the seat would not cover. Granted meanwhile and
    // served (uncounted, for want of need), the seat is counted again. And a release may have let a
    // permit go just before, seeing no need of ours: it goes through release again, which sees it.
    this.#ask(1);
    const words = this.#words;
    const seat = this.#seat;
    const t = this.#mine & ~STATE;
    if (Atomics.load(words, seat) === (t | SERVED)) {
      // Counted before it shows GRANTED, for a scan counts every GRANTED seat it sees.
      Atomics.add(words, this.#at, ONE);
      if (Atomics.compareExchange(words, seat, t | SERVED, t | GRANTED) === (t | SERVED)) this.#counted = true;
      else Atomics.sub(words, this.#at, ONE); // the release counted it again first
    }
    if (this.#take()) this.release();
  }

  /** While there are local waiters and this object is not in line: take a seat, arm, publish. */
  #ensure(): void {
    while (this.#waiters.size > 0 && !this.#published) {
      if (this.#seat < 0 && !this.#sit()) {
        if (this.#take()) {
          this.#handOff();
          continue;
        }
        return this.#startPolling(); // every seat is taken: look again later
      }
      this.#delay = 1; // a new wait in line: polling (where there is no waitAsync) starts at 1 ms again
      this.#arm();
      this.#serve(this.#publish(this.#waiters.size - 1));
    }
  }

  #sit(): boolean {
    const at = takeSeat(this.#words, this.#at + 2, 1);
    if (at < 0) return false;
    this.#seat = at;
    this.#mine = RESERVED;
    this.#delay = 1;
    return true;
  }

  /** Registers the engine waiter on the (not published) seat, or polls where there is no waitAsync. */
  #arm(): void {
    if (!canWaitAsync()) return this.#startPolling();
    if (this.#armed !== undefined) return;
    const token = {};
    const result = Atomics.waitAsync(this.#words, this.#seat, this.#mine);
    // The seat is ours and unpublished, or published and seen unmoved just now: 'not-equal' is a move.
    if (!result.async) return void Promise.resolve().then(() => this.#check());
    this.#armed = token;
    void result.value.then(() => {
      if (this.#armed !== token) return;
      this.#armed = undefined;
      this.#check();
    });
  }

  /**
   * Counts this object in (unless it still is) and publishes its seat, asking for `want` waiters beyond
   * the one a grant serves. Returns the permits it holds instead, for its waiters: 1 when it found one
   * free, 1 and the extras when it was granted as it published; 0 otherwise: published, or, taken for
   * gone as it published, out of line again (uncounted; seat RESERVED, or lost): the caller looks again.
   */
  #publish(want: number): number {
    const words = this.#words;
    const at = this.#at;
    const seat = this.#seat;
    if (!this.#counted) {
      for (;;) {
        const w = Atomics.load(words, at);
        if ((w & PERMITS) !== 0) {
          if (Atomics.compareExchange(words, at, w, w - 1) === w) return 1;
        } else if (Atomics.compareExchange(words, at, w, w + ONE) === w) break;
      }
      this.#counted = true;
    }
    for (;;) {
      this.#ask(want); // before the seat shows WAITING: a grant finds it
      const mine = newTicket(words, at + 1) | (canWaitAsync() ? WAITING : POLLING);
      Atomics.store(words, seat, mine);
      this.#mine = mine;
      this.#published = true;
      let w = Atomics.load(words, at);
      if ((w & PERMITS) === 0) return 0;
      // A permit was let go since we counted ourselves. Out of line first: a release may have granted
      // our seat meanwhile (then, finding no engine waiter, taken it for gone).
      const reserved = (mine & ~STATE) | RESERVED;
      if (Atomics.compareExchange(words, seat, mine, reserved) !== mine) return this.#moved();
      this.#mine = reserved;
      this.#published = false;
      this.#clearNeed();
      // Still counted and seen by nobody: take the permit, uncounting, or publish again behind its taker.
      for (; (w & PERMITS) !== 0; w = Atomics.load(words, at)) {
        if (Atomics.compareExchange(words, at, w, w - 1 - ONE) === w) {
          this.#counted = false;
          return 1;
        }
      }
    }
  }

  /** Adds `n` waiters to our seat's need (MOST_NEED at most since it was cleared). */
  #ask(n: number): void {
    const k = Math.min(n, MOST_NEED - this.#asked);
    if (k === 0) return;
    this.#asked += k;
    Atomics.add(this.#words, this.#seat + SEATS, k);
  }

  /**
   * Clears our seat's need, out of line now: no extra comes any more. One that lands meanwhile is taken
   * back by its release, for the seat is not the grant it saw.
   */
  #clearNeed(): void {
    this.#asked = 0;
    Atomics.and(this.#words, this.#seat + SEATS, ~NEED);
  }

  /**
   * Takes our published seat out of line (WAITING(t) → RESERVED(t), uncounted) if it has not moved;
   * false when it has (granted by another thread's release: our #check claims it).
   */
  #unpublish(): boolean {
    const mine = this.#mine;
    const reserved = (mine & ~STATE) | RESERVED;
    if (Atomics.compareExchange(this.#words, this.#seat, mine, reserved) !== mine) return false;
    Atomics.sub(this.#words, this.#at, ONE);
    this.#counted = false;
    this.#clearNeed();
    this.#mine = reserved;
    this.#published = false;
    return true;
  }

  /**
   * We hold a permit for our local queue: its first waiter gets it. The queue is never empty here: we
   * hand off only while there are waiters, and a queue that empties takes its seat out of line at once
   * (#idle).
   */
  #handOff(): void {
    releaseOne(this.#waiters, true);
  }

  /** We hold `n` permits for our local queue: its first waiters get them in turn; the rest go on. */
  #serve(n: number): void {
    for (; n > 0 && this.#waiters.size > 0; n--) this.#handOff();
    if (n > 0) this.release(n); // the queue emptied: out of line already (#idle)
  }

  /**
   * Our published seat moved: claims a grant (GRANTED(t) → RESERVED(t), still counted) and the extras
   * with it, returning the permits we hold, or, taken for gone, takes the seat back or drops it (0).
   * Either way this object is no longer published.
   */
  #moved(): number {
    const words = this.#words;
    const at = this.#seat;
    const t = this.#mine & ~STATE;
    this.#published = false;
    // SERVED first: a seat goes from SERVED to GRANTED, never back.
    const served = Atomics.compareExchange(words, at, t | SERVED, t | RESERVED) === (t | SERVED);
    if (served || Atomics.compareExchange(words, at, t | GRANTED, t | RESERVED) === (t | GRANTED)) {
      if (served) this.#counted = false; // its granter uncounted it
      this.#mine = t | RESERVED;
      this.#asked = 0;
      return 1 + (Atomics.exchange(words, at + SEATS, 0) >>> 16);
    }
    // Taken for gone: the release that did it uncounted us and closed our grants word.
    this.#counted = false;
    this.#asked = 0;
    if (Atomics.compareExchange(words, at, t | DEAD, t | RESERVED) === (t | DEAD)) this.#mine = t | RESERVED;
    else this.#dropSeat(); // someone took the dead seat meanwhile
    return 0;
  }

  /** Forgets a seat that is not ours any more. */
  #dropSeat(): void {
    this.#seat = -1;
    this.#armed = undefined;
  }

  /** Woken (or polled): claims a grant, or re-arms, or gets back in line. */
  #check(): void {
    if (this.#seat >= 0 && this.#published) {
      if (Atomics.load(this.#words, this.#seat) === this.#mine) return this.#arm(); // nothing for us yet
      this.#serve(this.#moved()); // #ensure re-arms before it publishes again
    }
    this.#ensure();
  }

  /** Done with acquireSync: leaves the seat if no async waiter needs it, else gets them in line. */
  #doneSync(result: boolean): boolean {
    if (this.#waiters.size === 0) {
      this.#leave();
      return result;
    }
    // Back in line at once, with an engine waiter of their own: the one armed for them was woken with
    // the grant acquireSync claimed (its wake-up, queued, finds itself replaced).
    this.#armed = undefined;
    this.#ensure();
    return result;
  }

  /**
   * Takes our seat out of line as its waiters gave up; returns the permits handed to it first (the caller
   * now holds them).
   */
  #withdraw(): number {
    if (!this.#published || this.#unpublish()) return 0;
    return this.#moved();
  }

  /**
   * Gives the seat back, uncounted: our engine waiter notified away first, so the next owner's count is
   * its own.
   */
  #leave(): void {
    const at = this.#seat;
    if (at < 0) return;
    if (this.#counted) {
      this.#counted = false;
      Atomics.sub(this.#words, this.#at, ONE);
    }
    if (this.#armed !== undefined) Atomics.notify(this.#words, at);
    this.#armed = undefined;
    Atomics.compareExchange(this.#words, at, this.#mine, 0);
    this.#seat = -1;
  }

  #startPolling(): void {
    if (this.#poll === undefined) this.#poll = pollAfter(this.#onPoll, this.#delay);
  }

  /** The last local waiter left: out of line (passing on permits handed to us meanwhile), let go. */
  #idle(): void {
    const held = this.#withdraw();
    this.#leave();
    if (held > 0) this.release(held);
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
