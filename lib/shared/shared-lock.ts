/*
 * SharedLock: one lock, seen by every thread that maps its words of shared memory.
 *
 * # The words
 *
 * A ticket queue (tickets.ts: read its protocol first) of SharedLock.BYTES = 260 bytes, whose head
 * word's FLAG bit is LOCKED. Invariant: a lock that is not LOCKED has no ticket queued.
 *
 * - acquire, the lock free (not LOCKED): head → head | LOCKED. Taken.
 * - acquire, the lock held: take a ticket (head: next + 1), register it, wait on its slot. With the
 *   queue full (LIMIT tickets), mark the head FULL and wait on the head word for room instead.
 * - release: pop the oldest ticket and offer it the lock, which stays LOCKED all along (a hand-off in
 *   flight counts as held); a dead ticket (abandoned, its thread gone) is skipped and the next one
 *   offered. With no ticket left, head → head & ~LOCKED, in the same exchange that sees the queue empty,
 *   so an acquirer either sees LOCKED and queues a ticket that this release (or a later one) pops, or
 *   sees the lock free and takes it: no wake-up is lost.
 * - A ticket popped before its waiter registered is skipped: the waiter sees its slot DONE and queues
 *   again at the back (it never receives a lock that a dead thread could strand).
 *
 * # Fairness
 *
 * Waiters get the lock in the order they took their tickets, across all threads: FIFO. Only a waiter
 * that arrives while the lock is free takes it directly (nobody is queued then). Within a thread,
 * waiters take tickets in the order they called. Bypass happens only (1) to a waiter skipped in the
 * instant between taking its ticket and registering it, and (2) beyond LIMIT waiters at once, where
 * the waiters without a ticket race for room as tickets are popped. With at most LIMIT waiters, a
 * waiter gets the lock after at most as many hand-offs as there were tickets ahead of it.
 *
 * # Faults and cancel safety
 *
 * A wait that times out or is aborted abandons its ticket at once (an exchange on its slot: no lock,
 * no other thread needed); if the lock was handed to it first, it passes it on by releasing. A thread
 * terminated while it waits leaves a ticket that the next release finds dead (nobody to notify) and
 * skips. A thread terminated while it holds the lock, or after the lock was handed to its waiter and
 * before the waiter woke, leaves the lock held, as with any mutex. Without `Atomics.waitAsync`, a
 * waiter polls (1 ms, doubling to 32 ms); a thread terminated while polling can be handed the lock and
 * keep it.
 */
import { type WaitOptions, checkFunction, readTimeout, readWaitArg } from '../core/arguments.js';
import { monotonic } from '../core/clock.js';
import { type Inspect, inspectAs, inspectSymbol } from '../core/inspect.js';
import { type MakeWaiter, park } from '../core/park.js';
import { TRUE, Waiter, type WaiterQueue } from '../core/queue.js';
import { TimeoutError } from '../errors.js';
import { LocalTickets } from './local-tickets.js';
import { type Memory, sharedMemory } from './memory.js';
import { assertMayBlock } from './word.js';
import { FLAG, LIMIT, QUEUE_BYTES, SKIP_EARLY, TicketQueue, lengthOf, servingOf } from './tickets.js';

/** The head word's FLAG: someone holds the lock (or it is being handed to a waiter). */
const LOCKED = FLAG;
const isLocked = (head: number) => (head & LOCKED) !== 0;

/**
 * The brand of a SharedLock: registered, so that the ESM and CommonJS builds (and two copies of the
 * package) recognise each other's locks; versioned, so that another protocol never matches.
 */
const BRAND: unique symbol = /*#__PURE__*/ Symbol.for('awaitable-event/SharedLock@1') as never;

