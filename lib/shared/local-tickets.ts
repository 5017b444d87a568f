/*
 * The waiters of one thread on a ticket queue (tickets.ts): each holds its own ticket and waits on its
 * own slot word, with one `Atomics.waitAsync` (so at most one engine waiter per slot word per thread),
 * or, where `Atomics.waitAsync` is missing, one polling timer for all of them. While there are any, a
 * Node worker is kept alive.
 */
import { WaiterQueue } from '../core/queue.js';
import { holdThread, releaseThread } from './word.js';
import type { TicketQueue } from './tickets.js';

/** The longest polling delay without `Atomics.waitAsync`, in ms (as word.ts polls). */
const POLL_MAX = 32;

/** A local waiter with a ticket (-1: none). */
export interface Ticketed {
  ticket: number;
}

export class LocalTickets<W extends Ticketed> {
  /** Every local waiter, ticketed or not, for park's deadlines and the waiter count. */
  readonly waiters = new WaiterQueue();
  /** The ticketed ones, by ticket. */
  readonly mine = new Map<number, W>();
  #poll: { handle: unknown; cancel: (handle: never) => void; delay: number } | undefined;
  #holdsThread = false;
  readonly #onPoll = () => {
    const { delay } = this.#poll!;
    this.#poll = undefined;
    for (const [t, w] of [...this.mine]) this.check(w, t);
    this.onPoll?.();
    if (this.waiters.size > 0) this.startPolling(Math.min(delay * 2, POLL_MAX));
  };

  constructor(
    readonly queue: TicketQueue,
    /** Looks at ticket t's slot for waiter w: woken, polled, or registered. */
    private readonly check: (w: W, t: number) => void,
    /** Runs at every poll, for what else the owner waits on. */
    private readonly onPoll?: () => void,
  ) {
    this.waiters.onEmpty = () => this.#idle();
  }

  /** Whether this thread polls (no `Atomics.waitAsync`). */
  get polling(): boolean {
    return typeof Atomics.waitAsync !== 'function';
  }

  /** Keeps a Node worker alive while there are local waiters. */
  holdThread(): void {
    if (!this.#holdsThread && this.waiters.size > 0) {
      this.#holdsThread = true;
      holdThread();
    }
  }

  /** Waits for ticket t's slot to move, for w (registered). */
  arm(w: W, t: number): void {
    w.ticket = t;
    this.mine.set(t, w);
    if (this.polling) return this.startPolling(1);
    const q = this.queue;
    const result = Atomics.waitAsync(q.words, q.slot(t), q.waitingValue(t, false));
    if (!result.async) this.check(w, t);
    else
      void result.value.then(() => {
        if (w.ticket === t) this.check(w, t);
      });
  }

  /** w has no ticket any more. */
  forget(w: W): void {
    this.mine.delete(w.ticket);
    w.ticket = -1;
  }

  startPolling(delay: number): void {
    if (this.#poll !== undefined) return;
    const handle = globalThis.setTimeout(this.#onPoll, delay);
    (handle as { unref?: () => void }).unref?.();
    this.#poll = { handle, cancel: globalThis.clearTimeout as (handle: never) => void, delay };
  }

  #idle(): void {
    if (this.#poll !== undefined) {
      this.#poll.cancel.call(globalThis, this.#poll.handle as never);
      this.#poll = undefined;
    }
    if (this.#holdsThread) {
      this.#holdsThread = false;
      releaseThread();
    }
  }
}
