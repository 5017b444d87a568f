/*
 * The waiter queue shared by every primitive.
 *
 * A queue entry is either a bare resolve function (a waiter with no timeout and no signal: nothing but
 * its owner can end it, so it needs no more) or a {@link Waiter}, which a timeout or an abort can take
 * out early. Taking one out is O(1): it is marked gone (its QUEUED bit cleared) and skipped later.
 *
 * An owner that releases every waiter at once (an event) lets consecutive waiters with no timeout and no
 * signal share one entry and one promise (`join()`): they are released together, at their place in line,
 * since nothing can end one of them without the others. Any other entry added ends the run, so a timed
 * or signalled waiter between two plain ones keeps its place, and the queue lets go of the run's promise
 * as it releases them.
 *
 * Entries are written at a tail index of an array and taken from a head index. When the last live
 * waiter leaves, both go back to the start (the array is replaced after a burst of over 1,024); in a
 * queue that never empties (a lock under steady contention) the consumed front is cut off once it is
 * over 1,024 entries and over half the array, and entries that left early are dropped once they
 * outnumber the live ones: memory follows the number of live waiters at all times, at O(1) amortized cost.
 */
import { type Abortable, isAborted, unwatch } from './abort.js';
import type { Clock } from './clock.js';
import { Deadlines, type Timed, TIMED } from './deadline.js';

/** The value a waiter is released with. */
export type Resolve = (value: boolean) => void;
/** What a queue holds: a bare waiter's resolve function, or a {@link Waiter}. */
export type Entry = Resolve | Waiter;

export { FALSE, TRUE } from './settled.js';

/** The bit of `Waiter.state` that says the waiter is still in its queue (TIMED is the other). */
export const QUEUED = 1;

/** A waiter that a deadline or a signal can end before its owner releases it. */
export class Waiter implements Timed, Abortable {
  /** QUEUED while in its queue, TIMED while its deadline counts. */
  state = QUEUED;
  /** Whole milliseconds (see Timed.deadline), so V8 stores it inline, not in a number box of its own. */
  deadline = 0;
  deadlines: Deadlines | undefined;
  // Declared only: the constructor sets them (a build then ships no field definitions for them).
  /** The queue it joined. */
  declare readonly queue: WaiterQueue;
  declare readonly resolve: Resolve;
  /** Only a waiter with a signal can fail: one without keeps no reject function alive. */
  declare readonly reject: ((reason: unknown) => void) | undefined;
  /** The signal it watches, until it stops watching. */
  declare signal: AbortSignal | undefined;
  /** Kept for ever, made by the first waiter (see core/shape.ts). */
  static #idle: Waiter | null | undefined;

  constructor(queue: WaiterQueue, resolve: Resolve, reject?: (reason: unknown) => void, signal?: AbortSignal) {
    this.queue = queue;
    this.resolve = resolve;
    this.reject = reject;
    this.signal = signal;
    if (Waiter.#idle === undefined) {
      Waiter.#idle = null; // the idle waiter is being made
      Waiter.#idle = new Waiter(new WaiterQueue(), noop); // see core/shape.ts
    }
  }

  /**
   * Releases it, taken out of its queue, where that does more than resolve it (a condition's waiter
   * takes the lock back first); {@link releaseOne} settles a waiter without one itself.
   */
  grant?(value: boolean): void;

  expire(): void {
    leave(this);
    stopWatching(this);
    this.resolve(false);
  }

  abort(reason: unknown): void {
    this.signal = undefined; // the signal let go of every waiter as it aborted
    stopTimer(this);
    leave(this);
    this.reject!(reason);
  }

  /** Whether it is still in its queue. */
  get queued(): boolean {
    return (this.state & QUEUED) !== 0;
  }
}

// A waiter's steps, shared with the waiters of the primitives that extend it: functions, not methods, so
// that minifiers shorten their names.

/** Takes `w` out of its queue, unless it has left it already. */
export function leave(w: Waiter): void {
  if (w.queued) {
    w.state &= ~QUEUED;
    w.queue.remove();
  }
}

/** Stops `w`'s deadline, unless it has stopped already. */
export function stopTimer(w: Waiter): void {
  if ((w.state & TIMED) !== 0) {
    w.state &= ~TIMED;
    w.deadlines!.forget();
  }
}

