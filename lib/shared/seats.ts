/*
 * Seats: the per-thread places in the shared memory of a `SharedLock` or a `SharedCondition`.
 *
 * A thread (more exactly, one lock or condition object of a thread) that has waiters holds exactly one
 * seat while it has any; its local FIFO queue stands behind it. A seat is one Int32 word holding a
 * state (bits 0..2) and a ticket (bits 3..31): tickets come from a counter word of the primitive,
 * increasing by 8, and order the seats, oldest first (compared modulo 2^32, so they may wrap).
 *
 * A seat is FREE (0) or DEAD (its thread was found gone) for anyone to take, with a compare-exchange
 * to RESERVED; every other state belongs to the protocol of the primitive owning the words.
 */

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
 * Takes a FREE or DEAD seat among the `SEATS` words at `first`, `stride` words apart, leaving it
 * RESERVED. Returns its word index, or -1 when every seat is taken.
 */
export function takeSeat(words: Int32Array, first: number, stride: number): number {
  for (let i = 0, at = first; i < SEATS; i++, at += stride) {
    const v = Atomics.load(words, at);
    const s = v & STATE;
    if ((s === FREE || s === DEAD) && Atomics.compareExchange(words, at, v, RESERVED) === v) return at;
  }
  return -1;
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

/** The longest polling delay, in ms, of a thread without `Atomics.waitAsync` or without a seat. */
export const POLL_MAX = 32;
