/*
 * SharedEvent: one event, seen by every thread that maps its word of shared memory.
 *
 * # The state word
 *
 * One Int32 at `byteOffset`:
 *
 *     bit 0       SET: the flag
 *     bits 1..31  the generation: how many times the flag went from clear to set (mod 2^31)
 *
 * Writers, from any thread:
 * - `set()`   clear → set only: a compare-exchange from `w` (SET clear) to `w + 2 | SET` (next generation,
 *             SET), then `Atomics.notify` of every engine waiter on the word. A set event is left alone.
 * - `clear()` `Atomics.and(~SET)`: the generation stays. It wakes nobody: nobody waits on a set word.
 *
 * # Why no wake-up is lost
 *
 * A waiter samples the word `w` (SET clear) and waits until the word is no longer `w`. Since `set()`
 * always moves the generation, a waiter pending when any thread ran `set()` sees a new word afterwards,
 * even when `clear()` ran at once after it: the word never returns to `w` (short of 2^31 sets in
 * between). Re-reading only the flag after waking would lose such a set-then-clear pulse.
 *
 * # Waiters of one thread
 *
 * The waiters of this thread sit in a local {@link WaiterQueue}, all waiting on the same sampled word
 * `seen`. One engine waiter per event per thread (`Atomics.waitAsync` on `seen`) stands for all of them,
 * so a timed-out or aborted wait leaves nothing behind in the engine, however many come and go: that one
 * engine waiter is reused by the next wait, and goes when the word changes. Whenever this thread looks at
 * the word and finds it is not `seen` any more (on waking, on every `set()`, on every `wait()`), it
 * releases its whole local queue with `true` and samples again: those waiters were all pending when a
 * `set()` happened. A `set()` on this thread releases this thread's waiters at once, synchronously, as
 * `Event.set()` does.
 *
 * Where `Atomics.waitAsync` is missing, the same catch-up runs from a polling timer instead (1 ms, then
 * doubling up to 32 ms; back to 1 ms after each wake).
 *
 * # Cancel safety and lifetime
 *
 * A wait that times out or is aborted leaves the local queue at once (O(1)); when the queue empties, the
 * polling timer and the keep-alive handle go too. Node keeps nothing alive for a pending `waitAsync`, so
 * in a Node worker thread a ref'd handle keeps the thread alive while it has waiters; on the main thread
 * none is held, so a pending wait keeps the process alive exactly as the same wait on `Event` would.
 */
import { type WaitOptions, readTimeout } from '../core/arguments.js';
import { monotonic } from '../core/clock.js';
import { type Inspect, inspectAs, inspectSymbol } from '../core/inspect.js';
import { park } from '../core/park.js';
import { TRUE, WaiterQueue } from '../core/queue.js';
import { sharedMemory } from './memory.js';

/** Bit 0 of the word: the flag. */
const SET = 1;

/** True when the word has the flag set. */
const isSetWord = (word: number) => (word & SET) !== 0;

/** The word with the flag cleared, the value waiters wait on. */
const withoutFlag = (word: number) => word & ~SET;

/** The word after a `set()` of `word` (clear): next generation, flag set. Wraps as Int32 does. */
const nextSet = (word: number) => (word + 2) | SET | 0;

/** The longest and shortest polling delays of the fallback, in ms. */
const POLL_MIN = 1;
const POLL_MAX = 32;

/**
 * An {@link Event} whose state lives in a `SharedArrayBuffer`, so every thread holding the buffer
 * (Node `worker_threads`, browser Web Workers) sets, clears and awaits the same event, with no messages.
 * Post `buffer` and `byteOffset` to another thread and rebuild the event there with
 * `new SharedEvent(buffer, byteOffset)`. Several events may share one buffer at different offsets.
 *
 * Every promise of `Event` holds across threads: a waiter pending in any thread when `set()` runs in any
 * other resolves `true`, even if `clear()` follows at once. `wait()` needs `Atomics.waitAsync` (Node 16,
 * Chrome 90, Safari 16.4, Firefox 145) and falls back to polling where it is missing; `waitSync()` blocks
 * the thread with `Atomics.wait` where that is allowed (not on a browser page's main thread).
 *
 * @example
 * ```ts
 * // main thread
 * import { SharedEvent } from 'awaitable-event';
 * import { Worker } from 'node:worker_threads';
 *
 * const ready = new SharedEvent();
 * new Worker('./worker.js', { workerData: { buffer: ready.buffer, byteOffset: ready.byteOffset } });
 * await ready.wait(); // until the worker calls ready.set()
 *
 * // worker.js
 * import { workerData } from 'node:worker_threads';
 * const ready = new SharedEvent(workerData.buffer, workerData.byteOffset);
 * await loadEverything();
 * ready.set();
 * ```
 */
export class SharedEvent {
  /**
   * Bytes one event occupies in a buffer; offsets of several events in one buffer are multiples of it.
   *
   * @example
   * ```ts
   * const buffer = new SharedArrayBuffer(3 * SharedEvent.BYTES);
   * const events = [0, 1, 2].map((i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
   * ```
   */
  static readonly BYTES: number = 4;

