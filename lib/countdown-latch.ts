import { type WaitOptions, readCount } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { park } from './core/park.js';
import { TRUE, WaiterQueue } from './core/queue.js';

/**
 * A countdown latch for async code on one thread: it starts at `count`, `countDown()` lowers it, and
 * `wait()` resolves once it reaches 0; from then on it stays open. Like Java's `CountDownLatch` or
 * @esfx's `AsyncCountdownEvent`: the tool to wait for N things to finish without counting them yourself.
 * Unlike Java's, counting down past 0 is an error (a `RangeError`, nothing changed), not ignored: one
 * more `countDown()` than things to wait for is a bug worth seeing.
 *
 * @example
 * ```ts
 * import { CountdownLatch } from 'awaitable-event';
 *
 * const loaded = new CountdownLatch(files.length);
 * for (const file of files) {
 *   void load(file)
 *     .catch((error: unknown) => console.error(file, error)) // reported, not an unhandled rejection
 *     .finally(() => loaded.countDown());
 * }
 * await loaded.wait(); // every file loaded (or failed)
 * ```
 */
export class CountdownLatch {
  #count: number;
  readonly #waiters = new WaiterQueue();
  readonly #open = () => this.#count === 0;
  static #prepared = false;

  /**
   * @param count - how many `countDown()`s open the latch: a whole number, 0 or more (0: open already).
   * @throws `TypeError` when `count` is not a number, `RangeError` when it is negative, fractional, NaN
   *   or infinite.
   *
   * @example
   * ```ts
   * const ready = new CountdownLatch(3);
   * ```
   */
  constructor(count: number) {
    this.#count = readCount(count, 'count', 0);
    // Set up by the first latch made, not in the class body (see core/inspect.ts).
    if (!CountdownLatch.#prepared) {
      CountdownLatch.#prepared = inspectable(CountdownLatch.prototype, 'CountdownLatch', (l) => ({
        count: l.#count,
        waiters: l.#waiters.size,
      }));
    }
  }

  /**
   * How many `countDown()`s are still to come; 0 once open.
   *
   * @example
   * ```ts
   * console.log(`${loaded.count} files to go`);
   * ```
   */
  get count(): number {
    return this.#count;
  }

  /**
   * Lowers the count by `n`; reaching 0 releases every waiter, in the order they came.
   *
   * @param n - a whole number of at least 1 (default 1), no more than the count.
   * @throws `RangeError` when `n` is more than the count (the count never goes below 0; nothing changes),
   *   or below 1, fractional, NaN or infinite; `TypeError` when `n` is not a number.
   *
   * @example
   * ```ts
   * loaded.countDown();
   * batch.countDown(10);
   * ```
   */
  countDown(n: number = 1): void {
    if (n !== 1) readCount(n, 'n', 1);
    if (n > this.#count) {
      throw new RangeError(`CountdownLatch.countDown(${n}) would take the count below 0: it is ${this.#count}`);
    }
    this.#count -= n;
    if (this.#count === 0) this.#waiters.releaseAll(true);
  }

  /**
   * Waits until the count reaches 0 (at once when it has).
   *
   * @example
   * ```ts
   * await loaded.wait();
   * ```
   */
  wait(): Promise<true>;
  /**
   * Waits until the count reaches 0, unless the timeout runs out first (`false`) or the signal aborts
   * (rejects with `signal.reason`).
   *
   * @param timeout - a timeout (ms), or `{ timeout, signal }`.
   *
   * @example
   * ```ts
   * if (!(await loaded.wait(5_000))) console.log(`${loaded.count} files still loading`);
   * ```
   */
  wait(timeout: number | WaitOptions | undefined): Promise<boolean>;
  wait(timeout?: number | WaitOptions): Promise<boolean> {
    if (timeout === undefined) return this.#count === 0 ? TRUE : this.#waiters.wait();
    return park(this.#waiters, timeout, this.#open);
  }

  get [Symbol.toStringTag](): string {
    return 'CountdownLatch';
  }
}
