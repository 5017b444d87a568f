/*
 * One subscription connection per client, shared by every waiter of the process.
 *
 * A primitive with local waiters holds a topic (its channel) here, from the first answer that says it
 * must wait until its last waiter has left. The connection exists while some topic is held, and stays
 * open (subscribed to nothing) while some primitive keeps it: one that holds a lease, or waits again, so
 * that a lock taken in turns does not connect anew for each turn. It closes once nothing holds or keeps
 * it, or at once when the user closes the client.
 *
 * Nothing published while a connection is down or not yet subscribed can reach it: Redis pub/sub keeps no
 * history. So `hold()` resolves only once the channel is subscribed on a live connection, and the caller
 * then reads the state it waits on; and after a lost connection is replaced (retried with back-off while
 * any topic is held), every topic is told to `resync()`: read again what it may have missed.
 */
import type { Adapter, Subscriber } from './client.js';
import { clearHostTimer, hostTimer } from './timers.js';

/** A holder of a channel: told of its messages, to read its state again after a reconnect, and of the end. */
export interface Topic {
  message(text: string): void;
  resync(): void;
  /** The user closed the client: nothing more can come. */
  closed(): void;
}

/** Back-off between attempts to replace a lost subscription connection, in ms. */
const FIRST_RETRY = 20;
const LAST_RETRY = 1_000;

interface Held {
  topic: Topic;
  /** Resolves once subscribed on the connection in use; a new one while none is. */
  ready: Promise<void>;
  done: (() => void) | undefined;
}

function pending(held: Pick<Held, 'ready' | 'done'>): void {
  held.ready = new Promise<void>((resolve) => (held.done = resolve));
}

function subscribed(held: Held | undefined): void {
  held?.done?.();
  if (held !== undefined) held.done = undefined;
}

const channels = new WeakMap<Adapter, Channel>();

/** The subscriptions of `adapter`'s client. */
export function channelOf(adapter: Adapter): Channel {
  let channel = channels.get(adapter);
  if (channel === undefined) channels.set(adapter, (channel = new Channel(adapter)));
  return channel;
}

export class Channel {
  readonly #adapter: Adapter;
  readonly #held = new Map<string, Held>();
  /** The live, subscribed connection, if any. */
  #conn: Subscriber | undefined;
  /** Counts connection attempts: events of an older one are ignored. */
  #gen = 0;
  #opening = false;
  #retry = FIRST_RETRY;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether a connection was lost since the last one came up: the next makes every topic resync. */
  #lost = false;
  #closed = false;
  /** How many primitives keep the connection open while they hold no topic (see keep()). */
  #keeps = 0;

  constructor(adapter: Adapter) {
    this.#adapter = adapter;
    this.#watchClose();
  }

  /** Until the user closes the client; a client connected again after that is watched anew (see #open). */
  #watchClose(): void {
    this.#adapter.onClose(() => {
      this.#closed = true;
      const topics = [...this.#held.values()].map((h) => h.topic);
      this.#drop();
      for (const topic of topics) topic.closed();
    });
  }

  /**
   * Holds channel `name` for `topic` (once, until `release(name)`); resolves once it is subscribed on a
   * live connection. Then the caller reads the state it waits on: a message published before that was
   * not heard. (One lost with a connection later is made up for by `resync()`.)
   */
  hold(name: string, topic: Topic): Promise<void> {
    const held: Held = { topic, ready: undefined!, done: undefined };
    pending(held);
    this.#held.set(name, held);
    const conn = this.#conn;
    if (conn === undefined) this.#open();
    else {
      const gen = this.#gen;
      conn.subscribe([name]).then(
        () => subscribed(this.#held.get(name)),
        () => gen === this.#gen && this.#lose(),
      );
    }
    return held.ready;
  }

  /** Lets go of channel `name`. */
  release(name: string): void {
    if (!this.#held.delete(name)) return;
    if (this.#held.size === 0 && this.#keeps === 0) this.#drop();
    else this.#conn?.unsubscribe([name]).catch(() => {});
  }

  /**
   * Keeps the connection, if one is open, until {@link Channel.unkeep}: it is not closed when the last
   * topic is let go (nor opened for this).
   */
  keep(): void {
    this.#keeps++;
  }

  unkeep(): void {
    if (--this.#keeps === 0 && this.#held.size === 0) this.#drop();
  }

  #open(): void {
    if (this.#closed) {
      if (this.#adapter.closed()) return;
      this.#closed = false; // the user connected the client again
      this.#watchClose();
    }
    if (this.#opening || this.#retryTimer !== undefined) return;
    this.#opening = true;
    const gen = ++this.#gen;
    let conn: Subscriber | undefined;
    const current = () => gen === this.#gen;
    this.#adapter
      .subscriber({
        message: (name, text) => {
          if (current()) this.#held.get(name)?.topic.message(text);
        },
        lost: () => current() && this.#lose(),
      })
      .then(async (c) => {
        conn = c;
        for (;;) {
          if (!current() || this.#held.size === 0) return c.close();
          const names = [...this.#held].filter(([, h]) => h.done !== undefined || this.#conn !== c);
          if (names.length === 0) break;
          this.#conn = c;
          await c.subscribe(names.map(([n]) => n));
          if (!current()) return;
          for (const [n] of names) subscribed(this.#held.get(n));
          if (this.#lost) {
            this.#lost = false;
            for (const [, h] of names) h.topic.resync();
          }
        }
        this.#retry = FIRST_RETRY;
      })
      .catch(() => {
        if (current()) this.#lose();
        else conn?.close();
      })
      .finally(() => {
        if (current()) this.#opening = false;
      });
  }

  /** The connection in use (or being opened) is lost: replace it while any channel is held. */
  #lose(): void {
    this.#gen++;
    this.#opening = false;
    this.#conn?.close();
    this.#conn = undefined;
    this.#lost = true;
    for (const held of this.#held.values()) if (held.done === undefined) pending(held);
    if (this.#held.size === 0 || this.#closed || this.#retryTimer !== undefined) return;
    const delay = this.#retry;
    this.#retry = Math.min(this.#retry * 2, LAST_RETRY);
    // Referenced: a process whose tasks wait through an outage stays alive until they are served.
    this.#retryTimer = hostTimer(
      () => {
        this.#retryTimer = undefined;
        this.#open();
      },
      delay,
      true,
    );
  }

  /** Nothing is held (or the client was closed): close the connection. */
  #drop(): void {
    this.#held.clear();
    clearHostTimer(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#gen++;
    this.#opening = false;
    this.#conn?.close();
    this.#conn = undefined;
    this.#lost = false;
  }
}
