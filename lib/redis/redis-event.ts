/*
 * RedisEvent: an event whose flag lives in Redis, waited on from any number of processes.
 *
 * ## State
 * One hash per name, `awaitable-event:event:{name}`: `e`, an epoch (random, chosen by the `set()` that
 * made the hash), and `g`, a generation: odd while the event is set, even while it is clear. `set()` on
 * a clear event and `clear()` on a set one move it to the next generation, so generations only grow, and
 * a waiter that saw generation `b` (even) was pending while a `set()` ran if and only if it later sees a
 * generation above `b` (or a new epoch: see "Data loss"). `set()` publishes `epoch generation` on the
 * channel of the same name in the same script that moved the generation. The hash has no expiry: it is
 * the event, as a flag is.
 *
 * ## A wait
 * 1. The waiter joins the local queue with its deadline and signal (the core's), and reads the state
 *    (READ): set → released `true` after one round trip. Else that generation is its *baseline*.
 * 2. A waiter that must wait makes the process hold the channel (channel.ts: one subscription connection
 *    per client, held while anything waits) and, once it is subscribed, read the state once more for
 *    every waiter queued before that read. So a `set()` that ran after a waiter's first read and before
 *    the subscription took effect is seen by that second read, and every later one by its message: none
 *    is missed between the check and the subscription.
 * 3. A message or a read showing a generation above a waiter's baseline releases it, `true`. Waiters are
 *    released in the order they called `wait()`: replies on one connection come back in order, so
 *    baselines never decrease along the queue, and one observation releases a prefix of it.
 * 4. After a lost subscription connection is replaced, the process reads the state again (resync): a
 *    `set()` whose message was lost is seen there.
 * A local `set()` releases the local waiters from its own reply, before its message comes back.
 *
 * ## Cancel safety
 * A timeout or an abort takes the waiter out of the local queue at once, whatever Redis is doing; replies
 * that come for it later are ignored. A waiter leaves nothing in Redis: waiting writes nothing.
 *
 * ## Data loss
 * A server that restarts without persistence, or fails over to a replica that had not seen the last
 * writes, may lose the hash. A read that finds another epoch than a waiter's baseline means the hash was
 * made anew by a `set()` after that baseline was read: the waiter is released. A read that finds no hash
 * at all rebases the waiter on "never set" (the loss is not a `set()`): it waits for the next one.
 * A message naming another epoch than a waiter saw (none, for an event never set) is not taken on its
 * word: pub/sub spans the server's databases, so an event of the same name in another database publishes
 * on the same channel. The process reads the state once more (one read per such message) and that decides.
 */
import { type WaitOptions } from '../core/arguments.js';
import { inspectable } from '../core/inspect.js';
import { Waiter, WaiterQueue } from '../core/queue.js';
import { type Adapter, adapt, isFinal } from './client.js';
import { type Channel, type Topic, channelOf } from './channel.js';
import { checkName, keyOf } from './names.js';
import { type Hub, Hubs, begin, closedError, fail, giveUp, release, waiting } from './remote.js';
import { CLEAR, READ, SET } from './scripts.js';
import { afterTick, hostTimer } from './timers.js';

/** A state as read: the epoch (null: no hash) and the generation. */
type State = [epoch: string | null, generation: number];

class EventWaiter extends Waiter {
  /** Its place in its hub's order of arrival. */
  declare seq: number;
  /** The state it saw when its wait began: undefined until read. */
  epoch: string | null | undefined = undefined;
  base = 0;
  /** A try (timeout 0 or less): it ends with its first read. */
  once = false;
}

/** Whether a waiter that saw `w` was pending while a set() ran, now that `epoch, g` was seen. */
function passed(w: EventWaiter, epoch: string | null, g: number, read: boolean): boolean {
  if (w.epoch === undefined) return read && g % 2 === 1;
  if (w.epoch === epoch) return g > w.base;
  // A hash made anew since the waiter's read: by a set(). A message names an epoch, but pub/sub spans the
  // server's databases (an event of this name in another one publishes here too): only a read says.
  return epoch !== null && read;
}

/** The waiters of one event name in this process, over one client: shared by its RedisEvent objects. */
class EventHub implements Topic, Hub {
  readonly queue = new WaiterQueue();
  readonly #adapter: Adapter;
  readonly #channel: Channel;
  readonly #key: string;
  #seq = 0;
  /** The newest generation a message announced, and its epoch. */
  #heard: State = [null, -1];
  /** The waiters queued when that message came: those whose wait overlapped its set(). */
  #heardUpTo = 0;
  /** Reads sent so far, and how many had been sent when that message came. */
  #reads = 0;
  #heardReads = 0;
  #retrying = false;
  /** Whether it holds its channel (from its first waiter that is not a try until the queue empties). */
  #holding = false;

