/*
 * SharedLock: one lock, seen by every thread that maps its words of shared memory.
 *
 * # The words (SharedLock.BYTES = 140)
 *
 *     lock      bit 0: LOCKED (someone holds the lock, or it is being handed to a seat);
 *               bits 1..31: COUNT, the seats counted as waiting (each adds 2)
 *     tickets   the ticket counter (seats.ts)
 *     seat k    (32 words) ticket | state: FREE, RESERVED, WAITING, POLLING, GRANTED or DEAD
 *     kind      says the memory holds a SharedLock (memory.ts)
 *
 * The thread, not each waiter, takes a place in line: a lock object with local waiters holds exactly one
 * seat, and its local FIFO queue stands behind it. Invariant: a lock that is not LOCKED has no seat
 * GRANTED.
 *
 * # Who writes what
 *
 * - acquire, the lock free: lock → lock | LOCKED (a compare-exchange). Taken.
 * - A thread whose first local waiter arrives while the lock is held takes a seat (FREE or DEAD →
 *   RESERVED(t), a ticket of its own), REGISTERS ITS ENGINE WAITER ON THE SEAT WORD (`Atomics.waitAsync`
 *   on RESERVED(t)), then counts itself (lock → lock + 2, only while LOCKED; finding the lock free, it
 *   takes it instead), then publishes: RESERVED(t) → WAITING(ticket), a new ticket, by a
 *   compare-exchange (see "Seats of terminated threads"). Then it reads the lock word once more. If it
 *   is free now, a release let go meanwhile: it found the seat not yet published (below), or it granted
 *   the seat, uncounted it, woke nobody (a thread about to block in acquireSync has no engine waiter
 *   yet), took it for gone and let go. So the thread first takes its seat out of line with a
 *   compare-exchange (WAITING(t) → RESERVED(t)); only if that succeeds is it still counted, and it takes
 *   the lock uncounting itself in one step (lock → (lock | LOCKED) - 2), or, someone else having taken
 *   it, publishes again. If the seat moved, it claims the grant or, taken for gone, gets back in line.
 * - release: with COUNT 0, lock LOCKED → 0 (a compare-exchange, so a thread counting itself meanwhile
 *   either is seen or sees the lock free). Else it marks the oldest WAITING seat GRANTED
 *   (WAITING(t) → GRANTED(t)), uncounts it (lock - 2) and notifies the seat word: the lock stays
 *   LOCKED (a hand-off in flight counts as held). If the notify woke nobody, the seat's thread is gone
 *   (a terminated thread's engine waiters go with it): the releaser takes the grant back
 *   (GRANTED(t) → DEAD(t)) and offers the next seat. If COUNT > 0 but no seat is published yet (its
 *   thread is between counting and publishing), the releaser clears LOCKED, then looks at the seats
 *   again and takes the lock back to hand it over if one was published meanwhile: either it sees the
 *   seat, or the thread sees the lock free (the thread writes its seat before reading the lock, the
 *   releaser writes the lock before reading the seats). Nobody spins.
 * - To find the oldest seat, release reads the ticket counter first, then COUNT (in the lock word, as
 *   often as it reads it), then the seats in turn, and stops once it has seen COUNT published seats
 *   ticketed no later than the counter it read: it has seen them all then, for a thread counts itself
 *   before it takes its ticket and stays counted while published (the one exception, a thread taking a
 *   let-go lock as it publishes, un-publishes before it takes that lock). A seat published
 *   during the look has a newer ticket: it does not count, and is younger than those. With one thread
 *   in line, release reads one seat, not 32.
 * - The owner, woken, claims its grant (GRANTED(t) → RESERVED(t)): its first local waiter has the lock.
 *   If it still has local waiters, it re-arms its engine waiter and publishes again, with a new ticket
 *   (at the back of the line); else it leaves the seat, with no engine waiter to notify away. A thread
 *   blocked in acquireSync with no async waiter and no engine waiter claims and leaves in one step
 *   (GRANTED(t) → FREE).
 * - A releaser that finds its own seat (its index, with its ticket) the oldest hands the lock to its
 *   local waiter directly.
 * - Before a deadline of its local waiters expires, the thread looks at its seat as if woken: a grant
 *   whose wake-up is not delivered yet (a thread busy past the deadline runs its timers first) goes to
 *   its first waiter, never dropped.
 * - A thread whose local queue empties (its waiters timed out or were aborted) withdraws at once, on
 *   its own thread: WAITING(t) → RESERVED(t), lock - 2. If the seat was GRANTED first, it claims the
 *   lock and releases it (passes it on) right there. Then it leaves the seat (notifies its own engine
 *   waiter away, seat → FREE). So a thread that gave up never holds anyone up, even when it is busy
 *   afterwards.
 * - acquireSync publishes the same way and blocks in `Atomics.wait` on its seat word (counted by the
 *   releaser's notify, so a thread terminated while blocked is skipped too). A grant that reaches a
 *   thread blocked in acquireSync goes to acquireSync: the thread's async waiters cannot run before. An
 *   acquireSync that times out while its thread has async waiters leaves the seat published for them,
 *   with their engine waiter armed on it (it may have moved to a new seat, where none was yet).
 *
 * # Why nothing is lost, and nobody dead holds the lock
 *
 * A published, live thread always has an engine waiter (or a blocked `Atomics.wait`) on its seat: it
 * registers before publishing, and re-arms before publishing again. So a notify that wakes nobody after
 * GRANTED means the thread is gone, and the grant is taken back by the compare-exchange that also
 * decides the owner's claim: exactly one of them wins. In two rare races a live thread can be taken for
 * gone (a grant's notify arriving late, after the thread that claimed it on its own left the seat and
 * another thread took it; or a thread blocked in acquireSync between two waits): the thread finds its
 * seat DEAD(t) when it next looks, takes it back (DEAD(t) → RESERVED(t)) or another seat, and queues
 * again at the back. Nothing is lost; only that turn is.
 *
 * # Seats of terminated threads
 *
 * A thread terminated while it waits leaves its seat WAITING: the next release's notify wakes nobody and
 * takes it back (DEAD). One terminated after it was woken for a grant leaves it GRANTED: see "Faults".
 * One terminated partway through its own steps leaves it RESERVED(t), where nobody notifies it: a
 * thread that finds every seat taken (and polls) takes a seat that showed it the very same RESERVED(t)
 * at each of its looks for STALE ms (1 s, seats.ts) for gone: RESERVED(t) → DEAD(t), a compare-exchange.
 * No release grants a RESERVED seat, so no grant is lost with it.
 *
 * A live thread keeps RESERVED(t) only within one synchronous step (take, arm, count, publish; claim,
 * hand off, publish again or leave), or, after acquireSync claimed a grant for a thread with async
 * waiters, until its event loop runs their wake-up: so only a thread busy or descheduled for STALE ms
 * can be taken for gone this way. Such a thread loses its turn, nothing else. Every write by which it
 * leaves RESERVED(t) is a compare-exchange from RESERVED(t), so it finds DEAD(t) (or another thread's
 * value, a ticket being each taker's own) instead:
 *
 * - publishing, it has counted itself already: it uncounts itself, and if the lock is free it takes it
 *   in the same step (lock → (lock | LOCKED) - 2; a release let go for its count, or its holder
 *   released: our seat never showed WAITING, so nobody can have granted it). Then it takes the seat back
 *   (DEAD(t) → RESERVED(t)) or, someone having taken it, drops it (its engine waiter notified away: the
 *   next owner's notifies count that owner's waiters only), and sits again, at the back of the line.
 * - leaving, its compare-exchange to FREE fails: DEAD is free for anyone already.
 *
 * A false verdict thus costs one turn, as the late-notify race above does, and the count stays exact:
 * the thread is counted exactly while it has not failed its publish.
 *
 * # Fairness
 *
 * FIFO across threads by the time each thread's first waiter arrived (its ticket), and FIFO within a
 * thread: a thread served goes to the back with its next waiter, so a waiter has at most one hand-off
 * per other thread ahead of it. This holds while at most 32 threads wait at once; a thread that finds
 * every seat taken polls (1 ms, doubling to 32 ms) for a free seat or a free lock, outside the line.
 * A waiter arriving while the lock is free takes it at once.
 *
 * # Faults and the polling fallback
 *
 * A thread terminated while it holds the lock, or after it was handed the lock and woken, leaves the
 * lock held, as with any mutex. In the second case its seat stays GRANTED after the lock is released on
 * its behalf, until a thread that holds the lock (no hand-off is in flight then, so no seat GRANTED is
 * live) sees it as it releases, or a thread that finds every seat taken takes the lock free: GRANTED(t)
 * → DEAD(t). A thread that counted itself and was terminated before it published leaves the count one
 * too high: nothing is lost (a release that finds fewer seats published than counted looks at every
 * seat, and lets go when there is none), only the one-seat look of release. Without
 * `Atomics.waitAsync`, a thread polls its seat (from 1 ms at each turn in line, doubling to 32 ms; the
 * seat is POLLING): no notify can tell whether it is alive, so a thread terminated while polling can be
 * handed the lock and keep it. A grant to a POLLING seat is notified all the same, for its thread may be
 * blocked in acquireSync (which publishes POLLING there too).
 */