/** Whether `value` is a {@link SharedLock} of any build of this package. */
export function isSharedLock(value: unknown): value is SharedLock {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** A local waiter for the lock. */
class LockWaiter extends Waiter {
  ticket = -1;

  constructor(
    private readonly giveUp: (w: LockWaiter) => void,
    queue: WaiterQueue,
    resolve: (value: boolean) => void,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(queue, resolve, reject, signal);
  }

  /** It has the lock. */
  take(): void {
    this.leave();
    this.grant(true);
  }

  override expire(): void {
    this.giveUp(this);
    super.expire();
  }

  override abort(reason: unknown): void {
    this.giveUp(this);
    super.abort(reason);
  }
}

/**
 * A {@link Lock} whose state lives in a `SharedArrayBuffer`, so the tasks of every thread holding the
 * buffer (Node `worker_threads`, browser Web Workers) share one lock, with no messages. Post `buffer`
 * and `byteOffset` to another thread and rebuild it there with `new SharedLock(buffer, byteOffset)`.
 *
 * Waiters get the lock in the order they asked, across threads (FIFO, by ticket). Like `Lock`, it does
 * not track who holds it: any thread may `release()` it. A waiter that times out or is aborted, or whose
 * thread is terminated, is skipped and holds nobody up; a thread terminated while it holds the lock
 * leaves it held, as with any mutex. `acquire()` never blocks the thread; `acquireSync()` does.
 *
 * @example
 * ```ts
 * // main thread
 * import { SharedLock } from 'awaitable-event';
 * const lock = new SharedLock();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * new Worker('./worker.js', { workerData: { buffer: lock.buffer, counter } });
 * await lock.runExclusive(() => counter[0]++);
 *
 * // worker.js
 * const lock = new SharedLock(workerData.buffer);
 * await lock.runExclusive(() => workerData.counter[0]++);
 * ```
 */
export class SharedLock {
  /**
   * Bytes one lock occupies in a buffer (a multiple of 4); several locks of one buffer sit at offsets
   * that far apart.
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(2 * SharedLock.BYTES);
   * const [a, b] = [0, 1].map((i) => new SharedLock(buffer, i * SharedLock.BYTES));
   * ```
   */
  static readonly BYTES: number = QUEUE_BYTES;

  /**
   * The shared memory holding the lock: post it (with {@link SharedLock.byteOffset}) to other threads.
   *
   * @example
   * ```ts
   * worker.postMessage({ buffer: lock.buffer, byteOffset: lock.byteOffset });
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

  readonly #q: TicketQueue;
  readonly #local: LocalTickets<LockWaiter>;
  /** Local waiters waiting for room in a full queue, in order. */
  readonly #overflow: LockWaiter[] = [];
  #watchingHead = false;
  #made: LockWaiter | undefined;
  readonly #make: MakeWaiter = (queue, resolve, reject, signal) =>
    (this.#made = new LockWaiter(this.#giveUp, queue, resolve, reject, signal));
  readonly #tryNow = () => this.#overflow.length === 0 && this.#tryLock();
  readonly #giveUp = (w: LockWaiter) => {
    const at = this.#overflow.indexOf(w);
    if (at >= 0) this.#overflow.splice(at, 1);
    else {
      const t = w.ticket;
      this.#local.forget(w);
      if (t !== -1 && this.#q.abandon(t) === 'granted') this.release(); // handed the lock before it gave up: pass it on
    }
  };
  readonly #onHead = () => {
    this.#watchingHead = false;
    this.#drainOverflow();
  };

  /**
   * @param buffer - the shared memory to use; omitted, a new `SharedArrayBuffer` of
   *   {@link SharedLock.BYTES} bytes (the lock free).
   * @param byteOffset - where the lock's words start in `buffer`: a multiple of 4, default 0.
   * @throws `TypeError` when `buffer` is not a `SharedArrayBuffer` (or shared memory is unavailable: in a
   *   browser, the page needs cross-origin isolation) or `byteOffset` is not a number; `RangeError` when
   *   `byteOffset` is not a multiple of 4 or does not leave room for the lock in `buffer`.
   *
   * @example
   * ```ts
   * const lock = new SharedLock();                          // a new buffer
   * const again = new SharedLock(lock.buffer, lock.byteOffset); // the same lock, e.g. in a worker
   * ```
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    const memory: Memory = sharedMemory('SharedLock', 'a lock', SharedLock.BYTES, buffer, byteOffset);
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    this.#q = new TicketQueue(memory.words, memory.index, SKIP_EARLY);
    this.#local = new LocalTickets(
      this.#q,
      (w, t) => this.#check(w, t),
      () => this.#drainOverflow(),
    );
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
    return isLocked(this.#q.head());
  }

  /**
   * Takes the lock: at once when it is free, else in turn (FIFO across threads).
   *
   * Cancel safety: a waiter that times out or is aborted gives up its place at once and never holds the
   * lock afterwards (if the lock reached it first, it is passed on); once `acquire()` has resolved
   * `true`, the caller holds the lock and must release it.
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
    this.#made = undefined;
    const promise = park(this.#local.waiters, arg, this.#tryNow, this.#make);
    const w = this.#made as LockWaiter | undefined;
    if (w?.queued) {
      this.#local.holdThread();
      if (this.#overflow.length > 0) this.#overflow.push(w);
      else this.#queue(w);
    }
    return promise;
  }

  /**
   * Takes the lock, blocking the whole thread until it is free or `timeout` milliseconds pass. Only
   * where `Atomics.wait` is allowed: Node's main thread, Node workers and Web Workers, not a browser
   * page's main thread.
   *
   * It blocks every task of the thread: called while another task of the same thread holds the lock
   * (or is being handed it), it deadlocks, as any mutex would; give it a timeout where the thread has
   * other tasks using the lock.
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
    const q = this.#q;
    const words = q.words;
    const deadline = monotonic() + ms;
    for (;;) {
      const head = q.head();
      if (!isLocked(head)) {
        if (q.swapHead(head, head | LOCKED)) return true;
        continue;
      }
      const left = deadline - monotonic();
      if (left <= 0) return false;
      if (lengthOf(head) >= LIMIT) {
        const full = q.markFull(head);
        if (full !== -1) Atomics.wait(words, q.index, full, left);
        continue;
      }
      const t = q.take(head);
      if (t === -1 || q.register(t, false) === 'skipped') continue;
      const at = q.slot(t);
      const value = q.waitingValue(t, false);
      for (;;) {
        const rest = deadline - monotonic();
        if (rest <= 0) return q.abandon(t) === 'granted';
        Atomics.wait(words, at, value, rest);
        const state = q.state(t);
        if (state === 'granted') {
          if (q.claim(t)) return true;
          break;
        }
        if (state === 'done') break; // skipped: queue again
      }
    }
  }

  /**
   * Releases the lock, handing it to the longest-waiting waiter of any thread if there is one.
   *
   * @throws `Error` when the lock is not held.
   *
   * @example
   * ```ts
   * lock.release();
   * ```
   */
  release(): void {
    const q = this.#q;
    let head = q.head();
    if (!isLocked(head)) throw new Error('SharedLock.release() called on a lock that is not held');
    for (; ; head = q.head()) {
      if (lengthOf(head) === 0) {
        if (q.swapHead(head, head & ~LOCKED)) return;
        continue;
      }
      const t = servingOf(head);
      if (q.pop(head) === -1) continue;
      const mine = this.#local.mine.get(t);
      if (mine !== undefined) {
        this.#local.forget(mine);
        q.takeBack(t);
        return mine.take();
      }
      if (q.offer(t)) return;
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
    const { timeout, signal } = readWaitArg(options);
    if (!(await this.acquire({ timeout, signal }))) {
      throw new TimeoutError(`SharedLock.runExclusive() timed out after ${timeout} ms waiting for the lock`);
    }
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** @internal */
  get [BRAND](): true {
    return true;
  }

  get [Symbol.toStringTag](): string {
    return 'SharedLock';
  }

  [inspectSymbol](_depth: number, options: object, inspect: Inspect): string {
    return inspectAs('SharedLock', { locked: this.locked(), waiters: this.#local.waiters.size }, options, inspect);
  }

  /** Takes a free lock for a caller that is not queued. */
  #tryLock(): boolean {
    const q = this.#q;
    for (let head = q.head(); !isLocked(head); head = q.head()) {
      if (q.swapHead(head, head | LOCKED)) return true;
    }
    return false;
  }

  /** Takes the lock or a ticket for w; false when the queue is full (w is left to the caller). */
  #queue(w: LockWaiter): boolean {
    const q = this.#q;
    const polling = this.#local.polling;
    for (;;) {
      const head = q.head();
      if (!isLocked(head)) {
        if (q.swapHead(head, head | LOCKED)) {
          w.take();
          return true;
        }
      } else if (lengthOf(head) >= LIMIT) {
        const full = q.markFull(head);
        if (full !== -1) {
          if (!this.#overflow.includes(w)) this.#overflow.push(w);
          this.#watchHead(full);
          return false;
        }
      } else {
        const t = q.take(head);
        if (t !== -1 && q.register(t, polling) === 'waiting') {
          this.#local.arm(w, t);
          return true;
        }
      }
    }
  }

  /** Ticket t's slot moved (or was polled) for w. */
  #check(w: LockWaiter, t: number): void {
    const state = this.#q.state(t);
    if (state === 'waiting') {
      if (!this.#local.polling) this.#local.arm(w, t);
      return;
    }
    this.#local.forget(w);
    if (state === 'granted' && this.#q.claim(t)) w.take();
    else this.#queue(w); // skipped: queue again
  }

  /** Gives the local waiters without a ticket their turn, in order, while there is room. */
  #drainOverflow(): void {
    const overflow = this.#overflow;
    while (overflow.length > 0) {
      const w = overflow[0]!;
      if (!this.#queue(w)) return;
      overflow.shift();
    }
  }

  #watchHead(full: number): void {
    if (this.#watchingHead) return;
    if (this.#local.polling) return this.#local.startPolling(1);
    const result = Atomics.waitAsync(this.#q.words, this.#q.index, full);
    if (!result.async) return this.#onHead();
    this.#watchingHead = true;
    void result.value.then(this.#onHead);
  }
}
