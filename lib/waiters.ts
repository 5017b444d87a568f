/*
 * The waiter queue shared by every primitive, and the `wait(timeout | options)` argument handling.
 *
 * A queue entry is either a bare resolve function (a waiter with no timeout and no signal: nothing but
 * its owner can end it, so it needs no more) or a {@link Waiter}, which a timeout or an abort can take
 * out early. Taking one out is O(1): it is marked gone and skipped later; the array is compacted when
 * gone entries outnumber the live ones, so memory follows the number of live waiters. The queue also
 * holds the deadlines of its timed waiters (deadline.ts).
 */
import { type Abortable, isAbortSignal, unwatch, watch } from './abort.js';
import { Deadlines, TIMED, type Timed, describe, readTimeout } from './deadline.js';

/**
 * Options accepted by every `wait`-like method (`Event.wait`, `SharedEvent.wait`, `Lock.acquire`,
 * `Condition.wait`, ...).
 *
 * @example
 * ```ts
 * const options: WaitOptions = { timeout: 5_000, signal: AbortSignal.timeout(1_000) };
 * const ok = await ready.wait(options); // true, false after 5 s, or rejects after 1 s
 * ```
 */
export interface WaitOptions {
  /** Milliseconds to wait at most; `undefined` or `Infinity` waits for ever, `0` or less does not wait. */
  timeout?: number | undefined;
  /** Aborting it ends the wait: the promise rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/** The value a waiter is released with. */
export type Resolve = (value: boolean) => void;
type Entry = Resolve | Waiter;

/** Resolved promises shared by every fast path: awaiting them costs no allocation. */
export const TRUE: Promise<true> = Promise.resolve(true);
export const FALSE: Promise<boolean> = Promise.resolve(false);

/** The bit of `Waiter.state` that says the waiter is still in its queue (TIMED is the other). */
export const QUEUED = 1;

/** A waiter that a deadline or a signal can end before its owner releases it. */
export class Waiter implements Timed, Abortable {
  /** QUEUED while in its queue, TIMED while its deadline counts. */
  state = QUEUED;

  constructor(
    /** The queue it joined; its deadlines live there too. */
    readonly queue: WaiterQueue,
    readonly resolve: Resolve,
    /** Only a waiter with a signal can fail: one without keeps no reject function alive. */
    readonly reject: ((reason: unknown) => void) | undefined,
    readonly deadline: number,
    /** The signal it watches, until it stops watching. */
    public signal: AbortSignal | undefined,
  ) {}

  /** Its owner releases it, having taken it out of the queue. */
  grant(value: boolean): void {
    this.stopTimer();
    this.state = 0;
    this.stopWatching();
    this.resolve(value);
  }

  expire(): void {
    this.leave();
    this.stopWatching();
    this.resolve(false);
  }

  abort(reason: unknown): void {
    this.signal = undefined; // the signal let go of every waiter as it aborted
    this.stopTimer();
    this.leave();
    this.reject!(reason);
  }

  /** Whether it is still in its queue. */
  get queued(): boolean {
    return (this.state & QUEUED) !== 0;
  }

  protected leave(): void {
    if (this.queued) {
      this.state &= ~QUEUED;
      this.queue.remove();
    }
  }

  protected stopTimer(): void {
    if ((this.state & TIMED) !== 0) {
      this.state &= ~TIMED;
      this.queue.deadlines!.forget();
    }
  }

  protected stopWatching(): void {
    if (this.signal !== undefined) {
      unwatch(this.signal, this);
      this.signal = undefined;
    }
  }
}

/** A FIFO queue of waiters: O(1) push, O(1) removal of a waiter, release in order. */
export class WaiterQueue {
  private readonly items: (Entry | undefined)[] = [];
  private head = 0;
  /** Number of live waiters. */
  size = 0;
  /** The deadlines of its timed waiters, from the first one on. */
  deadlines: Deadlines | undefined = undefined;
  /** Called whenever the last live waiter leaves, however it left. */
  onEmpty: (() => void) | undefined = undefined;

  /** A promise for a waiter with no timeout and no signal, queued. */
  wait(): Promise<boolean> {
    return new Promise<boolean>((resolve) => this.add(resolve));
  }

  /** Queues a bare waiter: it is called with the value it is released with. */
  add(then: Resolve): void {
    this.items.push(then);
    this.size++;
  }

  /** Queues `w` and starts its deadline. */
  push(w: Waiter): void {
    this.items.push(w);
    this.size++;
    if (w.deadline !== Infinity) (this.deadlines ??= new Deadlines()).add(w);
  }

  /** One waiter left early (timeout, abort); it already cleared its QUEUED bit. */
  remove(): void {
    if (--this.size === 0) {
      this.clear();
      this.emptied();
    } else if (this.items.length - this.head > 2 * this.size + 32) {
      const items = this.items;
      let kept = 0;
      for (let i = this.head; i < items.length; i++) {
        const e = items[i]!;
        if (typeof e === 'function' || e.queued) items[kept++] = e;
      }
      items.length = kept;
      this.head = 0;
    }
  }

