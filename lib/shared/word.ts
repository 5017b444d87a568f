/*
 * The engine side of a word of shared memory, for every primitive that waits on one across threads.
 *
 * # What a Word is
 *
 * A {@link Word} is one Int32 of a `SharedArrayBuffer` as seen by this thread: there is one per
 * (buffer object, byteOffset) per thread, obtained with {@link Word.of}, shared by every object of this
 * thread built on that buffer and offset. (A buffer posted to this thread twice arrives as two buffer
 * objects, hence two Words: sharing follows the object, as `WeakMap` keys do.)
 *
 * A primitive keeps its own protocol in the word (what the bits mean, who writes what) and its waiters in
 * its own local queue. The Word only answers one question for it: "tell me, on this thread, once the word
 * is no longer `expected`". That is {@link Word.watch}: the listener's `wordMoved()` runs once, later,
 * when this thread finds the word different from the value the listener registered with; the listener
 * then looks at the word, releases whom it must, and watches again if it still has waiters.
 *
 * # What writers must do (the contract the whole protocol rests on)
 *
 * - Every change a listener may be waiting for is a change of the word's value, followed by
 *   `Atomics.notify(array, 0)` of *every* waiter (no count). A notify without a change is not seen
 *   (the polling fallback cannot see it, and a waiter that re-reads the word would not either). Waking
 *   only some waiters could wake a thread whose waits all ended (its engine waiter outlives them, see
 *   below) and lose the wake-up.
 * - A value a listener watches must not come back before every thread has seen the change (an ABA): put a
 *   generation in the word, as `SharedEvent` does.
 * - A same-thread writer calls {@link Word.check} after its write, so that the listeners of this thread
 *   are told at once rather than when the engine's wake-up job runs.
 *
 * # One engine waiter per word per thread
 *
 * While the Word has listeners, exactly one thing is armed to look at the word again: one
 * `Atomics.waitAsync` on the value the listeners expect (the engine waiter), or, where `waitAsync` is
 * missing, a polling timer (1 ms, doubling up to 32 ms while nothing moves, back to 1 ms after a move),
 * or a queued job when `waitAsync` answered `'not-equal'` at once. When it fires, the Word reads the word,
 * tells every listener whose value it no longer holds (in the order they registered), and arms again for
 * those left, on the value they all expect. Since every listener expects the word's value at the time it
 * registered, and every change is notified after it is written, a listener is never left waiting on a
 * value the word already left: either the change came before the scan (the listener is told) or after
 * the engine waiter was armed (its notify wakes it).
 *
 * A pending `waitAsync` cannot be cancelled. When the last listener leaves (its waits timed out or were
 * aborted), the engine waiter stays pending until the next notify of the word, and the next listener of
 * this thread reuses it: however many waits come and go, this thread has at most one engine waiter on
 * the word. When every object of this thread on the word was collected (the Word finalized) with the
 * engine waiter still pending, the thread wakes it (a notify of the word: other threads' engine waiters
 * wake too, find the word unmoved and wait again), so that an abandoned word keeps nothing pending
 * for ever. Until that wake-up has run, a new Word on the same buffer and offset finds the pending
 * engine waiter in the thread's registry entry for (buffer, byteOffset), and reuses it.
 *
 * # What holds what (so that an unreferenced object is collectable)
 *
 * - An object (a `SharedEvent`, ...) holds its Word; the registry holds Words weakly.
 * - A Word holds its listeners strongly, and this thread's set of active Words holds the Word, only while
 *   it has listeners: pending waits settle even when nothing else references the object they wait on,
 *   and a listener with no waiters left is not referenced by the Word at all.
 * - The pending engine waiter holds only the small registry entry, which holds the Word weakly (and a
 *   view of the word, as the engine waiter itself holds the buffer): it pins neither the object nor its
 *   Word, and once the Word is finalized it is woken, and the entry and the buffer go.
 *
 * # Keep-alive (Node worker threads)
 *
 * Node keeps nothing alive for a pending `waitAsync`. So while any Word of a Node worker thread has
 * listeners, one interval holds the thread ({@link holdThread}, counted per thread): ref'd while held,
 * unref'd when the last listener leaves, however it leaves. On a main thread nothing is held: a pending wait keeps the
 * process alive exactly as the same wait on a one-thread primitive would (by its timer, if it has one).
 *
 * # Listeners' duties
 *
 * A listener registers while it has live waiters and unregisters ({@link Word.unwatch}) as soon as it has
 * none. `wordMoved()` must not throw; it may call `watch`/`unwatch` of the same Word (they take effect
 * in the same scan).
 */