  /**
   * The shared memory holding the event: post it (with {@link SharedEvent.byteOffset}) to other threads.
   *
   * @example
   * ```ts
   * worker.postMessage({ buffer: event.buffer, byteOffset: event.byteOffset });
   * ```
   */
  readonly buffer: SharedArrayBuffer;

  /**
   * Where in {@link SharedEvent.buffer} the event's word is.
   *
   * @example
   * ```ts
   * const same = new SharedEvent(event.buffer, event.byteOffset);
   * ```
   */
  readonly byteOffset: number;

  readonly #words: Int32Array;
  readonly #index: number;
  readonly #waiters = new WaiterQueue();
  /** The word (flag clear) every local waiter is waiting to change. */
  #seen: number;
  /** An engine waiter for `#seen` is pending. */
  #watching = false;
  #poll: { handle: unknown; cancel: (handle: never) => void; delay: number } | undefined;
  #holdsThread = false;
  readonly #isSet = () => this.isSet();
  readonly #onWake = () => {
    this.#watching = false;
    this.#catchUp();
    this.#watch();
  };
  readonly #onPoll = () => {
    const poll = this.#poll!;
    this.#poll = undefined;
    this.#catchUp();
    if (this.#waiters.size > 0) this.#startPolling(Math.min(poll.delay * 2, POLL_MAX));
  };

  /**
   * @param buffer - the shared memory to use; omitted, a new `SharedArrayBuffer` of
   *   {@link SharedEvent.BYTES} bytes is allocated (with the flag clear).
   * @param byteOffset - where the event's word is in `buffer`: a multiple of 4, default 0.
   * @throws `TypeError` when `buffer` is not a `SharedArrayBuffer` (or shared memory is unavailable: in a
   *   browser, the page needs cross-origin isolation) or `byteOffset` is not a number; `RangeError` when
   *   `byteOffset` is not a multiple of 4 or does not leave room for the event in `buffer`.
   *
   * @example
   * ```ts
   * const event = new SharedEvent();                          // a new buffer
   * const again = new SharedEvent(event.buffer, event.byteOffset); // the same event, e.g. in a worker
   * ```
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    const memory = sharedMemory('SharedEvent', 'an event', SharedEvent.BYTES, buffer, byteOffset);
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    this.#words = memory.words;
    this.#index = memory.index;
    this.#seen = withoutFlag(Atomics.load(this.#words, this.#index));
    this.#waiters.onEmpty = () => this.#idle();
  }

  /**
   * Whether the flag is set, as any thread last left it.
   *
   * @example
   * ```ts
   * if (shutdown.isSet()) return;
   * ```
   */
  isSet(): boolean {
    return isSetWord(Atomics.load(this.#words, this.#index));
  }

  /**
   * Sets the flag and releases every waiter of every thread with `true`. Does nothing when the flag is
   * already set. Bound to its event, so it can be passed as a callback.
   *
   * @example
   * ```ts
   * ready.set(); // in any thread
   * ```
   */
  readonly set: (this: void) => void = () => {
    const words = this.#words;
    const i = this.#index;
    let word = Atomics.load(words, i);
    while (!isSetWord(word)) {
      const found = Atomics.compareExchange(words, i, word, nextSet(word));
      if (found === word) {
        Atomics.notify(words, i);
        break;
      }
      word = found;
    }
    this.#catchUp();
  };

  /**
   * Clears the flag, for every thread. Waiters that a `set()` already released stay released. Bound to
   * its event, so it can be passed as a callback.
   *
   * @example
   * ```ts
   * ready.clear();
   * ```
   */
  readonly clear: (this: void) => void = () => {
    Atomics.and(this.#words, this.#index, ~SET);
  };

  /**
   * Waits until the flag is set, by any thread. Resolves `true` at once when it is set already.
   *
   * Cancel safety: a wait that times out or is aborted leaves the queue at once, with no timer, no signal
   * listener and no new engine waiter left behind.
   *
   * @example
   * ```ts
   * await ready.wait(); // true
   * ```
   */
  wait(): Promise<true>;
  /**
   * Waits until the flag is set, or until `timeout` milliseconds pass (`false`).
   *
   * @example
   * ```ts
   * if (!(await ready.wait(5_000))) console.log('worker not ready after 5 s');
   * ```
   */
  wait(timeout: number): Promise<boolean>;
  /**
   * Waits until the flag is set, the timeout runs out (`false`), or the signal aborts (rejects with
   * `signal.reason`).
   *
   * @example
   * ```ts
   * await ready.wait({ timeout: 5_000, signal: controller.signal });
   * ```
   */
  wait(options: WaitOptions): Promise<boolean>;
  /**
   * Waits until the flag is set, with an optional timeout (ms) or options: the form to forward an
   * argument that may be either, or absent.
   *
   * @example
   * ```ts
   * const waitReady = (timeout?: number) => ready.wait(timeout);
   * ```
   */
  wait(arg?: number | WaitOptions): Promise<boolean>;
  wait(arg?: number | WaitOptions): Promise<boolean> {
    const word = Atomics.load(this.#words, this.#index);
    if (isSetWord(word) && arg === undefined) return TRUE;
    if (word !== this.#seen) this.#catchUp();
    const before = this.#waiters.size;
    const promise = park(this.#waiters, arg, this.#isSet);
    if (this.#waiters.size > before) {
      this.#watch();
      this.#holdThread();
    }
    return promise;
  }

  /**
   * Blocks the thread until the flag is set or `timeout` milliseconds pass. Only where `Atomics.wait` is
   * allowed: Node's main thread, Node workers and Web Workers, not a browser page's main thread.
   *
   * @param timeout - milliseconds; omitted or `Infinity` waits for ever, `0` or less answers at once.
   * @returns `true` when the flag was set in time, `false` when the timeout ran out first.
   * @throws `Error` where the thread may not block (use `await event.wait()` there); `TypeError` /
   *   `RangeError` for a timeout that is not a number / NaN.
   *
   * @example
   * ```ts
   * // in a worker
   * while (!stop.waitSync(100)) doSomeWork();
   * ```
   */
  waitSync(timeout?: number): boolean {
    const ms = timeout === undefined ? Infinity : readTimeout(timeout, 'timeout');
    assertMayBlock();
    const words = this.#words;
    const i = this.#index;
    const word = Atomics.load(words, i);
    if (isSetWord(word)) return true;
    const deadline = monotonic() + ms;
    for (let left = ms; left > 0; left = deadline - monotonic()) {
      // 'timed-out' is the engine's word that `left` ms have elapsed on its own (monotonic) clock.
      if (Atomics.wait(words, i, word, left) === 'timed-out') return Atomics.load(words, i) !== word;
      if (Atomics.load(words, i) !== word) return true;
    }
    return false;
  }

  get [Symbol.toStringTag](): string {
    return 'SharedEvent';
  }

  [inspectSymbol](_depth: number, options: object, inspect: Inspect): string {
    return inspectAs('SharedEvent', { set: this.isSet(), waiters: this.#waiters.size }, options, inspect);
  }

  /** Releases the local waiters if the word moved since they sampled it. */
  #catchUp(): void {
    const word = Atomics.load(this.#words, this.#index);
    if (word === this.#seen) return;
    this.#seen = withoutFlag(word);
    this.#waiters.releaseAll(true);
  }

  /** Makes sure something will run `#catchUp` when the word moves, while there are local waiters. */
  #watch(): void {
    if (this.#watching || this.#poll !== undefined || this.#waiters.size === 0) return;
    if (typeof Atomics.waitAsync !== 'function') return this.#startPolling(POLL_MIN);
    const result = Atomics.waitAsync(this.#words, this.#index, this.#seen);
    if (result.async) {
      this.#watching = true;
      void result.value.then(this.#onWake);
    } else {
      this.#catchUp(); // the word moved before the engine waiter could start: every waiter is released
    }
  }

  #startPolling(delay: number): void {
    const handle = globalThis.setTimeout(this.#onPoll, delay);
    (handle as { unref?: () => void }).unref?.();
    this.#poll = { handle, cancel: globalThis.clearTimeout as (handle: never) => void, delay };
  }

  #holdThread(): void {
    if (!this.#holdsThread && keepAlive.needed) {
      this.#holdsThread = true;
      keepAlive.hold();
    }
  }

  /** The last local waiter left: stop polling and let the thread go. */
  #idle(): void {
    if (this.#poll !== undefined) {
      this.#poll.cancel.call(globalThis, this.#poll.handle as never);
      this.#poll = undefined;
    }
    if (this.#holdsThread) {
      this.#holdsThread = false;
      keepAlive.release();
    }
  }
}

let mayBlock: boolean | undefined;

/** Throws where `Atomics.wait` may not block this thread (a browser page's main thread). */
function assertMayBlock(): void {
  if (mayBlock === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      mayBlock = true;
    } catch {
      mayBlock = false;
    }
  }
  if (!mayBlock) {
    throw new Error(
      'SharedEvent.waitSync() cannot block this thread (Atomics.wait is not allowed here, as on a ' +
        "browser page's main thread); use await event.wait() instead",
    );
  }
}

/**
 * One ref'd interval for the whole thread while any SharedEvent of it has waiters, in a Node worker
 * only (its pending `Atomics.waitAsync` would not keep it alive).
 */
const keepAlive = {
  get needed(): boolean {
    return (this.isWorker ??= isNodeWorker());
  },
  isWorker: undefined as boolean | undefined,
  holders: 0,
  handle: undefined as unknown,
  hold(): void {
    if (this.holders++ === 0) this.handle = setInterval(() => {}, POLL_MAX * 1_000_000);
  },
  release(): void {
    if (--this.holders === 0) clearInterval(this.handle as ReturnType<typeof setInterval>);
  },
};

function isNodeWorker(): boolean {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const threads = node?.getBuiltinModule?.('node:worker_threads') as { isMainThread?: boolean } | undefined;
  return threads?.isMainThread === false;
}
