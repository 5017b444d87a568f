/*
 * A counting semaphore: a number of free permits and a FIFO queue of tasks waiting for one.
 *
 * Invariant: while anyone is queued, no permit is free. `release(n)` hands permits to queued waiters
 * first, one each in the order they came, and only the rest go back to `value`; `acquire()` takes a free
 * permit only when nobody is queued. So a later `acquire()` never barges in ahead of a waiter, even while
 * a permit handed to that waiter is still on its way (its continuation has not run yet). A waiter that
 * times out or is aborted leaves the queue without a permit and takes none from anyone.
 */
import { type WaitOptions, checkFunction, readCount } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { keepIdle } from './core/shape.js';
import { park } from './core/park.js';
import { TRUE, WaiterQueue, releaseOne } from './core/queue.js';
import { type Guard, guarded, runGuarded } from './guard.js';

/** The prototypes (Semaphore's, BoundedSemaphore's, a subclass's) whose `util.inspect` rendering is set up. */
const inspectableClasses = /*#__PURE__*/ new WeakSet<object>();

/**
 * A semaphore for async code on one thread: `value` permits, each held by at most one task at a time;
 * the others queue and get a permit in the order they asked (FIFO). The tool to cap concurrency: at most
 * `value` tasks inside at once. Like Python's `asyncio.Semaphore`, it does not track who holds a permit:
 * `release()` may add permits beyond the initial value (see {@link BoundedSemaphore} for one that
 * refuses).
 *
 * @example
 * ```ts
 * import { Semaphore } from 'awaitable-event';
 *
 * const connections = new Semaphore(3);
 * const results = await Promise.all(
 *   urls.map((url) => connections.runExclusive(() => fetch(url))), // at most 3 at a time
 * );
 * ```
 */
export class Semaphore {
  #value: number;
  readonly #waiters = new WaiterQueue();
  readonly #take = (): boolean => {
    if (this.#value === 0 || this.#waiters.size > 0) return false;
    this.#value--;
    return true;
  };

