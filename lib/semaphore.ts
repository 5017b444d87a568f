/*
 * A counting semaphore: a number of free permits and a FIFO queue of tasks waiting for some.
 *
 * A request is for one permit or, weighted, for `permits` of them. The line is strict FIFO: the first in
 * line is served as soon as enough permits are free for it, and nobody behind it is served before it,
 * even a small request that would fit: a big request is never starved by a stream of small ones.
 *
 * Invariant: while anyone is queued, fewer permits are free than the first in line asks for.
 * `release(n)` adds `n` to `value`, then hands permits to the waiters at the head of the line, in order,
 * for as long as the first one's request fits; `acquire()` takes free permits only when nobody is queued.
 * So a later `acquire()` never barges in ahead of a waiter, even while permits handed to that waiter are
 * still on their way (its continuation has not run yet). A waiter that times out or is aborted leaves the
 * queue without a permit and takes none from anyone; when it was a large request at the head of the
 * line, the waiters behind it are served at once from the permits that were held back for it.
 *
 * A waiter with neither timeout nor signal is queued as a bare resolve function, whatever it asks for:
 * nothing but a grant can take it out of the line, so bare waiters leave in the order they came. The
 * weight of those that ask for more than one permit is kept apart, in that same order, next to their
 * resolve function (`#heavy`); a bare entry at the head of the line asks for one permit unless it is
 * the first one there.
 */
import { isAborted, reasonOf } from './core/abort.js';
import { type WaitOptions, checkFunction, describe, readCount, readWaitArg } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { keepIdle } from './core/shape.js';
import { enqueue, park } from './core/park.js';
import { ServingWaiter } from './core/serving.js';
import {
  FALSE,
  type Resolve,
  TRUE,
  WaiterQueue,
  capture,
  forgetCaptured,
  grant,
  lastReject,
  lastResolve,
  peekOne,
  takeOne,
} from './core/queue.js';
import { type Guard, guarded, heldGuard, runGuarded } from './guard.js';

/** A waiter for more than one permit: it knows how many, and lets the line move on when it gives up. */
class PermitWaiter extends ServingWaiter {
  declare readonly permits: number;