  constructor(adapter: Adapter, key: string) {
    this.#adapter = adapter;
    this.#channel = channelOf(adapter);
    this.#key = key;
    // Let go once the released waiters' continuations have run (one may wait again at once).
    this.queue.onEmpty = () =>
      afterTick(() => {
        if (this.queue.size > 0) return;
        if (this.#holding) this.#channel.release(key);
        this.#holding = false;
        hubs.sweep(adapter, key, this);
      });
  }

  wait(arg: unknown): Promise<boolean> {
    return begin(
      this.queue,
      arg,
      (resolve, reject, signal) => new EventWaiter(this.queue, resolve, reject, signal),
      (w, timeout) => {
        w.seq = ++this.#seq;
        w.once = timeout <= 0;
        this.#read();
      },
    );
  }

  /** Reads the state for every waiter queued so far. */
  #read(): void {
    const upTo = this.#seq;
    const n = ++this.#reads;
    this.#adapter.run(READ, [this.#key], []).then(
      (state) => this.seen(state as State, upTo, n),
      (error: unknown) => this.#failed(error, upTo),
    );
  }

  idle(): boolean {
    return this.queue.size === 0 && !this.#holding;
  }

  /** The number of waiters queued so far: an observation made after this call covers them. */
  get seq(): number {
    return this.#seq;
  }

  /**
   * What a read (the `n`th) or a local set() showed, for the waiters queued before it was sent.
   */
  seen([epoch, g]: State, upTo: number, n = Infinity): void {
    epoch ??= null;
    for (const w of waiting<EventWaiter>(this.queue)) {
      if (w.seq > upTo) break;
      if (passed(w, epoch, g, true)) release(w);
      else if (w.once) giveUp(w);
      else if (w.epoch === undefined || (epoch === null && w.epoch !== null)) {
        w.epoch = epoch;
        w.base = g;
      }
    }
    if (this.queue.size > 0 && !this.#holding) {
      // Someone must wait: listen, then read again what was published before the subscription took.
      this.#holding = true;
      void this.#channel.hold(this.#key, this).then(() => this.#read());
    }
    // A message that came before this reply, for the waiters that were waiting when it came; one that
    // came after this read was sent and names another epoch is checked by a read of its own.
    this.#heardUp(this.#heard, this.#heardUpTo);
    if (n <= this.#heardReads) this.#check();
  }

  message(text: string): void {
    const space = text.indexOf(' ');
    const heard: State = [text.slice(0, space), Number(text.slice(space + 1))];
    if (heard[0] !== this.#heard[0] || heard[1] > this.#heard[1]) this.#heard = heard;
    this.#heardUpTo = this.#seq;
    this.#heardReads = this.#reads;
    this.#heardUp(heard, this.#seq);
    this.#check();
  }

  /**
   * Reads the state once more if the message heard names another epoch than a waiter it may concern saw,
   * unless a read sent since it came will tell (at most one read per message).
   */
  #check(): void {
    const [epoch] = this.#heard;
    if (epoch === null || this.#reads > this.#heardReads) return;
    for (const w of waiting<EventWaiter>(this.queue)) {
      if (w.seq > this.#heardUpTo) break;
      if (w.epoch !== undefined && w.epoch !== epoch) return this.#read();
    }
  }

  /** Releases the waiters that a set() announced by a message passed, in order. */
  #heardUp([epoch, g]: State, upTo: number): void {
    if (epoch === null) return;
    for (const w of waiting<EventWaiter>(this.queue)) {
      if (w.seq > upTo || w.epoch === undefined || !passed(w, epoch, g, false)) break;
      release(w);
    }
  }

  resync(): void {
    this.#heard = [null, -1]; // from before the connection was lost: the read tells what counts now
    if (this.queue.size > 0) this.#read();
  }

  closed(): void {
    for (const w of waiting(this.queue)) fail(w, closedError());
  }

  #failed(error: unknown, upTo: number): void {
    if (isFinal(error) || this.#adapter.closed()) {
      for (const w of waiting<EventWaiter>(this.queue)) if (w.seq <= upTo && w.epoch === undefined) fail(w, error);
    } else if (!this.#retrying) {
      // The connection failed: read again in a while (the subscription's replacement also reads).
      this.#retrying = true;
      hostTimer(() => {
        this.#retrying = false;
        this.resync();
      }, 1_000);
    }
  }
}

const hubs = /*#__PURE__*/ new Hubs((adapter, key) => new EventHub(adapter, key));