  /**
   * @param value - the number of permits, a whole number (default 1).
   * @throws `TypeError` when `value` is not a number, `RangeError` when it is negative, fractional, NaN
   *   or infinite.
   *
   * @example
   * ```ts
   * const pool = new Semaphore(3);
   * const gate = new Semaphore(0); // closed until someone calls release()
   * ```
   */
  constructor(value: number = 1) {
    this.#value = readCount(value, 'value', 0);
    // Set up on the first instance of each class, not in the class body (see core/inspect.ts).
    const proto = new.target.prototype;
    if (!inspectableClasses.has(proto)) {
      inspectableClasses.add(proto);
      inspectable(proto, this[Symbol.toStringTag], (s: Semaphore) => ({ value: s.#value, waiters: s.#waiters.size }));
      if (proto === Semaphore.prototype) keepIdle(new Semaphore()); // see core/shape.ts
    }
  }

  /**
   * The number of permits free now. Never below 0; 0 while anyone waits.
   *
   * @example
   * ```ts
   * console.log(`${pool.value} connections free`);
   * ```
   */
  get value(): number {
    return this.#value;
  }

  /**
   * Whether `acquire()` would have to wait: no permit is free (or someone is queued ahead).
   *
   * @example
   * ```ts
   * if (pool.locked()) console.log('every connection is busy');
   * ```
   */
  locked(): boolean {
    return this.#value === 0 || this.#waiters.size > 0;
  }

  /**
   * Takes a permit: at once when one is free and nobody is queued, else in turn.
   *
   * Cancel safety: a waiter that times out or is aborted leaves the queue at once and never holds a
   * permit afterwards; once `acquire()` has resolved `true`, the caller holds a permit and must release it.
   *
   * @example
   * ```ts
   * await pool.acquire();
   * try {
   *   await query();
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
   * if (!(await pool.acquire(100))) throw new Error('pool exhausted');
   * ```
   */
  acquire(timeout: number): Promise<boolean>;
  /**
   * Takes a permit, unless the timeout runs out first (`false`) or the signal aborts (rejects with
   * `signal.reason`).
   *
   * @example
   * ```ts
   * await pool.acquire({ timeout: 5_000, signal: request.signal });
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
    // No argument: nothing to read, no timer, no signal; park() would come to the same.
    if (arg === undefined) return this.#take() ? TRUE : this.#waiters.wait();
    return park(this.#waiters, arg, this.#take);
  }

  /**
   * Gives back `n` permits: each goes to the longest-waiting waiter, if any, in order; the rest become
   * free.
   *
   * @param n - how many permits, a whole number of at least 1 (default 1).
   * @throws `TypeError` when `n` is not a number, `RangeError` when it is below 1, fractional, NaN or
   *   infinite.
   *
   * @example
   * ```ts
   * pool.release();
   * gate.release(3); // lets three waiters through
   * ```
   */
  release(n: number = 1): void {
    if (n !== 1) readCount(n, 'n', 1);
    let left = n;
    while (left > 0 && releaseOne(this.#waiters, true)) left--;
    this.#value += left;
  }

  /**
   * Takes a permit like `acquire()`, as a {@link Guard} that gives it back once: with `using`, at the
   * end of the block.
   *
   * @param options - a timeout (ms), or `{ timeout, signal }`.
   * @throws rejects with {@link TimeoutError} when the timeout passes before a permit is taken, with
   *   `signal.reason` when the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await pool.lock({ timeout: 5_000 });
   *   await query();
   * } // the permit is back here
   * ```
   */
  lock(options?: number | WaitOptions): Promise<Guard> {
    return guarded(
      (o) => this.acquire(o),
      () => this.release(),
      options,
      `${this[Symbol.toStringTag]}.lock()`,
      'a permit',
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
   * const rows = await pool.runExclusive(() => db.query('select 1'), 5_000);
   * ```
   */
  async runExclusive<T>(fn: () => T | PromiseLike<T>, options?: number | WaitOptions): Promise<T> {
    checkFunction(fn, 'fn');
    const guard = guarded(
      (o) => this.acquire(o),
      () => this.release(),
      options,
      `${this[Symbol.toStringTag]}.runExclusive()`,
      'a permit',
    );
    return runGuarded(guard, fn);
  }

  get [Symbol.toStringTag](): string {
    return 'Semaphore';
  }
}

/**
 * A {@link Semaphore} that refuses to give back more permits than it was created with: a `release()`
 * without a matching `acquire()` is a bug it reports at once (`RangeError`) instead of silently letting
 * one more task in. Like Python's `BoundedSemaphore`.
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from 'awaitable-event';
 *
 * const slots = new BoundedSemaphore(2);
 * await slots.acquire();
 * slots.release();
 * slots.release(); // RangeError: nothing is held
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  readonly #bound: number;

  /**
   * @param value - the number of permits, a whole number (default 1), and the most there can be.
   * @throws `TypeError` when `value` is not a number, `RangeError` when it is negative, fractional, NaN
   *   or infinite.
   *
   * @example
   * ```ts
   * const slots = new BoundedSemaphore(4);
   * ```
   */
  constructor(value: number = 1) {
    super(value);
    this.#bound = value;
  }

  /**
   * Gives back `n` permits, as {@link Semaphore.release} does, unless that would make more than the
   * initial value (permits handed to waiters count as held): then it throws and changes nothing.
   *
   * @throws `RangeError` when fewer than `n` permits are held, or `n` is below 1, fractional, NaN or
   *   infinite; `TypeError` when `n` is not a number.
   *
   * @example
   * ```ts
   * await slots.acquire();
   * slots.release();
   * ```
   */
  override release(n: number = 1): void {
    readCount(n, 'n', 1);
    const held = this.#bound - this.value;
    if (n > held) {
      throw new RangeError(
        `BoundedSemaphore.release(${n}) would give back more permits than are held (${held} of ${this.#bound})`,
      );
    }
    super.release(n);
  }

  override get [Symbol.toStringTag](): string {
    return 'BoundedSemaphore';
  }
}
