/*
 * SharedEvent: one event, seen by every thread that maps its word of shared memory.
 *
 * # The state word
 *
 * One Int32 at `byteOffset` (the kind word follows it: see memory.ts):
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
 * `seen`. While the queue is not empty, the event is a listener of its {@link Word} (this thread's view
 * of the word, shared by every object on the same buffer and offset), watching for the word to leave
 * `seen`; word.ts arms one engine waiter per word per thread for all of them (or the polling timer where
 * `Atomics.waitAsync` is missing). Whenever this thread finds the word is not `seen` any more (when the
 * Word says so, on every `set()`, on every `wait()`), it releases its whole local queue with `true` and
 * samples again: those waiters were all pending when a `set()` happened. A `set()` on this thread
 * releases this thread's waiters at once, synchronously, as `Event.set()` does, whichever object on the
 * word they waited through (`Word.check()`).
 *
 * # Cancel safety and lifetime
 *
 * A deadline never reports "not set" for a wait whose word moved: the engine's wake-up is a job of its
 * own, and a thread busy past the deadline runs its timers first, so before any deadline of the queue
 * expires, the word is looked at (`Word.check()`) and a `set()` already made releases the waiters.
 *
 * A wait that times out or is aborted leaves the local queue at once (O(1)); when the queue empties, the
 * event stops listening, and with the last listener of the thread the polling timer and the keep-alive
 * handle go too (word.ts). The listener is registered exactly while the queue has waiters, whatever the
 * interleaving: registration and the thread's keep-alive are one step in word.ts, and a word that moves
 * before the registration makes `watch` refuse it, so the caller releases its waiters itself and nothing
 * is held. In a Node worker thread the thread stays alive exactly while it has waiters; on the main
 * thread nothing is held, so a pending wait keeps the process alive exactly as the same wait on `Event`
 * would.
 *
 * An event with no waiters is referenced by nothing of the library: it is collectable even when the
 * engine waiter it used is still pending. An event with waiters is held by its Word until they settle,
 * so its waiters' promises settle even if nothing else references the event.
 */
import { type WaitOptions, readTimeout } from '../core/arguments.js';
import { inspectable } from '../core/inspect.js';
import { park } from '../core/park.js';
import { TRUE, WaiterQueue } from '../core/queue.js';
import { EVENT, arrived, sharedMemory } from './memory.js';
import { Word, type WordListener, assertMayBlock, lookBeforeDeadlines } from './word.js';

/** Bit 0 of the word: the flag. */
const SET = 1;

/** True when the word has the flag set. */
const isSetWord = (word: number) => (word & SET) !== 0;

/** The word with the flag cleared, the value waiters wait on. */
const withoutFlag = (word: number) => word & ~SET;

/** The word after a `set()` of `word` (clear): next generation, flag set. Wraps as Int32 does. */
const nextSet = (word: number) => (word + 2) | SET | 0;

