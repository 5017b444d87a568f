/*
 * A FIFO queue of waiters in shared memory, across threads: the part `SharedLock` and
 * `SharedCondition` share. It hands something (the lock, a notification) to one waiter at a time, in
 * ticket order, and never to a waiter that gave up or whose thread is gone.
 *
 * # The words
 *
 * `1 + SLOTS` Int32 words from `index`:
 *
 *     head       bit 0       FLAG: the owner's (SharedLock: LOCKED)
 *                bit 1       FULL: some thread waits for room in the queue (it waits on the head word)
 *                bits 2..16  next: the ticket the next waiter takes (mod 2^15)
 *                bits 17..31 serving: the oldest ticket still queued (mod 2^15)
 *     slot k     the state of ticket t where t % SLOTS = k: (t << 3) | state, state one of
 *                  WAITING  its waiter waits on this word (Atomics.waitAsync or Atomics.wait)
 *                  POLLING  its waiter polls this word (no Atomics.waitAsync on its thread)
 *                  GRANTED  handed to its waiter, not yet claimed
 *                  DONE     finished: claimed, abandoned, or skipped
 *
 * Queued tickets are `serving ... next - 1`; at most LIMIT = SLOTS - 1 at once, which makes sure the
 * slot a new ticket t takes holds DONE(t - SLOTS) (or 0, never used): t - SLOTS and t - SLOTS + 1 were
 * both popped, and a ticket is popped only once the one before it is done with.
 *
 * # Who writes what
 *
 * Every write is a compare-exchange, so of two threads racing for one transition exactly one wins.
 * - A waiter takes ticket t (head: next + 1), then registers: slot DONE(t - SLOTS) → WAITING(t), then
 *   waits on the slot for WAITING(t) to change.
 * - The giver pops t (head: serving + 1; only the thread that wins that exchange deals with t), then
 *   offers: slot WAITING(t) → GRANTED(t) and `Atomics.notify` on the slot. The notify returns how many
 *   engine waiters it woke: 0 means nobody waits there (the thread was terminated: the engine dropped
 *   its waiters), so the giver takes the grant back, GRANTED(t) → DONE(t), and pops the next ticket.
 * - The waiter, woken, claims: GRANTED(t) → DONE(t). It has what was handed.
 * - A waiter that gives up (timeout, abort) abandons: WAITING(t) → DONE(t), at once, on its own
 *   thread, then notifies the slot to drop its own engine waiter. If it finds GRANTED(t), it was
 *   handed the thing before it gave up: it claims it and passes it on (or, blocking, keeps it).
 * - A giver that finds no engine waiter on a WAITING slot, or a slot not registered yet, looks again
 *   for a few microseconds (SPIN): the waiter may be between two steps on its own thread.
 * - A ticket popped before its waiter registered (the waiter's thread is between the two steps) is
 *   skipped (SKIP_EARLY: the waiter sees DONE(t) and takes a new ticket) or granted at once (GRANT_EARLY:
 *   the waiter sees GRANTED(t) and claims it); the owner chooses.
 * - Anyone may pop an abandoned ticket at the head.
 *
 * # Why nothing is lost
 *
 * A grant goes to a waiter that is registered and armed: the notify counted its engine waiter, and an
 * engine waiter stays counted until it is woken, so the thread was alive and the waiter had not given
 * up (giving up is an exchange on the same slot, which the grant beat). Otherwise the grant is taken
 * back by the exchange that decides it, and the next ticket is offered. A waiter whose thread is busy
 * after giving up has already abandoned its slot; a terminated thread's engine waiters are gone, so
 * the notify counts 0. Without `Atomics.waitAsync` a waiter polls: its ticket is POLLING, granted
 * without the count (a thread terminated while polling keeps what it was granted).
 */

/** Slots per queue; a power of two. */
export const SLOTS = 64;
/** The most tickets queued at once. */
export const LIMIT = SLOTS - 1;
/** Bytes of a queue: the head word and the slots. */
export const QUEUE_BYTES = 4 * (1 + SLOTS);

/** Bits of the head word. */
export const FLAG = 1;
export const FULL = 2;
const TICKET = 0x7fff;
const NEXT_SHIFT = 2;
const SERVING_SHIFT = 17;

/**
 * How many times a giver looks again at a ticket whose waiter is between two steps (taking the ticket
 * and registering it; registering and waiting) before it takes the waiter for gone: a few microseconds.
 */
const SPIN = 64;

/** Slot states. */
const WAITING = 1;
const POLLING = 2;
const GRANTED = 3;
const DONE = 4;

const slotValue = (t: number, state: number) => ((t & TICKET) << 3) | state;

export const nextOf = (head: number) => (head >>> NEXT_SHIFT) & TICKET;
export const servingOf = (head: number) => (head >>> SERVING_SHIFT) & TICKET;
/** Tickets queued, abandoned ones included. */
export const lengthOf = (head: number) => (nextOf(head) - servingOf(head)) & TICKET;
const withNext = (head: number, t: number) => (head & ~(TICKET << NEXT_SHIFT)) | ((t & TICKET) << NEXT_SHIFT);
const withServing = (head: number, t: number) => (head & ~(TICKET << SERVING_SHIFT)) | ((t & TICKET) << SERVING_SHIFT);

/** What a popped ticket whose waiter has not registered yet gets. */
export const SKIP_EARLY = false;
export const GRANT_EARLY = true;

/** Where a registration stands. */
export type Registered = 'waiting' | 'granted' | 'skipped';

export class TicketQueue {
  constructor(
    readonly words: Int32Array,
    readonly index: number,
    private readonly early: boolean,
  ) {}

