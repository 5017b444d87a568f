import { type WaitOptions, checkFunction } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { keepIdle } from './core/shape.js';
import { park } from './core/park.js';
import { type Entry, TRUE, WaiterQueue, grant, releaseOne } from './core/queue.js';
import { type Guard, guarded, heldGuard, runGuarded } from './guard.js';

/**
 * The key of a lock's internal `enter(entry)`: takes the lock for a queue entry, granting it at once when
 * the lock is free, else queueing it to be granted in turn. An entry is a function, called with `true`,
 * or an object with a `queued` getter (true while it waits) and a `grant(true)` method: a waiter's
 * resolve function or a {@link Waiter}, as a queue holds them. What a condition uses to give a notified
 * waiter its lock back with nothing allocated: the condition's queue entry moves into the lock's queue.
 * Registered, so that two copies of the package (installed side by side) recognise each other's
 * locks; versioned, so that another protocol never matches.
 */
const ENTER = /*#__PURE__*/ Symbol.for('awaitable-event/Lock.enter@2');

type Enter = (this: Lock, entry: Entry) => void;

function defineEnter(proto: Lock, enter: Enter): true {
  Object.defineProperty(proto, ENTER, { value: enter });
  return true;
}

/** Whether `value` is a {@link Lock} of any build of this package. */
export function isLock(value: unknown): value is Lock {
  return typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[ENTER] === 'function';
}

/** Takes `lock` (of any build) for `entry`: see {@link ENTER}. */
export function enterLock(lock: Lock, entry: Entry): void {
  (lock as unknown as Record<symbol, Enter>)[ENTER]!.call(lock, entry);
}

/**
 * A lock for async code on one thread: at most one holder at a time, the others queue and get it in the
 * order they asked (FIFO). `release()` hands it straight to the first in line, so a later `acquire()`
 * never barges in ahead of a queued waiter. Like Python's `asyncio.Lock`, it does not track which task
 * holds it: whoever acquired it releases it.
 *
 * @example
 * ```ts
 * import { Lock } from 'awaitable-event';
 *
 * const lock = new Lock();
 * await lock.runExclusive(async () => {
 *   await writeConfig(); // never two at once
 * });
 * ```
 */
export class Lock {
  #locked = false;
  readonly #waiters = new WaiterQueue();
  readonly #take = () => !this.#locked && (this.#locked = true);
  static #prototypeReady = false;

  constructor() {
    // Set up by the first lock made, not in the class body (see core/inspect.ts and core/shape.ts).
    if (!Lock.#prototypeReady) {
      Lock.#prototypeReady = true;
      inspectable(Lock.prototype, 'Lock', (l) => ({ locked: l.#locked, waiters: l.#waiters.size }));
      defineEnter(Lock.prototype, function (this: Lock, entry) {
        if (this.#locked) this.#waiters.add(entry);
        else {
          this.#locked = true;
          grant(entry, true);
        }
      });
      keepIdle(new Lock());
    }
  }

  /**
   * Whether someone holds the lock.
   *
   * @example
   * ```ts
   * if (!lock.locked()) console.log('free');
   * ```
   */
  locked(): boolean {
    return this.#locked;
  }

  /**
   * Takes the lock: at once when it is free (and nobody is queued), else in turn.
   *
   * Cancel safety: a waiter that times out or is aborted leaves the queue at once and never holds the
   * lock afterwards; once `acquire()` has resolved `true`, the caller holds the lock and must release it.
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
    // A free lock has nobody queued: release() hands a held lock straight to the first waiter.
    if (arg !== undefined) return park(this.#waiters, arg, this.#take);
    if (this.#locked) return this.#waiters.wait();
    this.#locked = true;
    return TRUE;
  }

  /**
   * Takes the lock now if it is free, and returns `true`; otherwise takes nothing and returns `false`.
   * A free lock has nobody queued, so this never barges in ahead of a waiter.
   *
   * @example
   * ```ts
   * if (lock.tryAcquire()) {
   *   try { flushCache(); } finally { lock.release(); }
   * } // else someone else is flushing: skip
   * ```
   */
  tryAcquire(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  /**
   * Like {@link Lock.tryAcquire}, as a {@link Guard} that releases the lock once, or `undefined` when
   * the lock is not free (`using` accepts both).
   *
   * @example
   * ```ts
   * using guard = lock.tryLock();
   * if (guard === undefined) return 'busy';
   * flushCache();
   * ```
   */
  tryLock(): Guard | undefined {
    return this.tryAcquire() ? heldGuard(() => this.release()) : undefined;
  }

  /**
   * Releases the lock, handing it to the longest-waiting waiter if there is one.
   *
   * @throws `Error` when the lock is not held.
   *
   * @example
   * ```ts
   * lock.release();
   * ```
   */
  release(): void {
    if (!this.#locked) throw new Error('Lock.release() called on a lock that is not held');
    if (!releaseOne(this.#waiters, true)) this.#locked = false;
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
   *   await writeConfig();
   * } // released here
   * ```
   */
  lock(options?: number | WaitOptions): Promise<Guard> {
    return guarded(
      (o) => this.acquire(o),
      () => this.release(),
      options,
      'Lock.lock()',
      'the lock',
    );
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
   * const total = await lock.runExclusive(() => account.balance + 1, 1_000);
   * ```
   */
  async runExclusive<T>(fn: () => T | PromiseLike<T>, options?: number | WaitOptions): Promise<T> {
    checkFunction(fn, 'fn');
    const guard = guarded(
      (o) => this.acquire(o),
      () => this.release(),
      options,
      'Lock.runExclusive()',
      'the lock',
    );
    return runGuarded(guard, fn);
  }

  get [Symbol.toStringTag](): string {
    return 'Lock';
  }
}
