/*
 * An async FIFO queue of items, like Python's `asyncio.Queue`, with 3.13's `shutdown()`.
 *
 * Items wait in an array from a head index; tasks wait in two waiter queues: getters (for an item) and
 * putters (for room, each holding the item it brings). Every hand-off is direct, so nobody barges in:
 *  - put(): the first waiting getter is handed the item at once (it never enters the array); else the
 *    item goes in if there is room; else the putter queues with its item.
 *  - get(): takes the oldest item, and the first waiting putter's item takes the room it left, at the
 *    back, at once; else the getter queues.
 * Invariants: getters wait only while no item is queued, putters only while the queue is full.
 *
 * A waiter that times out or is aborted leaves its place at once. An item handed to a getter is its own
 * from that moment (its promise is resolved, and an abort after that does nothing), so no item is ever
 * lost or delivered twice; a putter that gives up leaves with its item, which was never added.
 *
 * shutdown(): `put()` and `tryPut()` refuse from then on, and so do the putters waiting (their items
 * are not added); the getters waiting are refused (the queue is empty while any waits); `get()` drains
 * the items left, then refuses. `shutdown(true)` also drops the items left, each counting as done for
 * `join()`. A queued waiter is refused (QueueShutDownError) or timed out (a getter's TimeoutError) by
 * resolving its promise with a thenable that rejects: a waiter without a signal keeps no reject function,
 * and handing over an item stays a plain resolve.
 *
 * The array is emptied (truncated to length 0) whenever the last item leaves, and its consumed front is cut off once it is over
 * 1,024 entries and over half the array: memory follows the items and waiters alive, in a queue that
 * never empties too.
 */
import { isAborted, reasonOf } from './core/abort.js';
import { type WaitOptions, readCount, readWaitArg } from './core/arguments.js';
import { inspectable } from './core/inspect.js';
import { enqueue, park } from './core/park.js';
import {
  type Resolve,
  TRUE,
  Waiter,
  WaiterQueue,
  capture,
  forgetCaptured,
  grant,
  lastReject,
  lastResolve,
  leave,
  stopWatching,
  takeOne,
} from './core/queue.js';
import { QueueShutDownError, TimeoutError } from './errors.js';

/** How far the consumed front of the items may grow before it is cut off. */
const FRONT = 1024;

/** What a waiter's promise is resolved with to reject it: a thenable that rejects with `error`. */
function failure(error: Error): boolean {
  return { then: (_: unknown, reject: (reason: unknown) => void) => reject(error) } as unknown as boolean;
}

const refused = (method: string) => new QueueShutDownError(`Queue.${method}(): the queue is shut down`);
const timedOut = (timeout: number) => new TimeoutError(`Queue.get() timed out after ${timeout} ms waiting for an item`);

/** A getter with a deadline or a signal: its timeout rejects with a TimeoutError. */
class GetWaiter extends Waiter {
  declare readonly timeout: number;

  constructor(
    timeout: number,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(queue, resolve, reject, signal);
    this.timeout = timeout;
  }

  override expire(): void {
    leave(this);
    stopWatching(this);
    this.resolve(failure(timedOut(this.timeout)));
  }
}

/** A putter waiting for room, with the item it brings. */
class PutWaiter<T> extends Waiter {
  declare readonly item: T;

  constructor(
    item: T,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(queue, resolve, reject, signal);
    this.item = item;
  }
}

/**
 * A first-in, first-out queue for async code on one thread, like Python's `asyncio.Queue`: producers
 * `put()` items, consumers `get()` them in the order they were put. With a `maxsize`, `put()` waits for
 * room, so a fast producer cannot run ahead of its consumers. Waiting producers and consumers are served
 * in the order they came (FIFO), an item goes straight to the consumer that waited longest, and a later
 * `get()` or `put()` never barges in ahead of one that waits. `taskDone()` and `join()` track when every
 * item put has been processed; `shutdown()` ends the queue (Python 3.13), and `for await` reads it until
 * it is shut down and drained.
 *
 * @typeParam T - the items. As with any promise, a `get()` of an item that is itself a promise (or a
 *   thenable) resolves with what that promise resolves with.
 *
 * @example
 * ```ts
 * import { Queue } from 'awaitable-event';
 *
 * const jobs = new Queue<string>(10); // at most 10 waiting: put() waits for room
 * const worker = async () => {
 *   for await (const url of jobs) await download(url); // ends once shut down and drained
 * };
 * const workers = [worker(), worker(), worker()];
 * for (const url of urls) await jobs.put(url);
 * jobs.shutdown();
 * await Promise.all(workers);
 * ```
 */