  head(): number {
    return Atomics.load(this.words, this.index);
  }

  /** Compare-exchanges the head word; true when it was `from`. */
  swapHead(from: number, to: number): boolean {
    return Atomics.compareExchange(this.words, this.index, from, to) === from;
  }

  /** Takes the next ticket from `head` (the caller checked there is room): the ticket, or -1 if the head moved. */
  take(head: number): number {
    const t = nextOf(head);
    return this.swapHead(head, withNext(head, t + 1)) ? t : -1;
  }

  /** Marks the head FULL (a waiter waits on it for room): the head value to wait on, or -1 if it moved. */
  markFull(head: number): number {
    return (head & FULL) !== 0 || this.swapHead(head, head | FULL) ? head | FULL : -1;
  }

  /**
   * Pops the oldest ticket from `head`, keeping FLAG and clearing FULL (waking whoever waits for room):
   * the ticket, or -1 if the head moved.
   */
  pop(head: number): number {
    const t = servingOf(head);
    if (!this.swapHead(head, withServing(head, t + 1) & ~FULL)) return -1;
    if ((head & FULL) !== 0) Atomics.notify(this.words, this.index);
    return t;
  }

  /** Pops abandoned tickets at the head, making room. */
  dropAbandoned(): void {
    for (let head = this.head(); lengthOf(head) > 0; head = this.head()) {
      const t = servingOf(head);
      if (Atomics.load(this.words, this.slot(t)) !== slotValue(t, DONE)) return;
      this.pop(head);
    }
  }

  /** The index of ticket t's slot word. */
  slot(t: number): number {
    return this.index + 1 + (t & (SLOTS - 1));
  }

  /** The value a waiter of ticket t waits on. */
  waitingValue(t: number, polling: boolean): number {
    return slotValue(t, polling ? POLLING : WAITING);
  }

  /** Registers the waiter of ticket t, just taken. */
  register(t: number, polling: boolean): Registered {
    const at = this.slot(t);
    const free = slotValue(t - LIMIT - 1, DONE);
    let v = Atomics.load(this.words, at);
    if (v === 0 || v === free) {
      const found = Atomics.compareExchange(this.words, at, v, this.waitingValue(t, polling));
      if (found === v) return 'waiting';
      v = found;
    }
    return v === slotValue(t, GRANTED) && this.claim(t) ? 'granted' : 'skipped';
  }

  /** Where ticket t stands for its waiter after a wake-up. */
  state(t: number): 'waiting' | 'granted' | 'done' {
    const v = Atomics.load(this.words, this.slot(t));
    if (v === slotValue(t, GRANTED)) return 'granted';
    return v === slotValue(t, DONE) ? 'done' : 'waiting';
  }

  /** Claims a grant to ticket t: true when it is the claimer's now. */
  claim(t: number): boolean {
    const granted = slotValue(t, GRANTED);
    return Atomics.compareExchange(this.words, this.slot(t), granted, slotValue(t, DONE)) === granted;
  }

  /**
   * The waiter of ticket t gives up: 'abandoned', or 'granted' when it was handed the thing first (and
   * has now claimed it), or 'gone' when its ticket was skipped.
   */
  abandon(t: number): 'abandoned' | 'granted' | 'gone' {
    const at = this.slot(t);
    let v = Atomics.load(this.words, at);
    if (v === slotValue(t, WAITING) || v === slotValue(t, POLLING)) {
      const found = Atomics.compareExchange(this.words, at, v, slotValue(t, DONE));
      if (found === v) {
        Atomics.notify(this.words, at); // this thread's own engine waiter, which nothing else would end
        return 'abandoned';
      }
      v = found;
    }
    return v === slotValue(t, GRANTED) && this.claim(t) ? 'granted' : 'gone';
  }

  /**
   * Hands ticket t's waiter the lock or the notification, just popped, from another thread: true when
   * it went to a live waiter, false when the ticket is dead (abandoned, or its thread gone).
   */
  offer(t: number): boolean {
    const words = this.words;
    const at = this.slot(t);
    const granted = slotValue(t, GRANTED);
    let v = Atomics.load(words, at);
    for (;;) {
      if (v === slotValue(t, DONE)) return false;
      if (v === slotValue(t, WAITING) || v === slotValue(t, POLLING)) {
        const found = Atomics.compareExchange(words, at, v, granted);
        if (found === v) {
          if ((v & 7) === POLLING) return true;
          // Nobody waiting on the slot yet may be a waiter between registering and waiting: ask again
          // for a few microseconds before taking its thread for gone.
          for (let i = 0; i < SPIN; i++) if (Atomics.notify(words, at) > 0) return true;
          return Atomics.compareExchange(words, at, granted, slotValue(t, DONE)) !== granted;
        }
        v = found;
      } else {
        // Its waiter took the ticket but has not registered yet: give it a few microseconds to.
        for (let i = 0; i < SPIN && Atomics.load(words, at) === v; i++);
        const now = Atomics.load(words, at);
        if (now !== v) {
          v = now;
          continue;
        }
        const to = this.early === GRANT_EARLY ? granted : slotValue(t, DONE);
        const found = Atomics.compareExchange(words, at, v, to);
        if (found === v) return this.early;
        v = found;
      }
    }
  }

  /** Takes ticket t, popped, for a waiter of this thread that waits on it: always succeeds. */
  takeBack(t: number): void {
    const at = this.slot(t);
    Atomics.store(this.words, at, slotValue(t, DONE));
    Atomics.notify(this.words, at); // its engine waiter
  }
}