import { monotonic } from '../core/clock.js';
import type { WaiterQueue } from '../core/queue.js';

/** Someone on this thread waiting for a word to change; see {@link Word.watch}. */
export interface WordListener {
  /** The word no longer holds the value this listener registered with. Called once per registration. */
  wordMoved(): void;
}

/** The shortest and longest polling delays of the fallback, in ms. */
const POLL_MIN = 1;
const POLL_MAX = 32;

/** What is armed to look at the word again. */
const IDLE = 0;
const ENGINE = 1;
const SOON = 2;
const POLL = 3;

/**
 * The thread's registry entry for one (buffer, byteOffset): it outlives its Word while an engine waiter
 * is pending, so that the next Word there reuses it.
 */
class Slot {
  /** The current Word, held weakly. */
  ref: WeakRef<Word> | undefined = undefined;
  /** A one-element view of the word, the Words' own (a pending engine waiter holds the buffer anyway). */
  readonly array: Int32Array;
  /** Words made here that are not finalized yet. */
  words = 0;
  /** An engine waiter of this thread is pending on the word. */
  engine = false;
  /** The engine waiter's reaction: holds this entry only. */
  readonly wake = (): void => {
    this.engine = false;
    const word = this.ref!.deref();
    if (word === undefined) this.forget();
    else word.engineWoke();
  };

  constructor(
    readonly entries: Map<number, Slot>,
    readonly byteOffset: number,
    buffer: SharedArrayBuffer,
  ) {
    this.array = new Int32Array(buffer, byteOffset, 1);
  }

  /** Drops this entry once no Word and no engine waiter needs it. */
  forget(): void {
    if (this.words === 0 && !this.engine) this.entries.delete(this.byteOffset);
  }
}

let registry: WeakMap<SharedArrayBuffer, Map<number, Slot>> | undefined;
let finalizers: FinalizationRegistry<Slot> | undefined;
/** The Words of this thread that have listeners: what keeps them (and their listeners) alive. */
let active: Set<Word> | undefined;

/**
 * One word of shared memory as seen by this thread: the single engine waiter (or polling timer) that
 * tells this thread's listeners when the word moves. Get it with {@link Word.of}; never built directly.
 */