export class Queue<T> {
  readonly #maxsize: number;
  /** The items, from {@link #head}; entries before it are consumed. */
  #items: (T | undefined)[] = [];
  #head = 0;
  readonly #getters = new WaiterQueue();
  readonly #putters = new WaiterQueue();
  readonly #joiners = new WaiterQueue();
  /** Items put and not yet marked done by `taskDone()`. */
  #unfinished = 0;
  #shutDown = false;
  readonly #finished = () => this.#unfinished === 0;
  static #prepared = false;

  /**
   * @param maxsize - the most items the queue holds: a whole number of at least 1, or `Infinity` (the
   *   default) for no limit.
   * @throws `TypeError` when `maxsize` is not a number, `RangeError` when it is below 1, fractional or
   *   NaN.
   *
   * @example
   * ```ts
   * const unbounded = new Queue<number>();
   * const bounded = new Queue<number>(100);
   * ```
   */
  constructor(maxsize: number = Infinity) {
    this.#maxsize = readCount(maxsize, 'maxsize', 1, true);
    // Set up by the first queue made, not in the class body (see core/inspect.ts).
    if (!Queue.#prepared) {
      Queue.#prepared = inspectable(Queue.prototype, 'Queue', (q: Queue<unknown>) => ({
        size: q.size,
        maxsize: q.#maxsize,
        getters: q.#getters.size,
        putters: q.#putters.size,
        unfinished: q.#unfinished,
        shutDown: q.#shutDown,
      }));
    }
  }

  /**
   * The most items the queue holds (`Infinity`: no limit).
   *
   * @example
   * ```ts
   * if (jobs.size === jobs.maxsize) console.log('full: producers wait');
   * ```
   */
  get maxsize(): number {
    return this.#maxsize;
  }

  /**
   * The number of items in the queue now (an item handed straight to a waiting `get()` never counts).
   *
   * @example
   * ```ts
   * console.log(`${jobs.size} jobs waiting`);
   * ```
   */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /**
   * Puts `item` at the back of the queue, waiting for room while the queue is full. Resolves `true` once
   * the item is in (or handed to a waiting `get()`).
   *
   * @throws rejects with {@link QueueShutDownError} when the queue is shut down, before or while waiting
   *   (the item is not added).
   *
   * @example
   * ```ts
   * await jobs.put('https://example.com/');
   * ```
   */
  put(item: T): Promise<true>;
  /**
   * Puts `item` at the back of the queue, unless there is no room before the timeout (`false`: the item
   * is not added) or the signal aborts (rejects with `signal.reason`). A timeout of `0` or less puts it
   * only if there is room now.
   *
   * @param timeout - a timeout (ms), or `{ timeout, signal }`.
   * @throws rejects with {@link QueueShutDownError} when the queue is shut down, before or while waiting.
   *
   * @example
   * ```ts
   * if (!(await jobs.put(url, 1_000))) console.log('queue full for a second: dropped', url);
   * ```
   */
  put(item: T, timeout: number | WaitOptions | undefined): Promise<boolean>;
  put(item: T, timeout?: number | WaitOptions): Promise<boolean> {
    if (timeout === undefined) {
      if (this.#shutDown) return Promise.reject(refused('put'));
      if (this.#offer(item)) return TRUE;
      const promise = new Promise<boolean>(capture);
      this.#putters.add(new PutWaiter(item, this.#putters, lastResolve, undefined, undefined));
      forgetCaptured();
      return promise;
    }
    return park(
      this.#putters,
      timeout,
      () => {
        if (this.#shutDown) throw refused('put');
        return this.#offer(item);
      },
      (queue, resolve, reject, signal) => new PutWaiter(item, queue, resolve, reject, signal),
    );
  }

  /**
   * Puts `item` now if there is room (or a `get()` waits for it) and returns `true`; returns `false`,
   * adding nothing, when the queue is full.
   *
   * @throws {@link QueueShutDownError} when the queue is shut down.
   *
   * @example
   * ```ts
   * if (!events.tryPut(event)) dropped++;
   * ```
   */
  tryPut(item: T): boolean {
    if (this.#shutDown) throw refused('tryPut');
    return this.#offer(item);
  }

  /**
   * Takes the item at the front of the queue, waiting for one while the queue is empty.
   *
   * @throws rejects with {@link QueueShutDownError} when the queue is shut down and empty, before or
   *   while waiting.
   *
   * @example
   * ```ts
   * const url = await jobs.get();
   * ```
   */
  get(): Promise<T>;
  /**
   * Takes the item at the front of the queue, unless none comes before the timeout or the signal aborts.
   * A timeout of `0` or less takes an item only if one is there now.
   *
   * @param timeout - a timeout (ms), or `{ timeout, signal }`.
   * @throws rejects with {@link TimeoutError} when no item comes in time, with `signal.reason` when the
   *   signal aborts first, with {@link QueueShutDownError} when the queue is shut down and empty.
   *
   * @example
   * ```ts
   * const job = await jobs.get({ timeout: 5_000, signal: stop.signal });
   * ```
   */
  get(timeout: number | WaitOptions | undefined): Promise<T>;
  get(timeout?: number | WaitOptions): Promise<T> {
    if (timeout === undefined) {
      if (this.size > 0) return Promise.resolve(this.#take());
      if (this.#shutDown) return Promise.reject(refused('get'));
      return this.#getters.wait() as Promise<unknown> as Promise<T>;
    }
    let ms: number;
    let signal: AbortSignal | undefined;
    try {
      ({ timeout: ms, signal } = readWaitArg(timeout));
      if (signal !== undefined && isAborted(signal)) return Promise.reject(reasonOf(signal));
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.size > 0) return Promise.resolve(this.#take());
    if (this.#shutDown) return Promise.reject(refused('get'));
    if (ms <= 0) return Promise.reject(timedOut(ms));
    const promise = new Promise<boolean>(capture);
    const reject = signal === undefined ? undefined : lastReject;
    const w = new GetWaiter(ms, this.#getters, lastResolve, reject, signal);
    forgetCaptured();
    enqueue(this.#getters, w, ms, signal);
    return promise as Promise<unknown> as Promise<T>;
  }

  /**
   * Takes the item at the front of the queue now, or returns `undefined` when it is empty.
   *
   * @throws {@link QueueShutDownError} when the queue is shut down and empty.
   *
   * @example
   * ```ts
   * let job;
   * while ((job = jobs.tryGet()) !== undefined) handle(job);
   * ```
   */
  tryGet(): T | undefined {
    if (this.size > 0) return this.#take();
    if (this.#shutDown) throw refused('tryGet');
    return undefined;
  }

  /**
   * Marks one item taken from the queue as processed: once every item put has been, `join()` resolves.
   *
   * @throws `Error` when called more times than items were put.
   *
   * @example
   * ```ts
   * const job = await jobs.get();
   * try {
   *   await handle(job);
   * } finally {
   *   jobs.taskDone();
   * }
   * ```
   */
  taskDone(): void {
    if (this.#unfinished === 0) throw new Error('Queue.taskDone() called more times than items were put');
    if (--this.#unfinished === 0) this.#joiners.releaseAll(true);
  }

  /**
   * Waits until every item put has been marked processed by `taskDone()`.
   *
   * @example
   * ```ts
   * for (const url of urls) await jobs.put(url);
   * await jobs.join(); // every job handled
   * ```
   */
  join(): Promise<true>;
  /**
   * Waits until every item put has been processed, unless the timeout runs out first (`false`) or the
   * signal aborts (rejects with `signal.reason`).
   *
   * @param timeout - a timeout (ms), or `{ timeout, signal }`.
   *
   * @example
   * ```ts
   * if (!(await jobs.join(60_000))) console.log('still busy after a minute');
   * ```
   */
  join(timeout: number | WaitOptions | undefined): Promise<boolean>;
  join(timeout?: number | WaitOptions): Promise<boolean> {
    if (timeout === undefined) return this.#unfinished === 0 ? TRUE : this.#joiners.wait();
    return park(this.#joiners, timeout, this.#finished);
  }

  /**
   * Shuts the queue down, as Python 3.13 does: from now on `put()` and `tryPut()` refuse with a
   * {@link QueueShutDownError}, and so do the `put()`s waiting for room (their items are not added);
   * `get()` takes the items left, then refuses too, as do the `get()`s waiting now. With `immediate`,
   * the items left are dropped at once, each counting as done, so `join()` resolves if no item taken
   * earlier is still unprocessed. Calling it again does no harm (and `shutdown(true)` after `shutdown()`
   * drops the items left).
   *
   * @param immediate - also drop the items left (default `false`: they can still be taken).
   *
   * @example
   * ```ts
   * jobs.shutdown();     // no more jobs: the workers finish those queued, then stop
   * jobs.shutdown(true); // stop now: the jobs queued are dropped
   * ```
   */
  shutdown(immediate: boolean = false): void {
    this.#shutDown = true;
    if (immediate) {
      const dropped = this.size;
      this.#items = [];
      this.#head = 0;
      this.#unfinished = Math.max(0, this.#unfinished - dropped);
      if (this.#unfinished === 0) this.#joiners.releaseAll(true);
    }
    for (let e = takeOne(this.#getters); e !== undefined; e = takeOne(this.#getters)) {
      grant(e, failure(refused('get')));
    }
    for (let e = takeOne(this.#putters); e !== undefined; e = takeOne(this.#putters)) {
      grant(e, failure(refused('put')));
    }
  }

  /**
   * Reads the queue with `for await`: each turn takes an item as `get()` does, and the loop ends once the
   * queue is shut down and drained (an item that is a rejected promise throws its reason out of the
   * loop, as `get()` rejects with it). Leaving the loop early takes nothing more. It does not call
   * `taskDone()`: call it yourself where you use `join()`.
   *
   * @example
   * ```ts
   * for await (const job of jobs) {
   *   await handle(job);
   * }
   * console.log('shut down, every job handled');
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Awaited<T>, void, undefined> {
    for (;;) {
      let item: Awaited<T>;
      try {
        item = await this.get();
      } catch (error) {
        // Shut down and drained; any other failure is an item's own (a rejected promise), for the loop.
        if (error instanceof QueueShutDownError && this.#shutDown) return;
        throw error;
      }
      yield item;
    }
  }

  get [Symbol.toStringTag](): string {
    return 'Queue';
  }

  /** Puts `item` now, handing it to the first waiting getter if there is one; false when full. */
  #offer(item: T): boolean {
    const getter = takeOne(this.#getters);
    if (getter !== undefined) grant(getter, item as unknown as boolean);
    else if (this.size < this.#maxsize) this.#items.push(item);
    else return false;
    this.#unfinished++;
    return true;
  }

  /** Takes the front item (there is one), letting the first waiting putter's item in behind. */
  #take(): T {
    const items = this.#items;
    const item = items[this.#head] as T;
    items[this.#head++] = undefined;
    const putter = takeOne(this.#putters) as PutWaiter<T> | undefined;
    if (putter !== undefined) {
      items.push(putter.item);
      this.#unfinished++;
      grant(putter, true);
    }
    if (this.#head === items.length) {
      items.length = 0; // lets go of the array's storage too
      this.#head = 0;
    } else if (this.#head > FRONT && 2 * this.#head > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