  /** Releases the longest-waiting live waiter with `value`; false when there is none. */
  releaseOne(value: boolean): boolean {
    const items = this.items;
    while (this.head < items.length) {
      const e = items[this.head]!;
      items[this.head++] = undefined;
      if (typeof e === 'function' || e.queued) {
        if (--this.size === 0) this.clear();
        if (typeof e === 'function') e(value);
        else e.grant(value);
        if (this.size === 0) this.emptied();
        return true;
      }
    }
    return false;
  }

  /**
   * Releases every live waiter with `value`, in the order they joined, and drops all deadlines at once.
   * Only for owners whose waiters are done once released (events; not a condition's, which go on).
   */
  releaseAll(value: boolean): void {
    if (this.size === 0) return;
    const items = this.items;
    this.size = 0;
    // Releasing runs no user code (promise reactions run later), so nothing joins while this runs.
    for (let i = this.head; i < items.length; i++) {
      const e = items[i]!;
      if (typeof e === 'function') e(value);
      else if (e.queued) {
        e.state = 0;
        if (e.signal !== undefined) unwatch(e.signal, e);
        e.resolve(value);
      }
    }
    this.clear();
    this.deadlines?.clear();
    this.emptied();
  }

  /** Forgets every entry; the array is kept, so its field never changes (V8 optimizes on that). */
  private clear(): void {
    this.items.length = 0;
    this.head = 0;
  }

  private emptied(): void {
    this.onEmpty?.();
  }
}

/**
 * The whole `wait(timeout | options)` contract: validates the argument (rejecting, never throwing),
 * honours an already aborted signal, answers {@link TRUE} itself when `ready` (a caller that must take
 * something on success, like a lock, checks for that identity), `false` at once for a timeout of 0 or
 * less, and otherwise queues a waiter with its deadline and signal.
 */
export function park(ready: boolean, queue: WaiterQueue, arg: unknown, make: MakeWaiter = newWaiter): Promise<boolean> {
  let timeout = Infinity;
  let signal: AbortSignal | undefined;
  try {
    if (typeof arg === 'number') timeout = readTimeout(arg, 'timeout');
    else if (arg !== undefined) ({ timeout, signal } = readOptions(arg));
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ready) return TRUE;
  if (timeout <= 0) return FALSE;
  if (make === newWaiter && timeout === Infinity && signal === undefined) return queue.wait();
  return new Promise<boolean>((resolve, reject) => {
    const w = make(queue, resolve, signal === undefined ? undefined : reject, Date.now() + timeout, signal);
    queue.push(w);
    if (signal !== undefined) watch(signal, w);
  });
}

/** Makes the waiter `park` queues, for owners whose waiters do more than resolve. */
export type MakeWaiter = (
  queue: WaiterQueue,
  resolve: Resolve,
  reject: ((reason: unknown) => void) | undefined,
  deadline: number,
  signal: AbortSignal | undefined,
) => Waiter;

const newWaiter: MakeWaiter = (queue, resolve, reject, deadline, signal) =>
  new Waiter(queue, resolve, reject, deadline, signal);

/**
 * V8 drops the hidden class of a class whose every instance died in a full GC, and with it the code
 * optimized for it: a burst of timed waits after an idle GC then runs unoptimized. One idle waiter,
 * made as a timed wait makes one (a fractional deadline: the same field kind) and never queued, keeps
 * both alive. Its deadline is never armed or read, so no clock is read at import.
 */
const keepShape: Waiter[] = [];
void new Promise<boolean>((resolve) =>
  keepShape.push(new Waiter(new WaiterQueue(), resolve, undefined, 0.5, undefined)),
);

/** Reads a `timeout | options` argument; throws TypeError/RangeError naming the bad argument. */
export function readWaitArg(arg: unknown): { timeout: number; signal: AbortSignal | undefined } {
  if (arg === undefined) return { timeout: Infinity, signal: undefined };
  if (typeof arg === 'number') return { timeout: readTimeout(arg, 'timeout'), signal: undefined };
  return readOptions(arg);
}

/** Reads `{ timeout, signal }`; throws TypeError/RangeError naming the bad field. */
function readOptions(arg: unknown): { timeout: number; signal: AbortSignal | undefined } {
  if (typeof arg !== 'object' || arg === null) {
    throw new TypeError(
      `timeout must be a number of milliseconds or an options object { timeout, signal }, got ${describe(arg)}`,
    );
  }
  const { timeout, signal } = arg as WaitOptions;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new TypeError(`options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  return { timeout: timeout === undefined ? Infinity : readTimeout(timeout, 'options.timeout'), signal };
}

/** The key Node's `util.inspect` (and so the REPL and `console.log`) looks for. */
export const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/** Node's `util.inspect` as it is handed to custom inspectors. */
type Inspect = (value: unknown, options: object) => string;

/** Renders `Name { key: value, ... }` the way `util.inspect` would render a plain object of that class. */
export function inspectAs(name: string, fields: object, options: object, inspect: Inspect): string {
  return `${name} ${inspect(fields, options)}`;
}
