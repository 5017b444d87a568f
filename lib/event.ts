import type { WaitOptions } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { park } from './core/park.js';
import { TRUE, WaiterQueue } from './core/queue.js';

/**
 * An event for one thread: a flag, false at first, and a queue of waiters. `set()` makes the flag true
 * and releases every pending waiter; `clear()` makes it false; `wait()` resolves `true` once the flag is
 * set, or `false` when its timeout runs out first.
 *
 * Like Python's `asyncio.Event`. Inside a module that imports it, `Event` shadows the global DOM/Node
 * `Event`; import it as `{ Event as AsyncEvent }` where you need both.
 *
 * @example
 * ```ts
 * import { Event } from 'awaitable-event';
 *
 * const ready = new Event();
 * connect().then(ready.set);
 *
 * await ready.wait();                   // until connected
 * if (!(await ready.wait(5_000))) throw new Error('not connected within 5 s');
 * ```
 */
export class Event {
  #flag = false;
  readonly #waiters = new WaiterQueue();
  readonly #isSet = () => this.#flag;
  // eslint-disable-next-line no-unused-private-class-members -- read by its ||= in the constructor
  static #prepared: boolean | undefined;

  constructor() {
    // Own bound copies of the prototype's methods, so that they can be passed as callbacks (which makes
    // their `this: void` signatures true; the cast is for bind(), which takes those at their word).
    this.set = this.set.bind(this as never);
    this.clear = this.clear.bind(this as never);
    // Set up by the first event made, not in the class body (see core/inspect.ts).
    Event.#prepared ||= inspectable(Event.prototype, 'Event', (e) => ({ set: e.#flag, waiters: e.#waiters.size }));
  }

  /**
   * Whether the flag is set.
   *
   * @example
   * ```ts
   * while (!stop.isSet()) await work();
   * ```
   */
  isSet(): boolean {
    return this.#flag;
  }

  /**
   * Sets the flag and releases every pending waiter with `true`, in the order they called `wait()`. Does
   * nothing when the flag is already set. Bound to its event, so it can be passed as a callback.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', stop.set);
   * ```
   */
  set(this: void): void;
  set(): void {
    // Nobody queues while the flag is set: a second set() has nothing to do.
    if (this.#flag) return;
    this.#flag = true;
    this.#waiters.releaseAll(true);
  }

  /**
   * Clears the flag; later `wait()` calls wait for the next `set()`. Waiters that `set()` already
   * released stay released. Bound to its event, so it can be passed as a callback.
   *
   * @example
   * ```ts
   * ready.clear(); // connection lost: wait for the next set()
   * ```
   */
  clear(this: void): void;
  clear(): void {
    this.#flag = false;
  }

  /**
   * Waits until the flag is set. Resolves `true` at once when it is set already.
   *
   * Waits with no timeout and no signal made one after another, with nothing in between but other such
   * waits, may return the same promise: they are released together, in their place in line.
   *
   * Cancel safety: a wait that times out or is aborted leaves the queue at once, with no timer and no
   * signal listener left behind.
   *
   * @example
   * ```ts
   * await ready.wait(); // true
   * ```
   */
  wait(): Promise<true>;
  /**
   * Waits until the flag is set, or until `timeout` milliseconds pass.
   *
   * @param timeout - milliseconds; `Infinity` waits for ever, `0` or less answers at once with the flag.
   * @returns `true` when the flag was set in time, `false` when the timeout ran out first.
   * @throws never synchronously; the promise rejects with `TypeError` (not a number) or `RangeError` (NaN).
   *
   * @example
   * ```ts
   * const ok = await ready.wait(1_000); // false if not set within a second
   * ```
   */
  wait(timeout: number): Promise<boolean>;
  /**
   * Waits until the flag is set, the timeout runs out (`false`), or the signal aborts (rejects with
   * `signal.reason`).
   *
   * @example
   * ```ts
   * const ok = await ready.wait({ timeout: 1_000, signal: AbortSignal.timeout(500) });
   * ```
   */
  wait(options: WaitOptions): Promise<boolean>;
  /**
   * Waits until the flag is set, with an optional timeout (ms) or options: the form to forward an
   * argument that may be either, or absent.
   *
   * @example
   * ```ts
   * function waitReady(timeout?: number): Promise<boolean> {
   *   return ready.wait(timeout);
   * }
   * ```
   */
  wait(arg?: number | WaitOptions): Promise<boolean>;
  wait(arg?: number | WaitOptions): Promise<boolean> {
    if (arg === undefined) return this.#flag ? TRUE : this.#waiters.join();
    return park(this.#waiters, arg, this.#isSet);
  }

  get [Symbol.toStringTag](): string {
    return 'Event';
  }
}
