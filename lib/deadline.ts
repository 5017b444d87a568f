/*
 * Timeouts: reading the timeout argument, and the deadlines of a waiter queue.
 *
 * Deadlines are absolute `Date.now()` times. Each waiter queue (of an event, a lock, a condition) keeps
 * its timed waiters in a binary min-heap and arms one host timer for the earliest, so releasing every
 * waiter of an event drops its deadlines in O(1), with one clearTimeout, whatever their number.
 * Deadlines of equal timeouts arrive in increasing order, so a push is O(1) in the common case.
 *
 * `setTimeout`, `clearTimeout` and `Date` are looked up at each use, never captured, so fake timers
 * installed after import drive the timeouts. A delay above 2^31-1 ms is armed in steps.
 */

/** A waiter with a deadline, as the heap sees it. */
export interface Timed {
  /** Absolute `Date.now()` time at which the waiter times out. */
  readonly deadline: number;
  /** Bit {@link TIMED} is set while the waiter counts on the timer. */
  state: number;
  /** Called once when the deadline passes while TIMED is set (the heap has already cleared it). */
  expire(): void;
}

/** The bit of `Timed.state` that says the waiter still counts on its deadline. */
export const TIMED = 2;

/** The longest delay `setTimeout` honours; above it, Node and browsers fire after 1 ms. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Reads a timeout argument: a number of milliseconds, `Infinity` for none. Throws `TypeError` for a
 * non-number and `RangeError` for `NaN`, naming the argument.
 */
export function readTimeout(value: unknown, name: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number of milliseconds, got ${describe(value)}`);
  }
  if (value !== value) throw new RangeError(`${name} must be a number of milliseconds, got NaN`);
  return value;
}

/** A short, safe description of a bad argument, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return `${Object.prototype.toString.call(value).slice(8, -1)} object`;
    default:
      return typeof value;
  }
}

/**
 * The pending deadlines of one waiter queue, in a binary min-heap, with one host timer armed for the
 * earliest. A waiter that settles another way is not taken out, only marked (its TIMED bit cleared,
 * then {@link Deadlines.forget}): O(1). The heap is rebuilt when dead entries outnumber live ones, and
 * dropped whole, with its timer, when no live one is left or when the owner releases every waiter at
 * once ({@link Deadlines.clear}).
 */
export class Deadlines {
  #heap: Timed[] = [];
  #live = 0;
  #handle: unknown;
  #cancel: ((handle: never) => void) | undefined;
  /** The clock time the armed host timer stands for (Infinity: none armed). */
  #wakeAt = Infinity;
  readonly #onTimer = () => this.#fire();

  /** Starts counting down for `w`, whose `deadline` is finite. */
  add(w: Timed): void {
    w.state |= TIMED;
    this.#live++;
    const heap = this.#heap;
    let i = heap.push(w) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.deadline <= w.deadline) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = w;
    if (w.deadline < this.#wakeAt) this.#arm(w.deadline);
  }

  /** A waiter of the heap settled another way; its TIMED bit was just cleared. */
  forget(): void {
    if (--this.#live === 0) this.clear();
    else if (this.#heap.length > 2 * this.#live + 64) {
      this.#heap = this.#heap.filter((w) => (w.state & TIMED) !== 0);
      for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
    }
  }

  /** Every waiter of the heap settled: drops them all and the timer. */
  clear(): void {
    this.#heap = [];
    this.#live = 0;
    this.#disarm();
  }

  #arm(deadline: number): void {
    this.#disarm();
    const now = Date.now();
    const delay = Math.min(Math.max(deadline - now, 0), MAX_DELAY);
    this.#wakeAt = now + delay;
    this.#cancel = globalThis.clearTimeout as (handle: never) => void;
    this.#handle = globalThis.setTimeout(this.#onTimer, delay);
  }

  #disarm(): void {
    // Called on globalThis: browsers throw "Illegal invocation" for a clearTimeout called on another object.
    if (this.#cancel !== undefined) this.#cancel.call(globalThis, this.#handle as never);
    this.#cancel = this.#handle = undefined;
    this.#wakeAt = Infinity;
  }

  #fire(): void {
    // A timer never fires before its time, even when the wall clock stepped back meanwhile.
    const now = Math.max(Date.now(), this.#wakeAt);
    this.#cancel = this.#handle = undefined;
    this.#wakeAt = Infinity;
    const heap = this.#heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      if ((top.state & TIMED) !== 0 && top.deadline > now) break;
      this.#pop();
      if ((top.state & TIMED) !== 0) {
        top.state &= ~TIMED;
        this.#live--;
        top.expire();
      }
    }
    if (this.#live === 0) this.clear();
    else if (this.#heap[0]!.deadline < this.#wakeAt) this.#arm(this.#heap[0]!.deadline);
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.#siftDown(0);
    }
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const w = heap[i]!;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]!.deadline < heap[child]!.deadline) child++;
      if (heap[child]!.deadline >= w.deadline) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = w;
  }
}
