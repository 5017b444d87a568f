/*
 * The waiter queue shared by every primitive.
 *
 * A queue entry is either a bare resolve function (a waiter with no timeout and no signal: nothing but
 * its owner can end it, so it needs no more) or a {@link Waiter}, which a timeout or an abort can take
 * out early. Taking one out is O(1): it is marked gone (its QUEUED bit cleared) and skipped later.
 *
 * Entries live in a ring buffer whose capacity is a power of two: pushing at the tail and releasing at
 * the head are O(1) and reuse the same slots, so a queue that never empties (a lock under steady
 * contention) does not grow. The ring is rebuilt, in order and at a fitting size, when gone entries
 * outnumber the live ones, and shrinks when it empties after a burst: memory follows the number of live
 * waiters at all times.
 */
import { type Abortable, unwatch } from './abort.js';
import type { Clock } from './clock.js';
import { Deadlines, type Timed, TIMED } from './deadline.js';

/** The value a waiter is released with. */
export type Resolve = (value: boolean) => void;
type Entry = Resolve | Waiter;

/** Resolved promises shared by every fast path: awaiting them costs no allocation. */
export const TRUE: Promise<true> = /*#__PURE__*/ Promise.resolve(true);
export const FALSE: Promise<boolean> = /*#__PURE__*/ Promise.resolve(false);

/** The bit of `Waiter.state` that says the waiter is still in its queue (TIMED is the other). */
export const QUEUED = 1;

/** A waiter that a deadline or a signal can end before its owner releases it. */
export class Waiter implements Timed, Abortable {
  /** QUEUED while in its queue, TIMED while its deadline counts. */
  state = QUEUED;
  deadline = Infinity;
  deadlines: Deadlines | undefined = undefined;

  constructor(
    /** The queue it joined. */
    readonly queue: WaiterQueue,
    readonly resolve: Resolve,
    /** Only a waiter with a signal can fail: one without keeps no reject function alive. */
    readonly reject: ((reason: unknown) => void) | undefined,
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
      this.deadlines!.forget();
    }
  }

  protected stopWatching(): void {
    if (this.signal !== undefined) {
      unwatch(this.signal, this);
      this.signal = undefined;
    }
  }
}

/** The smallest ring; an emptied ring larger than {@link KEEP} is replaced by one of this size. */
const MIN_RING = 8;
const KEEP = 1024;

const emptyRing = (capacity: number): (Entry | undefined)[] => new Array<Entry | undefined>(capacity).fill(undefined);

/** A FIFO queue of waiters: O(1) push, O(1) removal of a waiter, release in order. */
export class WaiterQueue {
  #ring = emptyRing(MIN_RING);
  /** Index of the first entry. */
  #head = 0;
  /** Entries in the ring, gone ones included. */
  #used = 0;
  /** Number of live waiters. */
  size = 0;
  /**
   * The deadlines of its timed waiters on the clock in force when the last one started. Waiters that
   * started on an earlier clock (fake timers installed or removed since) keep theirs.
   */
  deadlines: Deadlines | undefined = undefined;
  /** Called whenever the last live waiter leaves, however it left. */
  onEmpty: (() => void) | undefined = undefined;

  /** A promise for a waiter with no timeout and no signal, queued. */
  wait(): Promise<boolean> {
    return new Promise<boolean>((resolve) => this.add(resolve));
  }

  /** Queues a bare waiter, or a {@link Waiter} (whose deadline and signal the caller starts). */
  add(e: Entry): void {
    if (this.#used === this.#ring.length) this.#resize(this.#ring.length * 2);
    this.#ring[(this.#head + this.#used++) & (this.#ring.length - 1)] = e;
    this.size++;
  }

  /** The deadline heap for a waiter starting on `clock` now. */
  deadlinesOn(clock: Clock): Deadlines {
    const current = this.deadlines;
    return current?.clock === clock ? current : (this.deadlines = new Deadlines(clock));
  }

  /** One waiter left early (timeout, abort); it already cleared its QUEUED bit. */
  remove(): void {
    if (--this.size === 0) this.#emptied();
    else if (this.#used > 2 * this.size + 32) this.#resize(this.#ring.length);
  }

  /** Releases the longest-waiting live waiter with `value`; false when there is none. */
  releaseOne(value: boolean): boolean {
    const ring = this.#ring;
    const mask = ring.length - 1;
    while (this.#used > 0) {
      const e = ring[this.#head]!;
      ring[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
      this.#used--;
      if (typeof e === 'function' || e.queued) {
        this.size--;
        if (typeof e === 'function') e(value);
        else e.grant(value);
        if (this.size === 0) this.#emptied();
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
    const ring = this.#ring;
    const mask = ring.length - 1;
    const used = this.#used;
    const deadlines = this.deadlines;
    this.size = 0;
    // Releasing runs no user code (promise reactions run later), so nothing joins while this runs.
    for (let i = 0, at = this.#head; i < used; i++, at = (at + 1) & mask) {
      const e = ring[at]!;
      ring[at] = undefined;
      if (typeof e === 'function') e(value);
      else if (e.queued) {
        if ((e.state & TIMED) !== 0 && e.deadlines !== deadlines) e.deadlines!.forget(); // an earlier clock's
        e.state = 0;
        if (e.signal !== undefined) unwatch(e.signal, e);
        e.resolve(value);
      }
    }
    this.#head = this.#used = 0;
    deadlines?.clear();
    this.#emptied();
  }

  #emptied(): void {
    if (this.#ring.length > KEEP) this.#ring = emptyRing(MIN_RING);
    else if (this.#used > 0) this.#ring.fill(undefined); // only gone entries were left
    this.#head = this.#used = 0;
    this.onEmpty?.();
  }

  /** Copies the live entries, in order, into a new ring of `capacity` slots (at least twice the live ones). */
  #resize(capacity: number): void {
    const ring = this.#ring;
    const mask = ring.length - 1;
    const next = emptyRing(capacity);
    let kept = 0;
    for (let i = 0, at = this.#head; i < this.#used; i++, at = (at + 1) & mask) {
      const e = ring[at]!;
      if (typeof e === 'function' || e.queued) next[kept++] = e;
    }
    this.#ring = next;
    this.#head = 0;
    this.#used = kept;
  }
}
