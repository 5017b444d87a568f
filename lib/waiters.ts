/*
 * The waiter queue shared by every primitive, and the `wait(timeout | options)` argument handling.
 *
 * A queue entry is either a bare resolve function (a waiter with no timeout and no signal: nothing but
 * its owner can end it, so it needs no more) or a {@link Waiter}, which a timeout or an abort can take
 * out early. Taking one out is O(1): it is marked gone and skipped later; the array is compacted when
 * gone entries outnumber the live ones, so memory follows the number of live waiters.
 */
import { type Abortable, isAbortSignal, unwatch, watch } from './abort.js';
import { type Timed, describe, readTimeout, schedule, unschedule } from './deadline.js';

/** Options accepted by every `wait`-like method. */
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

/** A waiter that a deadline or a signal can end before its owner releases it. */
export class Waiter implements Timed, Abortable {
  /** The queue holding this waiter, until it leaves it. */
  queue: WaiterQueue | undefined = undefined;
  timed = false;

  constructor(
    readonly resolve: Resolve,
    readonly reject: (reason: unknown) => void,
    readonly deadline: number,
    /** The signal it watches, until it stops watching. */
    public signal: AbortSignal | undefined,
  ) {}

  /** Its owner releases it: it has already been taken out of the queue. */
  grant(value: boolean): void {
    this.queue = undefined;
    this.stopTimer();
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
    this.leave();
    this.stopTimer();
    this.reject(reason);
  }

  protected leave(): void {
    if (this.queue !== undefined) this.queue.remove(this);
  }

  protected stopTimer(): void {
    if (this.timed) {
      this.timed = false;
      unschedule();
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
  private items: (Entry | undefined)[] = [];
  private head = 0;
  /** Number of live waiters. */
  size = 0;
  /** Called whenever the last live waiter leaves, however it left. */
  onEmpty: (() => void) | undefined = undefined;

  push(entry: Entry): void {
    if (typeof entry !== 'function') entry.queue = this;
    this.items.push(entry);
    this.size++;
  }

  /** Takes a waiter out early (timeout, abort). */
  remove(w: Waiter): void {
    w.queue = undefined;
    if (--this.size === 0) {
      this.items = [];
      this.head = 0;
      this.emptied();
    } else if (this.items.length - this.head > 2 * this.size + 32) {
      this.items = this.items.slice(this.head).filter((e) => typeof e === 'function' || e!.queue === this);
      this.head = 0;
    }
  }

  /** Releases the longest-waiting live waiter with `value`; false when there is none. */
  releaseOne(value: boolean): boolean {
    const items = this.items;
    while (this.head < items.length) {
      const e = items[this.head]!;
      items[this.head++] = undefined;
      if (typeof e === 'function' || e.queue === this) {
        if (--this.size === 0) {
          this.items = [];
          this.head = 0;
        }
        release(e, value);
        if (this.size === 0) this.emptied();
        return true;
      }
    }
    return false;
  }

  /** Releases every live waiter with `value`, in the order they joined. */
  releaseAll(value: boolean): void {
    if (this.size === 0) return;
    const items = this.items;
    const head = this.head;
    this.items = [];
    this.head = 0;
    this.size = 0;
    for (let i = head; i < items.length; i++) {
      const e = items[i]!;
      if (typeof e === 'function') e(value);
      else if (e.queue === this) e.grant(value);
    }
    this.emptied();
  }

  private emptied(): void {
    this.onEmpty?.();
  }
}

function release(e: Entry, value: boolean): void {
  if (typeof e === 'function') e(value);
  else e.grant(value);
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
  if (make === newWaiter && timeout === Infinity && signal === undefined) {
    return new Promise<boolean>((resolve) => queue.push(resolve));
  }
  return new Promise<boolean>((resolve, reject) => {
    const w = make(resolve, reject, Date.now() + timeout, signal);
    queue.push(w);
    if (w.deadline !== Infinity) schedule(w);
    if (signal !== undefined) watch(signal, w);
  });
}

/** Makes the waiter `park` queues, for owners whose waiters do more than resolve. */
export type MakeWaiter = (
  resolve: Resolve,
  reject: (reason: unknown) => void,
  deadline: number,
  signal: AbortSignal | undefined,
) => Waiter;

const newWaiter: MakeWaiter = (resolve, reject, deadline, signal) => new Waiter(resolve, reject, deadline, signal);

/** Reads a `timeout | options` argument; throws TypeError/RangeError naming the bad argument. */
export function readWaitArg(arg: unknown): { timeout: number; signal: AbortSignal | undefined } {
  if (arg === undefined) return { timeout: Infinity, signal: undefined };
  if (typeof arg === 'number') return { timeout: readTimeout(arg, 'timeout'), signal: undefined };
  return readOptions(arg);
}

/** Reads `{ timeout, signal }`; throws TypeError/RangeError naming the bad field. */
export function readOptions(arg: unknown): { timeout: number; signal: AbortSignal | undefined } {
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