/**
 * An event shared by every process that reaches one Redis server (or cluster): `set()` in one process
 * releases the tasks waiting in all of them. The same contract as the core's `Event`, but for the round trip a
 * remote state costs: a task pending in `wait()` when `set()` runs anywhere resolves `true`, even if
 * `clear()` follows at once; waiters of one process are released in the order they called `wait()`;
 * timeouts are measured locally, on the monotonic clock, so no wait outlives its timeout whatever Redis
 * does. Waiters learn of a `set()` by a push from Redis (pub/sub), never by polling; a process holds one
 * subscription connection per client for all of its waiters, and only while something waits.
 *
 * `client` is a connected node-redis client or cluster (package `redis`, v5 or v6) or an ioredis `Redis`
 * or `Cluster` (v5 or v6). The event is the hash `awaitable-event:event:{name}`
 * (a `%` or `}` in the name written `%25`, `%7D`).
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RedisEvent } from 'awaitable-event/redis';
 *
 * const client = await createClient().connect();
 * const migrated = new RedisEvent(client, 'migrations-done');
 *
 * // in the process that migrates:
 * await runMigrations();
 * await migrated.set();
 *
 * // in every other process:
 * if (!(await migrated.wait(60_000))) throw new Error('migrations did not finish within a minute');
 * ```
 */
export class RedisEvent {
  readonly #adapter: Adapter;
  readonly #key: string;
  /** The name given. */
  readonly name: string;
  static #prepared = false;

  /**
   * @param client - a connected node-redis or ioredis client (or cluster).
   * @param name - the event's name: a non-empty string, the same in every process.
   * @throws `TypeError` for a client of another kind or a name that is not a non-empty string.
   *
   * @example
   * ```ts
   * const shutdown = new RedisEvent(redis, 'shutdown');
   * ```
   */
  constructor(client: unknown, name: string) {
    this.#adapter = adapt(client);
    this.name = checkName(name);
    this.#key = keyOf('event', name);
    if (!RedisEvent.#prepared) {
      RedisEvent.#prepared = inspectable(RedisEvent.prototype, 'RedisEvent', (e) => ({
        name: e.name,
        waiters: hubs.peek(e.#adapter, e.#key)?.queue.size ?? 0,
      }));
    }
  }

  /**
   * Sets the event: every task waiting on it, in any process, is released with `true`. Does nothing when
   * it is set already. Resolves once Redis has done it.
   *
   * @example
   * ```ts
   * await ready.set();
   * ```
   */
  async set(): Promise<void> {
    // The waiters of this process that were waiting when it was sent are released by its reply, at once.
    const hub = hubs.peek(this.#adapter, this.#key);
    const upTo = hub?.seq ?? 0;
    const state = (await this.#adapter.run(SET, [this.#key], [epoch()])) as State;
    hub?.seen(state, upTo);
  }

  /**
   * Clears the event: later waits wait for the next `set()`. Waiters released by an earlier `set()` stay
   * released.
   *
   * @example
   * ```ts
   * await ready.clear();
   * ```
   */
  async clear(): Promise<void> {
    await this.#adapter.run(CLEAR, [this.#key], []);
  }

  /**
   * Whether the event is set, as Redis has it now.
   *
   * @example
   * ```ts
   * if (await shutdown.isSet()) return;
   * ```
   */
  async isSet(): Promise<boolean> {
    const [, g] = (await this.#adapter.run(READ, [this.#key], [])) as State;
    return g % 2 === 1;
  }

  /**
   * Waits until the event is set: resolves `true` at once (after one round trip) when it is set, else
   * when a `set()` runs anywhere; `false` when the timeout (ms, on this process's monotonic clock) runs
   * out first; rejects with `signal.reason` when the signal aborts. A timeout of 0 or less asks Redis
   * once whether the event is set, and answers that: it does not wait for a `set()`.
   *
   * @example
   * ```ts
   * await ready.wait(); // true, once set anywhere
   * const inTime = await ready.wait(5_000); // false after 5 s
   * await ready.wait({ signal: AbortSignal.timeout(1_000) }); // rejects after 1 s
   * ```
   */
  wait(): Promise<true>;
  wait(timeout: number): Promise<boolean>;
  wait(options: WaitOptions): Promise<boolean>;
  wait(arg?: number | WaitOptions): Promise<boolean>;
  wait(arg?: number | WaitOptions): Promise<boolean> {
    return hubs.with(this.#adapter, this.#key, (hub) => hub.wait(arg));
  }

  get [Symbol.toStringTag](): string {
    return 'RedisEvent';
  }
}

/** An epoch for a hash made anew. */
function epoch(): string {
  return Math.random().toString(36).slice(2, 12);
}