/**
 * An {@link Event} whose state lives in a `SharedArrayBuffer`, so every thread holding the buffer
 * (Node `worker_threads`, browser Web Workers) sets, clears and awaits the same event, with no messages.
 * Post the event itself to another thread (`postMessage`, `workerData`) and rebuild it there with
 * {@link SharedEvent.from}; or post `buffer` and `byteOffset` and call `new SharedEvent(buffer, byteOffset)`.
 * Several events may share one buffer at different offsets.
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
 * new Worker('./worker.js', { workerData: { ready } });
 * await ready.wait(); // until the worker calls ready.set()
 *
 * // worker.js
 * import { SharedEvent } from 'awaitable-event';
 * import { workerData } from 'node:worker_threads';
 * const ready = SharedEvent.from(workerData.ready);
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
  static readonly BYTES: number = 8; // the state word and the kind word (memory.ts)

  /**
   * The event over the memory of `value`: a `SharedEvent` posted from another thread (what arrives is its
   * structured clone, a plain object with its `buffer` and `byteOffset`), or a `SharedEvent` of this thread.
   * Returns `value` itself for a `SharedEvent` of this thread; for a clone, this thread's live event at that
   * place of the same `SharedArrayBuffer` object when there is one (the objects of one message share their
   * buffers), else a new one (a primitive received in two messages rebuilds to two objects over the same
   * memory, which work together as two threads' do).
   *
   * @throws `TypeError` naming what is wrong and showing it when `value` is not an object, has no
   *   `SharedArrayBuffer` as `buffer` or no valid `byteOffset` in it, or its memory holds no event
   *   (another kind of primitive, a `SharedLock` for one, or none).
   *
   * @example
   * ```ts
   * // main thread
   * const ready = new SharedEvent();
   * new Worker('./worker.js', { workerData: { ready } });
   *
   * // worker.js
   * const ready = SharedEvent.from(workerData.ready);
   * ready.set();
   * ```
   */
  static from(value: unknown): SharedEvent {
    if (value instanceof SharedEvent) return value;
    const at = arrived<SharedEvent>(EVENT, value);
    return at.live ?? new SharedEvent(at.buffer, at.byteOffset);
  }

  /**
   * The shared memory holding the event. A posted event carries it (with {@link SharedEvent.byteOffset}),
   * as its structured clone keeps exactly these two properties.
   *
   * @example
   * ```ts
   * const view = new Int32Array(event.buffer, event.byteOffset, SharedEvent.BYTES / 4);
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

  /** This thread's view of the word, shared with every object on the same buffer and offset. */
  readonly #word: Word;
  readonly #waiters = new WaiterQueue();
  /** The word (flag clear) every local waiter is waiting to change. */
  #seen: number;
  readonly #listener: WordListener = { wordMoved: () => this.#catchUp() };
  static #inspectable = false;
  /** The bound `set` and `clear`, made at first use. */
  #set: ((this: void) => void) | undefined = undefined;
  #clear: ((this: void) => void) | undefined = undefined;
  readonly #isSet = () => this.isSet();
  readonly #look = () => this.#word.check();
  /** A waiter joined: listen, unless the word moved since `seen` (a set() got in), which releases it. */
  readonly #listen = () => {
    if (!this.#word.watch(this.#seen, this.#listener)) this.#catchUp();
  };

  /**
   * @param buffer - the shared memory to use; omitted, a new `SharedArrayBuffer` of
   *   {@link SharedEvent.BYTES} bytes is allocated (with the flag clear).
   * @param byteOffset - where the event's word is in `buffer`: a multiple of 4, default 0.
   * @throws `TypeError` when `buffer` is not a `SharedArrayBuffer` (or shared memory is unavailable: in a
   *   browser, the page needs cross-origin isolation) or `byteOffset` is not a number; `RangeError` when
   *   `byteOffset` is not a multiple of 4 or does not leave room for the event in `buffer`;
   *   `TypeError` when its words overlap those of another live primitive this thread built on `buffer`
   *   (the same primitive again, at the same offset, is fine). Keeping the layouts of different threads
   *   apart is the caller's part: a thread cannot see another's. A length beyond whole words is unused.
   *
   * @example
   * ```ts
   * const event = new SharedEvent();                          // a new buffer
   * const again = new SharedEvent(event.buffer, event.byteOffset); // the same event, e.g. in a worker
   * ```
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset: number = 0) {
    const memory = sharedMemory(EVENT, buffer, byteOffset, this);
    this.buffer = memory.buffer;
    this.byteOffset = memory.byteOffset;
    const word = (this.#word = Word.of(memory.buffer, memory.byteOffset));
    this.#seen = withoutFlag(word.load());
    this.#waiters.onEmpty = () => word.unwatch(this.#listener);
    if (!SharedEvent.#inspectable) SharedEvent.#prepare();
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
    return isSetWord(this.#word.load());
  }

  /**
   * Sets up the prototype, on the first event made, not in the class body (see core/inspect.ts).
   * In a function of its own: a closure made in the constructor would share its scope, and keep that
   * first object (and its buffer) alive for ever.
   */
  static #prepare(): void {
    SharedEvent.#inspectable = true;
    inspectable(SharedEvent.prototype, 'SharedEvent', (e) => ({ set: e.isSet(), waiters: e.#waiters.size }));
  }

  /**
   * Sets the flag and releases every waiter of every thread with `true`. Does nothing when the flag is
   * already set. Bound to its event (a getter of the prototype, so that the event still posts as it
   * is), so it can be passed as a callback.
   *
   * @example
   * ```ts
   * ready.set(); // in any thread
   * const { set } = ready;
   * setTimeout(set, 100);
   * ```
   */
  get set(): (this: void) => void {
    return (this.#set ??= () => {
      const array = this.#word.array;
      let word = Atomics.load(array, 0);
      while (!isSetWord(word)) {
        const found = Atomics.compareExchange(array, 0, word, nextSet(word));
        if (found === word) {
          Atomics.notify(array, 0);
          break;
        }
        word = found;
      }
      this.#word.check(); // tells this event, and every other object of this thread on the word
    });
  }

  /**
   * Clears the flag, for every thread. Waiters that a `set()` already released stay released. Bound to
   * its event, as {@link SharedEvent.set} is, so it can be passed as a callback.
   *
   * @example
   * ```ts
   * ready.clear();
   * ```
   */
  get clear(): (this: void) => void {
    return (this.#clear ??= () => {
      Atomics.and(this.#word.array, 0, ~SET);
    });
  }

  /**
   * Waits until the flag is set, by any thread. Resolves `true` at once when it is set already. Like
   * `Event.wait()`, plain waits made one after another may return the same promise.
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
    const word = this.#word.load();
    if (isSetWord(word) && arg === undefined) return TRUE;
    if (word !== this.#seen) this.#catchUp();
    if (arg === undefined) {
      // Plain waiters in a row share one promise, as Event's do.
      const joined = this.#waiters.join();
      this.#listen();
      return joined;
    }
    const promise = park(this.#waiters, arg, this.#isSet, undefined, this.#listen);
    // Before a deadline says "not set": a set() whose wake-up is not delivered yet releases them.
    lookBeforeDeadlines(this.#waiters, this.#look);
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
    assertMayBlock('SharedEvent.waitSync()', 'await event.wait()');
    const word = this.#word.load();
    return isSetWord(word) || this.#word.waitSync(word, ms);
  }

  get [Symbol.toStringTag](): string {
    return 'SharedEvent';
  }

  /** The word moved since the local waiters sampled it: releases them all and samples again. */
  #catchUp(): void {
    this.#seen = withoutFlag(this.#word.load());
    this.#waiters.releaseAll(true);
  }
}