export class Word {
  /** A one-element view of the word: use index 0 with `Atomics`. */
  readonly array: Int32Array;
  readonly #slot: Slot;
  /** Listeners, in the order they registered, with the value each expects. */
  readonly #listeners = new Map<WordListener, number>();
  #armed: typeof IDLE | typeof ENGINE | typeof SOON | typeof POLL = IDLE;
  #scanning = false;
  #rescan = false;
  #poll: { handle: unknown; cancel: (handle: never) => void } | undefined = undefined;
  #delay = POLL_MIN;
  readonly #onSoon = () => {
    this.#armed = IDLE;
    this.#scan();
  };
  readonly #onPoll = () => {
    this.#armed = IDLE;
    this.#poll = undefined;
    this.#delay = Math.min(this.#delay * 2, POLL_MAX);
    this.#scan();
  };

  /**
   * The Word of this thread for `buffer` at `byteOffset` (a checked multiple of 4 within the buffer):
   * the same object for every caller on this thread while any of them holds it.
   *
   * @example
   * ```ts
   * const word = Word.of(buffer, byteOffset);
   * ```
   */
  static of(buffer: SharedArrayBuffer, byteOffset: number): Word {
    let entries = (registry ??= new WeakMap()).get(buffer);
    if (entries === undefined) registry.set(buffer, (entries = new Map()));
    let slot = entries.get(byteOffset);
    const live = slot?.ref!.deref();
    if (live !== undefined) return live;
    if (slot === undefined) entries.set(byteOffset, (slot = new Slot(entries, byteOffset, buffer)));
    const word = new Word(slot);
    slot.ref = new WeakRef(word);
    slot.words++;
    (finalizers ??= new FinalizationRegistry(finalized)).register(word, slot);
    return word;
  }

  private constructor(slot: Slot) {
    this.array = slot.array;
    this.#slot = slot;
  }

  /** The word's value now. */
  load(): number {
    return Atomics.load(this.array, 0);
  }

  /**
   * Registers `listener` until the word is no longer `expected`: its `wordMoved()` then runs once, on
   * this thread, later (never inside this call). Returns `false`, registering nothing, when the word is
   * not `expected` already: the caller catches up itself. Registering again replaces the value expected.
   * While the Word has listeners it holds them, and in a Node worker it holds the thread.
   *
   * @example
   * ```ts
   * if (!word.watch(seen, listener)) catchUp(); // the word moved before we could watch it
   * ```
   */
  watch(expected: number, listener: WordListener): boolean {
    if (Atomics.load(this.array, 0) !== expected) return false;
    const listeners = this.#listeners;
    if (listeners.size === 0) {
      (active ??= new Set()).add(this);
      holdThread();
    }
    listeners.set(listener, expected);
    if (this.#armed === IDLE && !this.#scanning) this.#arm(expected, true);
    return true;
  }

  /**
   * Unregisters `listener` (its last waiter left); nothing happens if it is not registered. The engine
   * waiter stays pending for the next listener; a polling timer stops with the last listener.
   *
   * @example
   * ```ts
   * queue.onEmpty = () => word.unwatch(listener);
   * ```
   */
  unwatch(listener: WordListener): void {
    if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.#idle();
  }

  /**
   * Tells, now, every listener of this thread whose value the word no longer holds. For a writer of this
   * thread, right after it changed (and notified) the word.
   *
   * @example
   * ```ts
   * Atomics.store(word.array, 0, next);
   * Atomics.notify(word.array, 0);
   * word.check();
   * ```
   */
  check(): void {
    if (this.#listeners.size > 0) this.#scan();
  }

  /**
   * Blocks this thread until the word is no longer `expected` (`true`) or `timeout` ms have elapsed
   * (`false`), on the engine's own monotonic clock. Only where {@link mayBlock} is true.
   *
   * @example
   * ```ts
   * if (mayBlock() && word.waitSync(seen, 100)) catchUp();
   * ```
   */
  waitSync(expected: number, timeout: number): boolean {
    const array = this.array;
    const deadline = monotonic() + timeout;
    for (let left = timeout; left > 0; left = deadline - monotonic()) {
      // 'timed-out' is the engine's word that `left` ms have elapsed on its own (monotonic) clock.
      if (Atomics.wait(array, 0, expected, left) === 'timed-out') break;
      if (Atomics.load(array, 0) !== expected) return true;
    }
    return Atomics.load(array, 0) !== expected;
  }

  /** The engine waiter settled (a notify, or a spurious wake-up). */
  engineWoke(): void {
    if (this.#armed === ENGINE) this.#armed = IDLE;
    this.#scan();
  }

  /**
   * Tells every listener whose value moved, until a scan finds none (a listener told may register again,
   * and the word may move again meanwhile), then arms for those left.
   */
  #scan(): void {
    if (this.#scanning) {
      this.#rescan = true;
      return;
    }
    this.#scanning = true;
    const listeners = this.#listeners;
    do {
      this.#rescan = false;
      const now = Atomics.load(this.array, 0);
      let moved: WordListener[] | undefined;
      for (const [listener, expected] of listeners) {
        if (expected !== now) {
          listeners.delete(listener);
          (moved ??= []).push(listener);
        }
      }
      if (moved !== undefined) {
        this.#delay = POLL_MIN;
        if (listeners.size === 0) this.#idle();
        for (const listener of moved) listener.wordMoved();
        this.#rescan = true;
      } else if (listeners.size > 0 && this.#armed === IDLE) {
        this.#arm(now, false);
      }
    } while (this.#rescan);
    this.#scanning = false;
  }

  /**
   * Arms one thing to look at the word again, for listeners that all expect `value`. When the engine
   * answers that the word moved already: from {@link Word.watch} (`later`), a job scans soon; from a
   * scan, the scan goes round again.
   */
  #arm(value: number, later: boolean): void {
    const slot = this.#slot;
    if (slot.engine) {
      this.#armed = ENGINE; // the engine waiter left pending by an earlier listener serves
    } else if (typeof Atomics.waitAsync !== 'function') {
      const handle = globalThis.setTimeout(this.#onPoll, this.#delay);
      (handle as { unref?: () => void }).unref?.();
      this.#poll = { handle, cancel: globalThis.clearTimeout as (handle: never) => void };
      this.#armed = POLL;
    } else {
      const result = Atomics.waitAsync(this.array, 0, value);
      if (result.async) {
        slot.engine = true;
        this.#armed = ENGINE;
        void result.value.then(slot.wake);
      } else if (later) {
        this.#armed = SOON;
        void Promise.resolve().then(this.#onSoon);
      } else {
        this.#rescan = true;
      }
    }
  }

  /** The last listener left: stop polling and let the thread go. */
  #idle(): void {
    if (this.#poll !== undefined) {
      this.#poll.cancel.call(globalThis, this.#poll.handle as never);
      this.#poll = undefined;
      this.#armed = IDLE;
    }
    active!.delete(this);
    releaseThread();
  }
}

/**
 * Every object on the word of this thread is gone: an engine waiter still pending would wait for ever
 * (nobody may ever write the word again), keeping its buffer and its reaction alive: it is woken now.
 * The other threads' engine waiters on the word wake with it and, finding the word unmoved, wait again.
 */
function finalized(slot: Slot): void {
  if (--slot.words === 0 && slot.engine) Atomics.notify(slot.array, 0);
  slot.forget();
}

/**
 * Has the deadline heap of `queue`'s last timed waiter call `look` before any of its deadlines expires:
 * a release from another thread may have come before a deadline, its wake-up (a job of its own) still
 * queued behind the timer when the thread was busy past the deadline. Called after each timed wait is
 * queued (a new heap comes with a new clock).
 *
 * @example
 * ```ts
 * const promise = park(waiters, arg, tryNow);
 * lookBeforeDeadlines(waiters, () => word.check());
 * ```
 */
export function lookBeforeDeadlines(queue: WaiterQueue, look: () => void): void {
  if (queue.deadlines !== undefined) queue.deadlines.look = look;
}

let blockable: boolean | undefined;

/**
 * Whether `Atomics.wait` may block this thread: true on Node's main thread, in Node workers and Web
 * Workers; false on a browser page's main thread. Found out once, at first use.
 *
 * @example
 * ```ts
 * if (!mayBlock()) throw new Error('use the async method here');
 * ```
 */
export function mayBlock(): boolean {
  if (blockable === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockable = true;
    } catch {
      blockable = false;
    }
  }
  return blockable;
}

/**
 * Throws an `Error` where this thread may not block, naming the blocking `method` and the async call to
 * use `instead`.
 *
 * @example
 * ```ts
 * assertMayBlock('SharedEvent.waitSync()', 'await event.wait()');
 * ```
 */
export function assertMayBlock(method: string, instead: string): void {
  if (!mayBlock()) {
    throw new Error(
      `${method} cannot block this thread (Atomics.wait is not allowed here, as on a browser page's ` +
        `main thread); use ${instead} instead`,
    );
  }
}

let isWorker: boolean | undefined;
let holders = 0;
/** A Node timer's own handle. */
let handle: { ref(): unknown; unref(): unknown } | undefined;

/**
 * Keeps this thread alive until the matching {@link releaseThread}, when it is a Node worker thread
 * (whose pending `Atomics.waitAsync` would not): one interval for all holds of the thread, made once,
 * ref'd while held and unref'd when not (a lock handed to and fro holds and lets go in every hand-off:
 * making and clearing a timer each time took 2 µs of the hand-off). Elsewhere it only counts. Every Word with listeners holds the thread; primitives call it directly
 * only for something else they wait on.
 *
 * @example
 * ```ts
 * holdThread();
 * try { await somethingOnlyAnotherThreadEnds(); } finally { releaseThread(); }
 * ```
 */
export function holdThread(): void {
  if (holders++ === 0 && (isWorker ??= isNodeWorker())) {
    (handle ??= setInterval(() => {}, 1_000_000_000) as unknown as NonNullable<typeof handle>).ref();
  }
}

/**
 * Ends one {@link holdThread}.
 *
 * @example
 * ```ts
 * releaseThread();
 * ```
 */
export function releaseThread(): void {
  if (--holders === 0) handle?.unref();
}

/** Number of holds on this thread now (for tests and diagnostics). */
export function threadHolds(): number {
  return holders;
}

function isNodeWorker(): boolean {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const threads = node?.getBuiltinModule?.('node:worker_threads') as { isMainThread?: boolean } | undefined;
  return threads?.isMainThread === false;
}
