/*
 * The deadlines of a waiter queue.
 *
 * Each waiter queue (of an event, a lock, a condition, ...) keeps its timed waiters in a binary min-heap
 * per clock (clock.ts: normally one), and arms one host timer for the earliest, so releasing every waiter
 * of an event drops its deadlines with one clearTimeout, whatever their number. Deadlines of equal
 * timeouts arrive in increasing order, so a push is O(1) in the common case.
 *
 * A waiter that settles another way is not taken out, only marked (its TIMED bit cleared): O(1). The heap
 * is rebuilt from its live entries, sorted, when dead entries outnumber live ones, and dropped whole, with
 * its timer, when no live one is left. A delay above 2^31-1 ms is armed in steps.
 */
import { type Clock, monotonic } from './clock.js';
import { TRUE } from './settled.js';

/** Timed waits started in the current synchronous run on the real clock, their `deadline` still their timeout. */
let unstamped: Timed[] = [];

/** Gives the waits of the run that just ended their deadlines, from one clock read. */
function stamp(): void {
  const batch = unstamped;
  unstamped = [];
  const now = monotonic();
  for (const w of batch) if ((w.state & TIMED) !== 0) w.deadlines!.insert(w, now + w.deadline);
}

/** A waiter with a deadline, as the heap sees it. */
export interface Timed {
  /**
   * The clock time, on its heap's clock, at which the waiter times out: rounded up to a whole
   * millisecond, never earlier than its timeout asks (and an integer field takes no memory of its own).
   */
  deadline: number;
  /** Bit {@link TIMED} is set while the waiter counts on its heap. */
  state: number;
  /** The heap that counts for it, while TIMED is set. */
  deadlines: Deadlines | undefined;
  /** Called once when the deadline passes while TIMED is set (the heap has already cleared it). */
  expire(): void;
}

/** The bit of `Timed.state` that says the waiter still counts on its deadline. */
export const TIMED = 2;

/** The longest delay `setTimeout` honours; above it, Node and browsers fire after 1 ms. */
const MAX_DELAY = ~(1 << 31);

/** The pending deadlines of one waiter queue on one clock, with one host timer armed for the earliest. */
export class Deadlines {
  #heap: Timed[] = [];
  /** How many waiters still count on it. */
  live = 0;
  #handle: unknown;
  /** The clock time the armed host timer stands for (Infinity: none armed). */
  #wakeAt = Infinity;
  readonly #onTimer = () => this.#fire();
  /**
   * On a fake clock, the time its last timer stood for: that timer firing proves the time has come, even
   * where the fake moves no clock we can read (a fake `setTimeout` alone).
   */
  #floor = -Infinity;

  declare readonly clock: Clock;
  /**
   * Set by a cross-thread owner (see shared/word.ts `lookBeforeDeadlines`): looks at what may have
   * released its waiters before any of them expires. Declared only: one-thread builds ship nothing for it.
   */
  declare look: (() => void) | undefined;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The clock's time, never behind what a fired fake timer proved. */
  #now(): number {
    return Math.max(this.clock.now(), this.#floor);
  }

  /**
   * Starts counting down `timeout` ms (finite, above 0) for `w`. On the real clock, the waits started in
   * one synchronous run share one clock read, taken in a job of its own once the run is over: later than
   * any of their calls, so none can time out before its full timeout has elapsed since its call (and none
   * could time out during the run anyway). A fake clock is read at once, since a test may tick it in the
   * same run.
   */
  add(w: Timed, timeout: number): void {
    w.deadlines = this;
    w.state |= TIMED;
    this.live++;
    if (this.clock.now !== monotonic) return this.insert(w, this.#now() + timeout);
    w.deadline = Math.ceil(timeout);
    if (unstamped.push(w) === 1) void TRUE.then(stamp);
  }

  /** Puts `w` in the heap with its deadline (rounded up to a whole millisecond). */
  insert(w: Timed, at: number): void {
    const deadline = Math.ceil(at);
    w.deadline = deadline;
    const heap = this.#heap;
    let i = heap.push(w) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.deadline <= deadline) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = w;
    if (deadline < this.#wakeAt) this.#arm(deadline);
  }

  /** A waiter of the heap settled another way; its TIMED bit was just cleared. */
  forget(): void {
    if (--this.live === 0) this.clear();
    else if (this.#heap.length > 2 * this.live + 64) {
      // Sorted, the live ones make a heap again (and a heap is all but sorted already).
      this.#heap = this.#heap.filter((w) => (w.state & TIMED) !== 0).sort((a, b) => a.deadline - b.deadline);
    }
  }

  /** Every waiter of the heap settled: drops them all and the timer. */
  clear(): void {
    this.#heap = [];
    this.live = 0;
    this.#disarm();
  }

  #arm(deadline: number): void {
    this.#disarm();
    const now = this.#now();
    const delay = Math.min(Math.max(deadline - now, 0), MAX_DELAY);
    this.#wakeAt = now + delay;
    this.#handle = this.clock.setTimeout.call(globalThis, this.#onTimer, delay);
  }

  #disarm(): void {
    // Called on globalThis: browsers throw "Illegal invocation" for a clearTimeout called on another object.
    if (this.#handle !== undefined) this.clock.clearTimeout.call(globalThis, this.#handle as never);
    this.#handle = undefined;
    this.#wakeAt = Infinity;
  }

  #fire(): void {
    const clock = this.clock;
    // The host's timer may fire a little early: only the clock says what is due. A fake one is trusted.
    if (clock.now !== monotonic) this.#floor = this.#wakeAt;
    const now = this.#now();
    this.#handle = undefined; // fired: nothing to clear (the heap arms a new one or none below)
    // A release from another thread may have come before the deadline, its wake-up still queued behind
    // this timer (a thread busy past the deadline runs its timers first): the owner looks for it first,
    // and the waiters it releases no longer count here.
    this.look?.();
    const heap = this.#heap;
    const due: Timed[] = [];
    while (heap.length > 0) {
      const top = heap[0]!;
      if ((top.state & TIMED) !== 0 && top.deadline > now) break;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        this.#siftDown(0);
      }
      if ((top.state & TIMED) !== 0) {
        top.state &= ~TIMED;
        this.live--;
        due.push(top);
      }
    }
    if (this.live === 0) this.clear();
    else this.#arm(heap[0]!.deadline);
    // Expiring may settle other waiters of this heap (a condition passes a notification on): the heap is
    // whole again before any of it runs.
    for (const w of due) w.expire();
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
