import { type WaitOptions, checkFunction, readWaitArg } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { park } from './core/park.js';
import { TRUE, WaiterQueue } from './core/queue.js';
import { TimeoutError } from './errors.js';

/**
 * The key of a lock's internal `enter(then)`: takes the lock for `then`, calling it at once when the lock
 * is free, else when the lock is handed to it in turn. What a condition's waiter uses to get its lock
 * back without a promise of its own. Registered, so that the ESM and CommonJS builds (and two copies of
 * the package) recognise each other's locks; versioned, so that another protocol never matches.
 */
const ENTER = /*#__PURE__*/ Symbol.for('awaitable-event/Lock.enter@1');

type Enter = (this: Lock, then: () => void) => void;

function defineEnter(proto: Lock, enter: Enter): true {
  Object.defineProperty(proto, ENTER, { value: enter });
  return true;
}

/** Whether `value` is a {@link Lock} of any build of this package. */
export function isLock(value: unknown): value is Lock {
  return typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[ENTER] === 'function';
}

/** Takes `lock` (of any build) for `then`: see {@link ENTER}. */
export function enterLock(lock: Lock, then: () => void): void {
  (lock as unknown as Record<symbol, Enter>)[ENTER]!.call(lock, then);
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
    // Set up on the first lock made, not in the class body (see core/inspect.ts): inspect and ENTER.
    if (!Lock.#prototypeReady)
      Lock.#prototypeReady =
        inspectable(Lock.prototype, 'Lock', (l) => ({ locked: l.#locked, waiters: l.#waiters.size })) &&
        defineEnter(Lock.prototype, function (this: Lock, then) {
          if (this.#locked) this.#waiters.add(then);
          else {
            this.#locked = true;
            then();
          }
        });
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
    if (arg === undefined && !this.#locked) {
      this.#locked = true;
      return TRUE;
    }
    return park(this.#waiters, arg, this.#take);
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
    if (!this.#waiters.releaseOne(true)) this.#locked = false;
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
    const { timeout, signal } = readWaitArg(options);
    if (!(await this.acquire({ timeout, signal }))) {
      throw new TimeoutError(`Lock.runExclusive() timed out after ${timeout} ms waiting for the lock`);
    }
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  get [Symbol.toStringTag](): string {
    return 'Lock';
  }
}