/** Stops watching `w`'s signal, unless it has stopped already. */
export function stopWatching(w: Waiter): void {
  if (w.signal !== undefined) {
    unwatch(w.signal, w);
    w.signal = undefined;
  }
}

/**
 * Resolves `w`, which its queue let go of, with `value`, stopping its deadline (unless it counts on
 * `dropped`, which the caller drops whole) and its signal watch.
 */
function settle(w: Waiter, value: boolean, dropped?: Deadlines): void {
  if (w.deadlines !== dropped) stopTimer(w);
  w.state = 0;
  stopWatching(w);
  w.resolve(value);
}

const noop = () => {};

/**
 * The executor every waiter's promise is made with: it leaves the promise's resolving functions in
 * {@link lastResolve} and {@link lastReject}, to be read at once, so that making a waiter's promise
 * allocates no closure. Whoever reads them calls {@link forgetCaptured} next (but see there).
 */
export let lastResolve: Resolve = noop;
export let lastReject: (reason: unknown) => void = noop;
export const capture = (resolve: Resolve, reject: (reason: unknown) => void): void => {
  lastResolve = resolve;
  lastReject = reject;
};

/**
 * Lets go of the resolving functions {@link capture} left: they hold their promise, and so, once it
 * settles, the value it settled with (an item got from a queue), until the next promise is made. Where
 * a promise settles with a boolean, a waiter may skip it: the core's `park()`, on which `Event` runs,
 * does (the bytes of `import { Event }` are counted), so that one boolean promise, or the error it
 * rejected with, stays reachable until the next wait.
 */
export function forgetCaptured(): void {
  lastResolve = lastReject = noop;
}

/** The queue a plain waiter's promise is being made for, until {@link enter} has run. */
let entering: WaiterQueue | undefined;
/**
 * The executor of a plain waiter's promise: queues its resolve function, in the queue's array (a waiter
 * that cannot fail keeps no reject function), and lets go of the queue. Storing the function nowhere
 * else matters: each fresh object stored into a long-lived one costs the garbage collector a slot to
 * remember.
 */
const enter = (resolve: Resolve): void => {
  entering!.add(resolve);
  entering = undefined;
};

/** How far the consumed front of the array may grow before it is cut off, and how large an emptied array may stay. */
const FRONT = 1024;

/** A FIFO queue of waiters: O(1) push, O(1) removal of a waiter, release in order. */
export class WaiterQueue {
  // The array and its indices are the queue's own, read and written by its methods and by releaseOne().
  /** The entries from {@link head} to {@link tail} (exclusive); one that left early stays until passed or cut off. */
  items: (Entry | undefined)[] = [];
  /** Index of the first entry not yet taken. */
  head = 0;
  /** Index where the next entry goes. */
  tail = 0;
  /** Number of live waiters. */
  size = 0;
  /**
   * The deadlines of its timed waiters on the clock in force when the last one started. Waiters that
   * started on an earlier clock (fake timers installed or removed since) keep theirs.
   */
  deadlines: Deadlines | undefined;
  /** Called whenever the last live waiter leaves, however it left. */
  onEmpty: (() => void) | undefined;
  /** The promise of the last entry, while it is a run of plain waiters that {@link join} may extend. */
  run: Promise<boolean> | undefined;

