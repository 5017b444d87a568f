/*
 * Seats: the per-thread places in the shared memory of a `SharedLock` or a `SharedCondition`.
 *
 * A thread (more exactly, one lock or condition object of a thread) that has waiters holds exactly one
 * seat while it has any; its local FIFO queue stands behind it. A seat is one Int32 word holding a
 * state (bits 0..2) and a ticket (bits 3..31): tickets come from a counter word of the primitive,
 * increasing by 8, and order the seats, oldest first (compared modulo 2^32, so they may wrap).
 *
 * A seat is FREE (0) or DEAD (its thread was found gone) for anyone to take, with a compare-exchange
 * to RESERVED(t), a ticket of the taker's own; every other state belongs to the protocol of the
 * primitive owning the words.
 *
 * # Seats whose thread is gone
 *
 * A thread terminated while it waits is found gone by the notify that wakes nobody on its seat (each
 * primitive's protocol). A thread terminated between two steps of its own can leave its seat in a state
 * that nobody notifies: RESERVED(t) (it is taking, leaving or re-publishing the seat) or, for a
 * condition, FLIGHT(t) (woken, it had not looked yet) or WAITING(t) with nobody registered yet. A live
 * thread never keeps a seat RESERVED(t) across an event-loop turn but while it is busy or descheduled,
 * nor FLIGHT(t) but until its event loop runs the wake-up. So a thread that finds every seat taken, and
 * polls, remembers what each seat shows, and takes a seat that showed the very same value at each of
 * its looks for at least {@link STALE} ms for gone: → DEAD(t), free for anyone (a seat other than
 * RESERVED is first notified: a live owner that is armed answers). (A lock's seat left GRANTED is
 * freed by a thread that holds the lock: see shared-lock.ts.) Every write by which an owner leaves RESERVED(t)
 * or FLIGHT(t) is a compare-exchange from the value it last wrote, so an owner so taken for gone (a
 * thread busy or descheduled that long) finds DEAD(t) instead, and takes the path of any thread taken
 * for gone: it takes the seat back or another one and queues again, at the back; nothing it holds is
 * lost (see each primitive's protocol). Tickets tell the owners apart: no two RESERVED values are equal.
 */
import { type Clock, currentClock } from '../core/clock.js';

/** Seats per lock or condition: the most threads that can wait on one at the same time. */
export const SEATS = 32;

/** The state bits of a seat word. */
export const STATE = 7;
export const FREE = 0;
export const RESERVED = 1;
/** The owner waits with an engine waiter (`Atomics.waitAsync`) or blocks (`Atomics.wait`) on the word. */
export const WAITING = 2;
/** The owner polls the word (no `Atomics.waitAsync` on its thread): nobody can tell if it is alive. */
export const POLLING = 3;
export const GRANTED = 4;
/** Found with no engine waiter: its thread was terminated (or, rarely, was between two waits). */
export const DEAD = 5;
export const FLIGHT = 6;

/** One ticket more, from the counter word at `at`. */
export function newTicket(words: Int32Array, at: number): number {
  return (Atomics.add(words, at, 8) + 8) & ~STATE;
}

/** Whether ticket `a` was taken before ticket `b`. */
export function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/**
 * Takes a FREE or DEAD seat among the `SEATS` words at `first`, `stride` words apart, writing `reserved`
 * there: RESERVED and a new ticket of the caller's (bare RESERVED by default: for a primitive whose
 * seats nobody takes for gone while RESERVED). Returns its word index, or -1 when every seat is taken.
 */
export function takeSeat(words: Int32Array, first: number, stride: number, reserved: number = RESERVED): number {
  for (let i = 0, at = first; i < SEATS; i++, at += stride) {
    const v = Atomics.load(words, at);
    const s = v & STATE;
    if ((s === FREE || s === DEAD) && Atomics.compareExchange(words, at, v, reserved) === v) return at;
  }
  return -1;
}

/**
 * How long, in ms, a seat must show the very same RESERVED(t) or FLIGHT(t) to a thread looking for a
 * seat before that thread takes the seat's thread for gone. Far above any synchronous step of the
 * protocol and any wake-up delivery of a running thread; a live thread stalled that long (busy, or
 * descheduled) loses its turn and queues again at the back, nothing lost.
 */
export const STALE = 1000;

/**
 * What one thread saw of each seat (a value and, for a condition, its counts word) and since when, on
 * the clock in force (see core/clock.ts).
 */
export class Watch {
  readonly #value = new Int32Array(SEATS);
  readonly #counts = new Int32Array(SEATS);
  readonly #since = new Float64Array(SEATS);
  #clock: Clock | undefined;

  /** The time now, on the clock in force; what was seen on another clock is forgotten. */
  now(): number {
    const clock = currentClock();
    if (clock !== this.#clock) {
      this.#clock = clock;
      this.#value.fill(0);
    }
    return clock.now();
  }

  /**
   * Seat `i` shows `value` and `counts` at `now`: whether it showed exactly these at every look since
   * {@link STALE} ms or more. Anything else seen is remembered as new.
   */
  stale(i: number, value: number, counts: number, now: number): boolean {
    if (this.#value[i] === value && this.#counts[i] === counts) return now - this.#since[i]! >= STALE;
    this.seen(i, value, counts, now);
    return false;
  }

  /** Remembers seat `i` showing `value` and `counts` from `now` on. */
  seen(i: number, value: number, counts: number, now: number): void {
    this.#value[i] = value;
    this.#counts[i] = counts;
    this.#since[i] = now;
  }

  /** Seat `i`, still showing `value`, has `counts` now by our own doing: it has not moved since. */
  keep(i: number, value: number, counts: number): void {
    if (this.#value[i] === value) this.#counts[i] = counts;
  }

  /** Forgets what was seen of seat `i`. */
  forget(i: number): void {
    this.#value[i] = 0;
  }
}

/** Whether this thread has `Atomics.waitAsync` (else its waiters poll). */
export function canWaitAsync(): boolean {
  return typeof Atomics.waitAsync === 'function';
}

let scratch: Int32Array | undefined;

/** Blocks this thread for `ms` milliseconds (where it may block). */
export function sleep(ms: number): void {
  Atomics.wait((scratch ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, ms);
}

/**
 * Calls `poll` after `ms` ms (the host's `setTimeout` in force), without keeping a Node process alive by
 * itself: a thread with pending waits is held alive apart (word.ts `holdThread`).
 */
export function pollAfter(poll: () => void, ms: number): ReturnType<typeof setTimeout> {
  const handle = setTimeout(poll, ms);
  (handle as { unref?: () => void }).unref?.();
  return handle;
}

/** The longest polling delay, in ms, of a thread without `Atomics.waitAsync` or without a seat. */
export const POLL_MAX = 32;