import { type WaitOptions, checkFunction, readTimeout } from '../core/arguments.js';
import { monotonic } from '../core/clock.js';
import { inspectable } from '../core/inspect.js';
import { park } from '../core/park.js';
import { TRUE, WaiterQueue, releaseOne } from '../core/queue.js';
import { type Guard, guarded, runGuarded } from '../guard.js';
import { heldGuard } from '../guard.js';
import { LOCK, arrived, sharedMemory } from './memory.js';
import {
  DEAD,
  FREE,
  GRANTED,
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
import { assertMayBlock, holdThread, lookBeforeDeadlines, releaseThread } from './word.js';

/** Bit 0 of the lock word: held (or being handed over). */
const LOCKED = 1;
/** One counted seat, in the lock word. */
const ONE = 2;

/**
 * The key of a shared lock's internal `enter(then)`: takes the lock for `then`, at once when it is free,
 * else in turn (what a SharedCondition's waiter uses to get the lock back). Registered, so that two copies
 * of the package recognise each other's locks; versioned, so that another protocol never matches.
 */
const ENTER = /*#__PURE__*/ Symbol.for('awaitable-event/SharedLock.enter@2');

type Enter = (this: SharedLock, then: () => void) => void;

/** Whether `value` is a {@link SharedLock} of any build of this package. */
export function isSharedLock(value: unknown): value is SharedLock {
  return typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[ENTER] === 'function';
}

/** {@link SharedLock.from}, with messages naming `label` (e.g. "value.sharedLock") after `caller`. */
export function sharedLockFrom(value: unknown, label?: string, caller?: string): SharedLock {
  if (value instanceof SharedLock) return value;
  const at = arrived<SharedLock>(LOCK, value, label, caller);
  return at.live ?? new SharedLock(at.buffer, at.byteOffset);
}

/** Takes `lock` (of any build) for `then`: see {@link ENTER}. */
export function enterSharedLock(lock: SharedLock, then: () => void): void {
  (lock as unknown as Record<symbol, Enter>)[ENTER]!.call(lock, then);
}

/**
 * A {@link Lock} whose state lives in a `SharedArrayBuffer`, so the tasks of every thread holding the
 * buffer (Node `worker_threads`, browser Web Workers) share one lock, with no messages. Post the lock
 * itself to another thread and rebuild it there with {@link SharedLock.from} (or post `buffer` and
 * `byteOffset` and call `new SharedLock(buffer, byteOffset)`).
 *
 * Order: FIFO across threads (by the time each thread's first waiter arrived), FIFO within a thread;
 * a waiter gets the lock after at most one hand-off per other thread ahead of it, while at most 32
 * threads wait at once. Like `Lock`, it does not track who holds it: any thread may `release()` it. A
 * waiter that times out or is aborted, or whose thread is terminated, holds nobody up; a thread
 * terminated while it holds the lock leaves it held, as with any mutex. `acquire()` never blocks the
 * thread; `acquireSync()` does.
 *
 * @example
 * ```ts
 * // main thread
 * import { SharedLock } from 'awaitable-event';
 * const lock = new SharedLock();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * new Worker('./worker.js', { workerData: { lock, counter } });
 * await lock.runExclusive(() => counter[0]++);
 *
 * // worker.js
 * const lock = SharedLock.from(workerData.lock);
 * await lock.runExclusive(() => workerData.counter[0]++);
 * ```
 */
export class SharedLock {
  /**
   * Bytes one lock occupies in a buffer (140, a multiple of 4); several locks of one buffer sit at
   * offsets that far apart.
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(2 * SharedLock.BYTES);
   * const [a, b] = [0, 1].map((i) => new SharedLock(buffer, i * SharedLock.BYTES));
   * ```
   */
  static readonly BYTES: number = 140; // 4 * (2 + SEATS + 1): a literal, so bundlers see no side effect

  /**
   * The lock over the memory of `value`: a `SharedLock` posted from another thread (what arrives is its
   * structured clone, a plain object with its `buffer` and `byteOffset`), or a `SharedLock` of this thread.
   * Returns `value` itself for a `SharedLock` of this thread; for a clone, this thread's live lock at that
   * place of the same `SharedArrayBuffer` object when there is one (the objects of one message share their
   * buffers), else a new one (a primitive received in two messages rebuilds to two objects over the same
   * memory, which work together as two threads' do).
   *
   * @throws `TypeError` naming what is wrong and showing it when `value` is not an object, has no
   *   `SharedArrayBuffer` as `buffer` or no valid `byteOffset` in it, or its memory holds no lock
   *   (another kind of primitive, or none).
   *
   * @example
   * ```ts
   * // main thread
   * const lock = new SharedLock();
   * worker.postMessage({ lock });
   *
   * // worker
   * parentPort.once('message', async (data) => {
   *   const lock = SharedLock.from(data.lock);
   *   await lock.runExclusive(() => counter[0]++);
   * });
   * ```
   */
  static from(value: unknown): SharedLock {
    return sharedLockFrom(value);
  }

  /**
   * The shared memory holding the lock. A posted lock carries it (with {@link SharedLock.byteOffset}),
   * as its structured clone keeps exactly these two properties.
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(SharedLock.BYTES + 4); // a lock and a counter
   * const lock = new SharedLock(buffer);
   * const counter = new Int32Array(lock.buffer, SharedLock.BYTES, 1);
   * ```
   */
  readonly buffer: SharedArrayBuffer;

  /**
   * Where in {@link SharedLock.buffer} the lock's words start.
   *
   * @example
   * ```ts
   * const same = new SharedLock(lock.buffer, lock.byteOffset);
   * ```
   */
  readonly byteOffset: number;

  readonly #words: Int32Array;
  /** Index of the lock word; the ticket counter follows, then the seats. */
  readonly #at: number;
  readonly #waiters = new WaiterQueue();
  /** Word index of this object's seat, or -1. */
  #seat = -1;
  /** What this object last wrote in its seat: RESERVED(t), or WAITING(t) / POLLING(t) while published. */
  #mine = 0;
  #published = false;
  /** The pending engine waiter on the seat (its identity), or undefined. */
  #armed: object | undefined = undefined;
  #poll: ReturnType<typeof setTimeout> | undefined = undefined;
  #delay = 1;
  #holdsThread = false;
  /** What this object saw of the seats while it found them all taken (seats.ts), once it did. */
  #watch: Watch | undefined = undefined;
  /** RESERVED and a ticket not written anywhere yet, for the next seat this object takes, or 0. */
  #spare = 0;
  readonly #tryNow = () => this.#waiters.size === 0 && this.#tryLock();
  readonly #look = () => this.#check();
  readonly #onPoll = () => {
    this.#poll = undefined;
    this.#delay = Math.min(this.#delay * 2, POLL_MAX);
    this.#check();
  };
  static #prototypeReady = false;

  /**
   * @param buffer - the shared memory to use; omitted, a new `SharedArrayBuffer` of
   *   {@link SharedLock.BYTES} bytes (the lock free).
   * @param byteOffset - where the lock's words start in `buffer`: a multiple of 4, default 0.
   * @throws `TypeError` when `buffer` is not a `SharedArrayBuffer` (or shared memory is unavailable: in a
   *   browser, the page needs cross-origin isolation) or `byteOffset` is not a number; `RangeError` when
   *   `byteOffset` is not a multiple of 4 or does not leave room for the lock in `buffer`;
   *   `TypeError` when its words overlap those of another live primitive this thread built on `buffer`
   *   (the same primitive again, at the same offset, is fine). Keeping the layouts of different threads
   *   apart is the caller's part: a thread cannot see another's. A length beyond whole words is unused.
   *
   * @example
   * ```ts
   * const lock = new SharedLock();                              // a new buffer
   * const again = new SharedLock(lock.buffer, lock.byteOffset); // the same lock, e.g. in a worker
   * ```
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    const memory = sharedMemory(LOCK, buffer, byteOffset, this);
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    this.#words = memory.words;
    this.#at = memory.index;
    this.#waiters.onEmpty = () => this.#idle();
    if (!SharedLock.#prototypeReady) SharedLock.#prepare();
  }

  /**
   * Whether someone holds the lock, on any thread (a hand-off to a waiter in flight counts as held).
   *
   * @example
   * ```ts
   * if (!lock.locked()) console.log('free');
   * ```
   */
  locked(): boolean {
    return (Atomics.load(this.#words, this.#at) & LOCKED) !== 0;
  }

  /**
   * Sets up the prototype, on the first lock made, not in the class body (see core/inspect.ts): inspect
   * and ENTER.
   * In a function of its own: a closure made in the constructor would share its scope, and keep that
   * first object (and its buffer) alive for ever.
   */
  static #prepare(): void {
    SharedLock.#prototypeReady = inspectable(SharedLock.prototype, 'SharedLock', (l) => ({
      locked: l.locked(),
      waiters: l.#waiters.size,
    }));
    Object.defineProperty(SharedLock.prototype, ENTER, {
      value(this: SharedLock, then: () => void) {
        if (this.#tryNow()) return then();
        this.#waiters.add(then);
        this.#joined();
      },
    });
  }

  /**
   * Takes the lock: at once when it is free, else in turn (FIFO across threads, then within a thread).
   *
   * Cancel safety: a waiter that times out or is aborted gives up its place at once and never holds the
   * lock afterwards (if the lock reached it first, it is passed on); once `acquire()` has resolved
   * `true`, the caller holds the lock and must release it. A Node worker with a pending `acquire()` stays
   * alive until it settles.
   *
   * @example
   * ```ts
   * await lock.acquire();
   * try {
   *   await work();
   * } finally {
   *   lock.release();
   * }
   * ```
   */
  acquire(): Promise<true>;
  /**
   * Takes the lock, or gives up after `timeout` milliseconds (`false`: not acquired). `0` or less only
   * takes a free lock.
   *
   * @example
   * ```ts
   * if (await lock.acquire(100)) {
   *   try { await work(); } finally { lock.release(); }
   * }
   * ```
   */
  acquire(timeout: number): Promise<boolean>;
  /**
   * Takes the lock, unless the timeout runs out first (`false`) or the signal aborts (rejects with
   * `signal.reason`).
   *
   * @example
   * ```ts
   * await lock.acquire({ signal: shutdown.signal });
   * ```
   */
  acquire(options: WaitOptions): Promise<boolean>;
  /**
   * Takes the lock, with an optional timeout (ms) or options: the form to forward an argument that may
   * be either, or absent.
   *
   * @example
   * ```ts
   * const take = (timeout?: number) => lock.acquire(timeout);
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
   * Takes the lock, blocking the whole thread until it is free or `timeout` milliseconds pass. Only
   * where `Atomics.wait` is allowed: Node's main thread, Node workers and Web Workers, not a browser
   * page's main thread.
   *
   * It blocks every task of the thread: called while another task of the same thread holds the lock, it
   * deadlocks, as any mutex would; give it a timeout where the thread has other tasks using the lock.
   * When the lock comes to this thread while it blocks, acquireSync gets it, ahead of the thread's
   * async waiters (which cannot run before it returns).
   *
   * @param timeout - milliseconds; omitted or `Infinity` waits for ever, `0` or less only takes a free
   *   lock.
   * @returns `true` when the lock was taken, `false` when the timeout ran out first.
   * @throws `Error` where the thread may not block (use `await lock.acquire()` there); `TypeError` /
   *   `RangeError` for a timeout that is not a number / NaN.
   *
   * @example
   * ```ts
   * // in a worker
   * if (lock.acquireSync(1_000)) {
   *   try { counter[0]++; } finally { lock.release(); }
   * }
   * ```
   */
  acquireSync(timeout?: number): boolean {
    const ms = timeout === undefined ? Infinity : readTimeout(timeout, 'timeout');
    assertMayBlock('SharedLock.acquireSync()', 'await lock.acquire()');
    if (this.#tryLock()) return true;
    if (ms <= 0) return false;
    const words = this.#words;
    const deadline = monotonic() + ms;
    let poll = 1;
    for (;;) {
      const left = deadline - monotonic();
      if (!this.#published) {
        if (this.#seat < 0 && !this.#sit()) {
          // Every seat is taken: try the lock (and a seat) again after 1 ms, doubling up to 32 ms.
          if (left <= 0) return false;
          sleep(Math.min(left, poll));
          poll = Math.min(poll * 2, POLL_MAX);
          if (!this.#tryLock()) continue;
          this.#sweep();
          return true;
        }
        if (!this.#publish()) return this.#doneSync(true);
        continue; // published, or out of line again: look again
      }
      const mine = this.#mine;
      if (left <= 0) {
        if (this.#waiters.size === 0) return this.#doneSync(this.#withdraw());
        // The seat stays published for the async waiters, with an engine waiter of theirs: this call may
        // have published it on a new seat, where none is armed yet (a grant would find it gone).
        if (this.#armed === undefined) this.#arm();
        return false;
      }
      const seat = this.#seat;
      const granted = (mine & ~STATE) | GRANTED;
      // Nothing else runs on this thread while it blocks: whether it has other waiters is known now.
      const alone = this.#waiters.size === 0 && this.#armed === undefined;
      Atomics.wait(words, seat, mine, left);
      if (alone && Atomics.compareExchange(words, seat, granted, FREE) === granted) {
        // Alone on this thread: the grant claimed and the seat left in one step (GRANTED(t) → FREE).
        this.#published = false;
        this.#seat = -1;
        return true;
      }
      if (Atomics.load(words, seat) !== mine && this.#moved()) return this.#doneSync(true);
    }
  }

  /**
   * Releases the lock, handing it to the first waiter of the longest-waiting thread if there is one.
   *
   * @throws `Error` when the lock is not held.
   *
   * @example
   * ```ts
   * lock.release();
   * ```
   */
  release(): void {
    const words = this.#words;
    const at = this.#at;
    const newest = Atomics.load(words, at + 1); // the last ticket given, read before the count (see the scan)
    let l = Atomics.load(words, at);
    if ((l & LOCKED) === 0) throw new Error('SharedLock.release() called on a lock that is not held');
    // The hand-off's path, in one function (no calls before the notify): l is the lock word as last seen,
    // without LOCKED once we let go.
    for (;;) {
      if (l === LOCKED) {
        const seen = Atomics.compareExchange(words, at, LOCKED, 0);
        if (seen === LOCKED) return;
        l = seen;
        continue;
      }
      // The published seat with the oldest ticket. The scan stops once it has seen as many seats ticketed
      // no later than `newest` as `l` counts (see the protocol).
      let left = l >>> 1;
      let seat = -1;
      let v = 0;
      for (let i = 0, s = at + 2; i < SEATS && left > 0; i++, s++) {
        const w = Atomics.load(words, s);
        const state = w & STATE;
        if (state === WAITING || state === POLLING) {
          if (seat < 0 || before(w & ~STATE, v & ~STATE)) {
            seat = s;
            v = w;
          }
          if (!before(newest, w & ~STATE)) left--;
        } else if (state === GRANTED && (l & LOCKED) !== 0) {
          // We hold the lock, so no hand-off is in flight: its thread was terminated after it was woken
          // for a grant (the lock since released on its behalf). Free for anyone.
          Atomics.compareExchange(words, s, w, (w & ~STATE) | DEAD);
        }
      }
      if ((l & LOCKED) === 0) {
        // We let go and looked again: take the lock back for a seat published meanwhile.
        if (seat < 0 || !this.#tryLock()) return;
        l = Atomics.load(words, at);
        continue;
      }
      if (seat < 0) {
        // Counted seats not published yet: let go, then look again (see the protocol).
        const seen = Atomics.compareExchange(words, at, l, l & ~LOCKED);
        l = seen === l ? l & ~LOCKED : seen;
        continue;
      }
      if (seat === this.#seat && v === this.#mine) {
        // Our own seat (with our ticket: not one taken for gone and reused): straight to our first
        // waiter; the engine waiter stays armed.
        this.#unpublish();
        this.#handOff();
        this.#ensure();
        return;
      }
      const t = v & ~STATE;
      if (Atomics.compareExchange(words, seat, v, t | GRANTED) === v) {
        Atomics.sub(words, at, ONE);
        // A polling seat's thread may be blocked in acquireSync: notify it too, but waking nobody
        // proves nothing.
        if (Atomics.notify(words, seat) > 0 || (v & STATE) === POLLING) return;
        // Nobody waits on that seat: its thread is gone. Take the grant back, unless it was claimed.
        if (Atomics.compareExchange(words, seat, t | GRANTED, t | DEAD) !== (t | GRANTED)) return;
      }
      // The seat changed meanwhile, or its thread is gone: the lock is still ours to pass on.
      l = Atomics.load(words, at);
    }
  }

  /**
   * Runs `fn` holding the lock and releases it afterwards, however `fn` ends.
   *
   * @param options - a timeout (ms), or `{ timeout, signal }`, for acquiring the lock.
   * @returns what `fn` returns (awaited).
   * @throws rejects with {@link TimeoutError} when the timeout passes before the lock is acquired, with
   *   `signal.reason` when the signal aborts first, with `TypeError` when `fn` is not a function.
   *
   * @example
   * ```ts
   * await lock.runExclusive(() => { counter[0]++; }, 1_000);
   * ```
   */
  async runExclusive<T>(fn: () => T | PromiseLike<T>, options?: number | WaitOptions): Promise<T> {
    checkFunction(fn, 'fn');
    return runGuarded(this.#guard(options, 'SharedLock.runExclusive()'), fn);
  }

  /**
   * Takes the lock like `acquire()`, as a {@link Guard} that releases it once: with `using`, at the end
   * of the block.
   *
   * @param options - a timeout (ms), or `{ timeout, signal }`.
   * @throws rejects with {@link TimeoutError} when the timeout passes before the lock is acquired, with
   *   `signal.reason` when the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await lock.lock(1_000);
   *   counter[0]++;
   * } // released here
   * ```
   */
  lock(options?: number | WaitOptions): Promise<Guard> {
    return this.#guard(options, 'SharedLock.lock()');
  }

  #guard(options: unknown, method: string): Promise<Guard> {
    return guarded(
      (o) => this.acquire(o),
      () => this.release(),
      options,
      method,
      'the lock',
    );
  }

  /**
   * Takes the lock now if it is free and this thread has nobody queued for it, and returns `true`;
   * otherwise takes nothing and returns `false` (as `acquire(0)` would resolve).
   *
   * @example
   * ```ts
   * if (lock.tryAcquire()) {
   *   try { counter[0]++; } finally { lock.release(); }
   * }
   * ```
   */
  tryAcquire(): boolean {
    return this.#tryNow();
  }

  /**
   * Like {@link SharedLock.tryAcquire}, as a {@link Guard} that releases the lock once, or `undefined`
   * when the lock is not free (`using` accepts both).
   *
   * @example
   * ```ts
   * using guard = lock.tryLock();
   * if (guard !== undefined) counter[0]++;
   * ```
   */
  tryLock(): Guard | undefined {
    return this.#tryNow() ? heldGuard(() => this.release()) : undefined;
  }

  get [Symbol.toStringTag](): string {
    return 'SharedLock';
  }

  /** Takes a free lock. */
  #tryLock(): boolean {
    const words = this.#words;
    const at = this.#at;
    for (let l = Atomics.load(words, at); (l & LOCKED) === 0;) {
      const seen = Atomics.compareExchange(words, at, l, l | LOCKED);
      if (seen === l) return true;
      l = seen;
    }
    return false;
  }

  /** A local waiter joined (queued): keep the thread alive and make sure this object is in line. */
  #joined(): void {
    if (!this.#holdsThread) {
      this.#holdsThread = true;
      holdThread();
    }
    this.#ensure();
  }

  /** While there are local waiters and this object is not in line: take a seat, arm, publish. */
  #ensure(): void {
    while (this.#waiters.size > 0 && !this.#published) {
      if (this.#seat < 0 && !this.#sit()) {
        if (this.#tryLock()) {
          this.#sweep();
          this.#handOff();
          continue;
        }
        return this.#startPolling(); // every seat is taken: look again later
      }
      this.#delay = 1; // a new wait in line: polling (where there is no waitAsync) starts at 1 ms again
      this.#arm();
      if (!this.#publish()) this.#handOff();
    }
  }

  /**
   * We found every seat taken and took the lock free: no hand-off is in flight, so a seat still GRANTED
   * belongs to a thread terminated after it was woken (the lock released on its behalf since). It is
   * made DEAD, for anyone to take.
   */
  #sweep(): void {
    const words = this.#words;
    for (let i = 0, s = this.#at + 2; i < SEATS; i++, s++) {
      const v = Atomics.load(words, s);
      if ((v & STATE) === GRANTED) Atomics.compareExchange(words, s, v, (v & ~STATE) | DEAD);
    }
  }

  #sit(): boolean {
    const words = this.#words;
    for (;;) {
      // A ticket of ours, kept while no seat is found (it was written nowhere): polls take no tickets.
      const reserved = (this.#spare ||= newTicket(words, this.#at + 1) | RESERVED);
      const at = takeSeat(words, this.#at + 2, 1, reserved);
      if (at >= 0) {
        this.#spare = 0;
        this.#seat = at;
        this.#mine = reserved;
        this.#delay = 1;
        return true;
      }
      if (!this.#bury()) return false;
    }
  }

  /**
   * Every seat is taken: takes for gone the threads of seats that showed the very same RESERVED(t) at
   * each of our looks for STALE ms (seats.ts): RESERVED(t) → DEAD(t). True when it freed one.
   */
  #bury(): boolean {
    const words = this.#words;
    const watch = (this.#watch ??= new Watch());
    const now = watch.now();
    let freed = false;
    for (let i = 0, s = this.#at + 2; i < SEATS; i++, s++) {
      const v = Atomics.load(words, s);
      if ((v & STATE) !== RESERVED || !watch.stale(i, v, 0, now)) continue;
      if (Atomics.compareExchange(words, s, v, (v & ~STATE) | DEAD) === v) freed = true;
      watch.forget(i);
    }
    return freed;
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
   * Counts this object in and publishes its seat. False when it holds the lock instead, for its first
   * waiter (it found the lock free, or was granted it as it published); true otherwise: published, or,
   * taken for gone as it published, out of line again (uncounted; seat RESERVED, or lost): the caller
   * looks again.
   */
  #publish(): boolean {
    const words = this.#words;
    const at = this.#at;
    const seat = this.#seat;
    for (;;) {
      const l = Atomics.load(words, at);
      if ((l & LOCKED) === 0) {
        if (Atomics.compareExchange(words, at, l, l | LOCKED) === l) return false;
      } else if (Atomics.compareExchange(words, at, l, l + ONE) === l) break;
    }
    for (;;) {
      const mine = newTicket(words, at + 1) | (canWaitAsync() ? WAITING : POLLING);
      // From the RESERVED(t) we wrote: another value is DEAD(t), a thread that found every seat taken
      // having taken us for gone (we were stalled past STALE): we are counted, out of line.
      if (Atomics.compareExchange(words, seat, this.#mine, mine) !== this.#mine) return this.#uncount();
      this.#mine = mine;
      this.#published = true;
      let l = Atomics.load(words, at);
      if ((l & LOCKED) !== 0) return true;
      // The lock was let go since we counted ourselves. Out of line first: a release may have granted
      // our seat meanwhile, and uncounted us (then, finding no engine waiter, taken it for gone).
      const reserved = (mine & ~STATE) | RESERVED;
      if (Atomics.compareExchange(words, seat, mine, reserved) !== mine) return !this.#moved();
      this.#mine = reserved;
      this.#published = false;
      // Still counted and seen by nobody: take the lock, uncounting, or publish again behind its taker.
      for (; (l & LOCKED) === 0; l = Atomics.load(words, at)) {
        if (Atomics.compareExchange(words, at, l, (l | LOCKED) - ONE) === l) return false;
      }
    }
  }

  /**
   * Taken for gone while counted and not published: uncounts this object, taking the lock at the same
   * time if it is free (let go for our count, or by its holder), then takes the seat back or drops it.
   * As #publish: false when we hold the lock (for our first waiter), true when out of line.
   */
  #uncount(): boolean {
    const words = this.#words;
    const at = this.#at;
    let l = Atomics.load(words, at);
    for (;;) {
      const seen = Atomics.compareExchange(words, at, l, (l | LOCKED) - ONE);
      if (seen === l) break;
      l = seen;
    }
    this.#reclaim();
    return (l & LOCKED) !== 0;
  }

  /** Takes our seat back from DEAD(t), or, someone having taken it meanwhile, drops it. */
  #reclaim(): void {
    const t = this.#mine & ~STATE;
    if (Atomics.compareExchange(this.#words, this.#seat, t | DEAD, t | RESERVED) === (t | DEAD)) {
      this.#mine = t | RESERVED;
    } else this.#dropSeat();
  }

  /** Takes our published seat out of line, seen unmoved: WAITING(t) → RESERVED(t), uncounted. */
  #unpublish(): void {
    const reserved = (this.#mine & ~STATE) | RESERVED;
    Atomics.store(this.#words, this.#seat, reserved);
    Atomics.sub(this.#words, this.#at, ONE);
    this.#mine = reserved;
    this.#published = false;
  }

  /**
   * We hold the lock for our local queue: its first waiter gets it. The queue is never empty here: we
   * hand off only from #ensure (while there are waiters) and for a seat we published, and a queue that
   * empties takes its seat out of line at once (#idle).
   */
  #handOff(): void {
    releaseOne(this.#waiters, true);
  }

  /**
   * Our published seat moved: claims a grant (true: we hold the lock), or, taken for gone, takes the
   * seat back or drops it (false). Either way this object is no longer published.
   */
  #moved(): boolean {
    const words = this.#words;
    const at = this.#seat;
    const t = this.#mine & ~STATE;
    this.#published = false;
    if (Atomics.compareExchange(words, at, t | GRANTED, t | RESERVED) === (t | GRANTED)) {
      this.#mine = t | RESERVED;
      return true;
    }
    this.#reclaim();
    return false;
  }

  /**
   * Forgets a seat that is not ours any more, our engine waiter on it notified away (a stray waiter of
   * ours would make the next owner look alive after its thread is gone; waking it is harmless: it looks
   * and waits again).
   */
  #dropSeat(): void {
    if (this.#armed !== undefined) Atomics.notify(this.#words, this.#seat);
    this.#seat = -1;
    this.#armed = undefined;
  }

  /** Woken (or polled): claims a grant, or re-arms, or gets back in line. */
  #check(): void {
    if (this.#seat >= 0 && this.#published) {
      if (Atomics.load(this.#words, this.#seat) === this.#mine) return this.#arm(); // nothing for us yet
      if (this.#moved()) this.#handOff(); // #ensure re-arms before it publishes again
    }
    this.#ensure();
  }

  /** Done with acquireSync: leaves the seat if no async waiter needs it, else gets them in line. */
  #doneSync(result: boolean): boolean {
    if (this.#waiters.size === 0) this.#leave();
    else if (this.#armed === undefined) this.#ensure();
    return result;
  }

  /**
   * Takes our seat out of line as its waiters gave up; true when the lock was handed to it first (the
   * caller now holds it).
   */
  #withdraw(): boolean {
    if (!this.#published) return false;
    const mine = this.#mine;
    if (Atomics.compareExchange(this.#words, this.#seat, mine, (mine & ~STATE) | RESERVED) === mine) {
      Atomics.sub(this.#words, this.#at, ONE);
      this.#mine = (mine & ~STATE) | RESERVED;
      this.#published = false;
      return false;
    }
    return this.#moved();
  }

  /** Gives the seat back: our engine waiter notified away first, so the next owner's count is its own. */
  #leave(): void {
    const at = this.#seat;
    if (at < 0) return;
    if (this.#armed !== undefined) Atomics.notify(this.#words, at);
    this.#armed = undefined;
    Atomics.compareExchange(this.#words, at, this.#mine, 0);
    this.#seat = -1;
  }

  #startPolling(): void {
    if (this.#poll === undefined) this.#poll = pollAfter(this.#onPoll, this.#delay);
  }

  /** The last local waiter left: out of line (passing on a lock handed to us meanwhile), let go. */
  #idle(): void {
    if (this.#withdraw()) this.release();
    this.#leave();
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