  /** A promise for a waiter with no timeout and no signal, queued. */
  wait(): Promise<boolean> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- for the executor, which lets go of it at once
    entering = this;
    return new Promise<boolean>(enter);
  }

  /**
   * Like {@link wait}, for an owner that releases every waiter at once: the promise of the waiter just
   * before, when that one is plain too (see the top of this file).
   */
  join(): Promise<boolean> {
    if (this.run === undefined) this.run = this.wait();
    else this.size++;
    return this.run;
  }

  /** Queues a bare waiter, or a {@link Waiter} (whose deadline and signal the caller starts). */
  add(e: Entry): void {
    this.items[this.tail++] = e;
    this.size++;
    this.run = undefined;
  }

  /** The deadline heap for a waiter starting on `clock` now. */
  deadlinesOn(clock: Clock): Deadlines {
    const current = this.deadlines;
    return current?.clock === clock ? current : (this.deadlines = new Deadlines(clock));
  }

  /** One waiter left early (timeout, abort); it already cleared its QUEUED bit. */
  remove(): void {
    if (--this.size === 0) this.emptied();
    else if (this.tail - this.head > 2 * this.size + 32) this.compact();
  }

  /**
   * Releases every live waiter with `value`, in the order they joined, and drops all deadlines at once.
   * Only for owners whose waiters are done once released (events; not a condition's, which go on).
   */
  releaseAll(value: boolean): void {
    const deadlines = this.deadlines;
    // Releasing runs no user code (promise reactions run later), so nothing joins while this runs; the
    // entries are let go of afterwards, all at once (emptied()).
    for (let i = this.head; i < this.tail; i++) {
      const e = this.items[i]!;
      if (typeof e === 'function') e(value);
      else if (e.queued) settle(e, value, deadlines);
    }
    deadlines?.clear();
    this.run = undefined;
    this.emptied();
  }

  /** Starts again at the front of the array (a fresh one after a burst), letting go of any entry left. */
  emptied(): void {
    if (this.tail > FRONT) this.items = [];
    else if (this.head < this.tail) this.items.fill(undefined, this.head, this.tail); // entries left
    this.head = this.tail = this.size = 0;
    this.onEmpty?.();
  }

  /** Cuts off the consumed front and the entries that left early, keeping the live ones in order. */
  compact(): void {
    this.items = this.items.slice(this.head, this.tail).filter((e) => typeof e === 'function' || e!.queued);
    this.head = 0;
    this.tail = this.items.length;
  }
}

/**
 * Takes the longest-waiting live entry out of `queue` (undefined when there is none), for the caller to
 * release: {@link grant}, or a condition's move into its lock's queue.
 */
export function takeOne(queue: WaiterQueue): Entry | undefined {
  const items = queue.items;
  while (queue.head < queue.tail) {
    const e = items[queue.head]!;
    items[queue.head++] = undefined;
    if (typeof e === 'function' || e.queued) {
      if (--queue.size === 0) queue.emptied();
      else if (queue.head > FRONT && 2 * queue.head > queue.tail) queue.compact();
      return e;
    }
  }
  return undefined;
}

/**
 * The longest-waiting live entry of `queue`, left in place (undefined when there is none), for owners
 * whose next grant depends on who is first in line (a weighted semaphore, a reader-writer lock). A
 * waiter that is giving up in this very instant leaves here instead, so that it is never served as it
 * gives up, whichever order its group gives up in: one whose deadline passed in a batch of expiries
 * still running (its TIMED bit cleared, its expire() still to come), or whose signal is aborting (its
 * abort() still to come).
 */
export function peekOne(queue: WaiterQueue): Entry | undefined {
  let first: Entry | undefined;
  while (queue.head < queue.tail) {
    const e = queue.items[queue.head]!;
    if (typeof e === 'function' || (e.queued && !givingUp(e))) {
      first = e;
      break;
    }
    // Gone or going: let go of it as takeOne() would, so that a group giving up together (each one's
    // leaving looks here again) costs O(1) a waiter, not a walk past all those gone before it.
    if (e.queued) {
      leave(e); // may empty or compact the queue
      if (queue.size === 0) return undefined;
      if (queue.items[queue.head] !== e) continue; // compacted: it is gone from the array already
    }
    queue.items[queue.head++] = undefined;
  }
  if (queue.head > FRONT && 2 * queue.head > queue.tail) queue.compact();
  return first;
}

/**
 * Whether `w`, still queued, is giving up in this very instant: its deadline passed in a batch of
 * expiries still running (its TIMED bit cleared, its expire() still to come), or its signal is aborting.
 */
function givingUp(w: Waiter): boolean {
  return ((w.state & TIMED) === 0 && w.deadlines !== undefined) || (w.signal !== undefined && isAborted(w.signal));
}

/** Releases `e`, taken out of its queue (or never queued), with `value`. */
export function grant(e: Entry, value: boolean): void {
  if (typeof e === 'function') e(value);
  else if (e.grant === undefined) settle(e, value);
  else e.grant(value);
}

/**
 * Releases the longest-waiting live waiter of `queue` with `value`; false when there is none. (A function,
 * not a method, so that a bundle with events alone, which release all at once, leaves it out.)
 */
export function releaseOne(queue: WaiterQueue, value: boolean): boolean {
  const e = takeOne(queue);
  if (e === undefined) return false;
  grant(e, value);
  return true;
}