  constructor(
    serve: () => void,
    permits: number,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(serve, queue, resolve, reject, signal);
    this.permits = permits;
  }
}

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
  /** The most permits one request may ask for: the bound of a {@link BoundedSemaphore}. */
  readonly #most: number;
  readonly #take = (): boolean => {
    if (this.#value === 0 || this.#waiters.size > 0) return false;
    this.#value--;
    return true;
  };
  /**
   * The bare waiters (resolve functions) in line that ask for more than one permit, in line order: each
   * one's resolve function, then its weight, from {@link #heavyHead} to {@link #heavyTail} (exclusive).
   */
  #heavy: (Resolve | number | undefined)[] = [];
  #heavyHead = 0;
  #heavyTail = 0;
  /** Serves the head of the line for as long as its request fits in the free permits. */
  readonly #serve = (): void => {
    const queue = this.#waiters;
    for (;;) {
      const first = peekOne(queue);
      if (first === undefined) return;
      let permits = 1;
      let heavy = false;
      if (typeof first === 'function') {
        heavy = this.#heavy[this.#heavyHead] === first;
        if (heavy) permits = this.#heavy[this.#heavyHead + 1] as number;
      } else if (first instanceof PermitWaiter) {
        permits = first.permits;
      }
      if (permits > this.#value) return;
      this.#value -= permits;
      if (heavy) this.#served();
      grant(takeOne(queue)!, true);
      if (this.#value === 0) return; // nobody asks for none
    }
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
    this.#most = this instanceof BoundedSemaphore ? this.#value : Number.MAX_SAFE_INTEGER;
    // Set up on the first instance of each class, not in the class body (see core/inspect.ts).
    const proto = new.target.prototype;
    if (!inspectableClasses.has(proto)) {
      inspectableClasses.add(proto);
      inspectable(proto, this[Symbol.toStringTag], (s: Semaphore) => ({ value: s.#value, waiters: s.#waiters.size }));
      if (proto === Semaphore.prototype) keepIdle(new Semaphore()); // see core/shape.ts
    }
  }

  /**
   * The number of permits free now. Never below 0; while anyone waits, fewer than the first in line
   * asks for (0 when it asks for one).
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
   * Takes `permits` permits at once (weighted), unless the timeout runs out first (`false`: none taken)
   * or the signal aborts (rejects with `signal.reason`). The line stays strict FIFO: a request for more
   * permits than are free waits at its place, and every request behind it waits too, however small.
   *
   * @throws rejects with `TypeError` / `RangeError` when `permits` is not a whole number of at least 1
   *   (or, for a {@link BoundedSemaphore}, is more than its bound).
   *
   * @example
   * ```ts
   * const memory = new Semaphore(1024); // megabytes
   * await memory.acquire({ permits: 256 });
   * try {
   *   await bigJob();
   * } finally {
   *   memory.release(256);
   * }
   * ```
   */
  acquire(options: WaitOptions & { permits?: number | undefined }): Promise<boolean>;
  /**
   * Takes a permit, with an optional timeout (ms) or options: the form to forward an argument that may
   * be either, or absent.
   *
   * @example
   * ```ts
   * const take = (timeout?: number) => pool.acquire(timeout);
   * ```
   */
  acquire(arg?: number | (WaitOptions & { permits?: number | undefined })): Promise<boolean>;
  acquire(arg?: number | (WaitOptions & { permits?: number | undefined })): Promise<boolean> {
    // No argument: nothing to read, no timer, no signal; park() would come to the same.
    if (arg === undefined) return this.#take() ? TRUE : this.#waiters.wait();
    if (typeof arg === 'object' && arg !== null) {
      let permits: number;
      try {
        permits = this.#permitsOf(arg, 'options.permits');
      } catch (error) {
        return Promise.reject(error);
      }
      return this.#acquireMany(arg, permits);
    }
    return park(this.#waiters, arg, this.#take);
  }

  /**
   * Takes `permits` permits now if they are free and nobody is queued (no barging); otherwise takes
   * nothing and returns `false`.
   *
   * @param permits - how many, a whole number of at least 1 (default 1).
   * @throws `TypeError` when `permits` is not a number, `RangeError` when it is below 1, fractional,
   *   NaN or infinite (or, for a {@link BoundedSemaphore}, more than its bound).
   *
   * @example
   * ```ts
   * if (pool.tryAcquire()) {
   *   try { await query(); } finally { pool.release(); }
   * } else {
   *   console.log('busy: try later');
   * }
   * ```
   */
  tryAcquire(permits: number = 1): boolean {
    if (permits !== 1) this.#permitsOf({ permits }, 'permits');
    if (this.#waiters.size > 0 || this.#value < permits) return false;
    this.#value -= permits;
    return true;
  }

  /**
   * Like {@link Semaphore.tryAcquire}, as a {@link Guard} that gives the permits back once, or
   * `undefined` when they are not free now (`using g = pool.tryLock()` accepts both).
   *
   * @param permits - how many, a whole number of at least 1 (default 1).
   * @throws as {@link Semaphore.tryAcquire}.
   *
   * @example
   * ```ts
   * using guard = pool.tryLock();
   * if (guard === undefined) return 'busy';
   * await query();
   * ```
   */
  tryLock(permits: number = 1): Guard | undefined {
    return this.tryAcquire(permits) ? heldGuard(() => this.release(permits)) : undefined;
  }

  /** Reads `options.permits` once: 1 when absent; throws naming `name` when it is no count we take. */
  #permitsOf(options: object, name: string): number {
    const permits = (options as { permits?: unknown }).permits;
    if (permits === undefined) return 1;
    readCount(permits, name, 1);
    if ((permits as number) > this.#most) {
      throw new RangeError(
        `${name} must be at most the bound of the ${this[Symbol.toStringTag]}, ${this.#most}, got ${describe(permits)}`,
      );
    }
    return permits as number;
  }

  /**
   * A wait for `permits`, read already; `arg` is a timeout or options, read here as park() reads it (no
   * closure made: the weight travels in the waiter). A wait with neither timeout nor signal queues a
   * bare resolve function, as `acquire()` does, its weight (when more than one) in `#heavy`.
   */
  #acquireMany(arg: unknown, permits: number): Promise<boolean> {
    let timeout: number;
    let signal: AbortSignal | undefined;
    try {
      ({ timeout, signal } = readWaitArg(arg));
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal !== undefined && isAborted(signal)) return Promise.reject(reasonOf(signal));
    const queue = this.#waiters;
    if (queue.size === 0 && this.#value >= permits) {
      this.#value -= permits;
      return TRUE;
    }
    if (timeout <= 0) return FALSE;
    if (timeout === Infinity && signal === undefined) {
      if (permits === 1) return queue.wait();
      const promise = new Promise<boolean>(capture);
      const tail = this.#heavyTail;
      this.#heavy[tail] = lastResolve;
      this.#heavy[tail + 1] = permits;
      this.#heavyTail = tail + 2;
      queue.add(lastResolve);
      forgetCaptured();
      return promise;
    }
    const promise = new Promise<boolean>(capture);
    const reject = signal === undefined ? undefined : lastReject;
    const w = new PermitWaiter(this.#serve, permits, queue, lastResolve, reject, signal);
    forgetCaptured();
    enqueue(queue, w, timeout, signal);
    return promise;
  }

  /**
   * The first of {@link #heavy} is being served: lets go of it. Starts again at the front once none is
   * left; in a line that never empties, cuts off the consumed front once it is over half the array.
   */
  #served(): void {
    const heavy = this.#heavy;
    const head = this.#heavyHead;
    heavy[head] = undefined;
    if (head + 2 === this.#heavyTail) {
      this.#heavyHead = this.#heavyTail = 0;
    } else if (head >= 1024 && 2 * head > this.#heavyTail) {
      this.#heavy = heavy.slice(head + 2, this.#heavyTail);
      this.#heavyHead = 0;
      this.#heavyTail = this.#heavy.length;
    } else {
      this.#heavyHead = head + 2;
    }
  }

  /**
   * Gives back `n` permits: they go to the waiters at the head of the line, in order, for as long as the
   * first one's request fits; the rest become free.
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
    this.#value += n;
    if (this.#waiters.size > 0) this.#serve();
  }

  /**
   * Takes a permit like `acquire()`, as a {@link Guard} that gives it back once: with `using`, at the
   * end of the block.
   *
   * @param options - a timeout (ms), or `{ timeout, signal, permits }`: with `permits`, the guard takes
   *   and gives back that many.
   * @throws rejects with {@link TimeoutError} when the timeout passes before a permit is taken, with
   *   `signal.reason` when the signal aborts first.
   *
   * @example
   * ```ts
   * {
   *   using _ = await pool.lock({ timeout: 5_000 });
   *   await query();
   * } // the permit is back here
   * {
   *   using _ = await memory.lock({ permits: 256 });
   *   await bigJob();
   * } // all 256 are back here
   * ```
   */
  lock(options?: number | (WaitOptions & { permits?: number | undefined })): Promise<Guard> {
    let permits = 1;
    if (typeof options === 'object' && options !== null) {
      try {
        permits = this.#permitsOf(options, 'options.permits');
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#guard(options, permits, 'lock');
  }

  /** `lock()` for `permits` permits, read already from `options`. */
  #guard(options: unknown, permits: number, method: string): Promise<Guard> {
    const name = `${this[Symbol.toStringTag]}.${method}()`;
    if (permits === 1) {
      return guarded(
        (o) => this.acquire(o),
        () => this.release(),
        options,
        name,
        'a permit',
      );
    }
    return guarded(
      (o) => this.#acquireMany(o, permits),
      () => this.release(permits),
      options,
      name,
      `${permits} permits`,
    );
  }

  /**
   * Runs `fn` holding a permit and gives it back afterwards, however `fn` ends.
   *
   * @param options - a timeout (ms), or `{ timeout, signal, permits }`, for taking the permit (or
   *   `permits` of them).
   * @returns what `fn` returns (awaited).
   * @throws rejects with {@link TimeoutError} when the timeout passes before a permit is taken, with
   *   `signal.reason` when the signal aborts first, with `TypeError` when `fn` is not a function.
   *
   * @example
   * ```ts
   * const rows = await pool.runExclusive(() => db.query('select 1'), 5_000);
   * const report = await memory.runExclusive(() => render(), { permits: 256 });
   * ```
   */
  async runExclusive<T>(
    fn: () => T | PromiseLike<T>,
    options?: number | (WaitOptions & { permits?: number | undefined }),
  ): Promise<T> {
    checkFunction(fn, 'fn');
    const permits = typeof options === 'object' && options !== null ? this.#permitsOf(options, 'options.permits') : 1;
    return runGuarded(this.#guard(options, permits, 'runExclusive'), fn);
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
