/*
 * RedisSemaphore and RedisLock (a semaphore of one permit): permits granted across processes in the order
 * the requests reached Redis, each held as a lease (lease.ts).
 *
 * ## Keys (`K` = `awaitable-event:semaphore:{name}`, or `:lock:`; all in the slot of `{name}`)
 * - `K`, a hash: `seq`, the last ticket handed out, and `token`, the last fencing token. No expiry.
 * - `K:h`, holders: a sorted set of waiter ids by lease end (server ms); `K:t`, their tokens.
 * - `K:q`, the line: a sorted set of waiter ids by ticket.
 * - `K:a`, live processes: a sorted set of process ids by the end of their liveness (server ms).
 * The last four expire a second after the latest lease or liveness they hold.
 * A waiter id is `pid:h.n:lease`: its process, its hub (below) and number there, and the lease (ms) it asks for.
 * The channel `K` carries `id token ...` for every grant, from the script that made it.
 *
 * ## Who writes what
 * Only one script writes, SYNC (scripts.ts), atomically, with the server's clock: it ends leases that ran
 * out, drops given-up ids, extends held leases, puts new ids at the end of the line, then hands free
 * permits (`permits` of the object that called, the same fleet-wide) to the head of the line: an id whose
 * process is no longer alive is skipped, each grant gets the next token and a lease, and the grants are
 * published in the same step. A request never takes a free permit while anyone is in line: no barging.
 *
 * ## One process
 * Each process keeps, per client and name, one hub: its waiting ids (in the core's waiter queue, with
 * deadlines and signals) and its held leases. Requests of one tick go out as one SYNC. While anything
 * waits or is held, the hub sends one SYNC every lease/3 (the shortest lease among them): it says the
 * process is alive, extends held leases, and re-joins the line with any id the line lost; and when a
 * lease of another process ends before that (its holder died), one more at that moment, so the line
 * moves on within a lease. Nothing else is sent while waiting: grants come by message.
 *
 * ## Why no grant is missed
 * A waiter's first SYNC goes out at once (a free permit: granted in one round trip). When its reply says
 * it must wait, its process holds the channel (channel.ts) and, once subscribed, sends a SYNC for every
 * id it has waiting: a grant published before the subscription took effect shows there as a token. The
 * channel is let go once nothing waits; its connection stays open while a lease of the hub is held or
 * being given back, so a holder that waits again at once subscribes on it instead of connecting anew.
 * After a lost subscription connection is replaced, the same (resync). A grant that still escapes (a
 * message lost some other way) is seen by the next upkeep SYNC: a waiting id that holds a permit gets its
 * token back.
 *
 * ## The lease of a grant that came by message
 * It began at the grant, which came after the last SYNC whose reply still showed the id in line: the
 * local end is counted from when that SYNC was sent (lease.ts). A grant whose local end has passed by
 * the time it is seen (the process was paused) is not handed to the task: the id is claimed again with a
 * SYNC, which extends it if Redis still has it, else puts it back in line.
 *
 * ## Cancel safety, and what a dead process leaves
 * A wait that times out or is aborted ends locally at once; its id is dropped by the next SYNC, which
 * hands a permit granted meanwhile to the next in line. A grant message for an id its process no longer
 * waits for is dropped the same way, and so is a try's grant seen too late or its SYNC lost with the
 * connection (the try settles there: it never waits in line). A drop that could not be sent is sent
 * again, whether or not anything still waits or is held. A process that dies leaves its ids in line and its leases: the
 * leases end within a lease, and its ids are skipped once its liveness (a lease) has run out.
 */
import { type WaitOptions, checkFunction, describe, readCount, readWaitArg } from '../core/arguments.js';
import { monotonic } from '../core/clock.js';
import { inspectable } from '../core/inspect.js';
import { WaiterQueue } from '../core/queue.js';
import { ServingWaiter } from '../core/serving.js';
import { TimeoutError } from '../errors.js';
import { type Adapter, adapt, isFinal } from './client.js';
import { type Channel, type Topic, channelOf } from './channel.js';
import { Lease, type LeaseOwner, type RedisGuard, localEnd } from './lease.js';
import { checkName, keyOf } from './names.js';
import { type Hub, Hubs, begin, closedError, fail, giveUp, release, waiting } from './remote.js';
import { SYNC } from './scripts.js';
import { afterTick, clearHostTimer, hostTimer } from './timers.js';

/** This process, as Redis knows it: random, so that a restarted process is a new one. */
const PID = /*#__PURE__*/ (() => Math.random().toString(36).slice(2, 10).padEnd(8, '0'))();
/** Numbers the hubs of this process: a hub knows its own ids by their prefix. */
let hubCount = 0;

class PermitWaiter extends ServingWaiter {
  declare readonly hub: PermitHub;
  declare readonly id: string;
  declare readonly lease: number;
  /** Monotonic ms at which the last SYNC that left it in line was sent. */
  proof: number | undefined = undefined;
  /** A token that came by message before any such proof. */
  early = 0;
  /** A try (timeout 0 or less): never in line. */
  once = false;
  guard: Lease | undefined = undefined;

  constructor(
    hub: PermitHub,
    lease: number,
    resolve: (value: boolean) => void,
    reject: (reason: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    const id = `${hub.prefix}${++hub.ids}:${lease}`;
    super(() => hub.gone(id), hub.queue, resolve, reject, signal);
    this.hub = hub;
    this.lease = lease;
    this.id = id;
  }
}

/** A SYNC's lists. */
interface Batch {
  drops: string[];
  holds: Lease[];
  waits: PermitWaiter[];
  tries: PermitWaiter[];
}

/** The ids, waiters and leases of one name in this process, over one client. */
class PermitHub implements Topic, LeaseOwner, Hub {
  readonly queue = new WaiterQueue();
  readonly #adapter: Adapter;
  readonly #channel: Channel;
  readonly #keys: string[];
  readonly #key: string;
  /** What its waiter ids start with: this process, and this hub (another client of the process has another). */
  readonly prefix = `${PID}:${++hubCount}.`;
  /** The last waiter id number handed out. */
  ids = 0;
  permits = 1;
  /** Waiting ids. */
  readonly #waiting = new Map<string, PermitWaiter>();
  readonly #held = new Map<string, Lease>();
  /** Ids to drop, with what to tell who asked (a release()). */
  readonly #drops = new Map<string, ((had: boolean | Error) => void) | undefined>();
  #next: Batch = { drops: [], holds: [], waits: [], tries: [] };
  #flushing = false;
  #upkeep: ReturnType<typeof setTimeout> | undefined;
  #upkeepAt = Infinity;
  /** Whether it holds its channel (from its first waiter that is not a try until the queue empties). */
  #holding = false;
  /**
   * Whether it keeps the channel's connection: from a grant until nothing is held, waits, or is being
   * given back (a holder is likely to wait again at once: a lock taken in turns).
   */
  #keeping = false;
  /** Leases being given back: their release() has not had its answer yet. */
  #returning = 0;
  /** How long (ms) Redis takes this process for alive after a SYNC: the longest lease asked for here. */
  #live = 1;

  constructor(adapter: Adapter, key: string) {
    this.#adapter = adapter;
    this.#channel = channelOf(adapter);
    this.#key = key;
    this.#keys = [key, `${key}:h`, `${key}:t`, `${key}:q`, `${key}:a`];
    this.queue.onEmpty = () => this.#letGo();
  }

  /**
   * Lets go of the channel once nothing waits, after the continuations of this tick have run (a task that
   * waits again at once keeps it); and of its connection and the hub itself once nothing is held either.
   */
  #letGo(): void {
    afterTick(() => {
      if (this.queue.size > 0) return;
      if (this.#holding) this.#channel.release(this.#key);
      this.#holding = false;
      if (this.#held.size > 0 || this.#returning > 0) return;
      if (this.#keeping) this.#channel.unkeep();
      this.#keeping = false;
      hubs.sweep(this.#adapter, this.#key, this);
    });
  }

  idle(): boolean {
    return (
      this.#waiting.size === 0 &&
      this.#held.size === 0 &&
      !this.#holding &&
      !this.#keeping &&
      this.#drops.size === 0 &&
      !this.#flushing
    );
  }

  get held(): number {
    return this.#held.size;
  }

  join(w: PermitWaiter, timeout: number): void {
    this.#live = Math.max(this.#live, w.lease);
    this.#waiting.set(w.id, w);
    w.once = timeout <= 0;
    if (w.once) this.#next.tries.push(w);
    else this.#next.waits.push(w);
    this.#flush();
  }

  /** The waiter `id` gave up (timeout, abort): drop it. */
  gone(id: string): void {
    this.#waiting.delete(id);
    this.#drop(id);
  }

  giveBack(id: string): Promise<boolean> {
    this.#held.delete(id);
    this.#returning++;
    return new Promise<boolean>((resolve, reject) => {
      this.#drop(id, (had) => {
        this.#returning--;
        this.#letGo();
        if (typeof had === 'boolean') resolve(had);
        else reject(had);
      });
    });
  }

  forget(id: string): void {
    this.#held.delete(id);
    this.#letGo();
    this.#drop(id);
  }

  #drop(id: string, then?: (had: boolean | Error) => void): void {
    this.#drops.set(id, then);
    this.#flush();
  }

  /** Sends what this tick asked for, as one SYNC, once the tick is over. */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => {
      this.#flushing = false;
      const batch = this.#next;
      this.#next = { drops: [], holds: [], waits: [], tries: [] };
      this.#send(batch);
    });
  }

  /** Sends one SYNC for `batch` (and every pending drop) and acts on its reply. */
  #send(batch: Batch): void {
    // A waiter that gave up since it was put in the batch is among the drops instead.
    batch.waits = batch.waits.filter((w) => w.queued);
    batch.tries = batch.tries.filter((w) => w.queued);
    const drops = [...this.#drops];
    for (const [id] of drops) this.#drops.delete(id);
    batch.drops = drops.map(([id]) => id);
    const args = [String(this.permits), PID, String(this.#live)];
    for (const list of [
      batch.drops,
      batch.holds.map((g) => g.id),
      batch.waits.map((w) => w.id),
      batch.tries.map((w) => w.id),
    ]) {
      args.push(String(list.length), ...list);
    }
    const sent = monotonic();
    this.#adapter.run(SYNC, this.#keys, args).then(
      (reply) => {
        const out = (reply as number[]).map(Number);
        let i = 1;
        for (const [, then] of drops) {
          const had = out[i++] === 1; // read whether or not anyone asks (then?.(out[i++]) would skip the ++)
          then?.(had);
        }
        for (const g of batch.holds) {
          if (out[i++] === 1) g.extended(sent);
          else g.lost('Redis no longer had it');
        }
        for (const w of batch.waits) this.#answer(w, out[i++]!, sent);
        for (const w of batch.tries) {
          const token = out[i++]!;
          if (token > 0) this.#answer(w, token, sent);
          else if (w.queued) {
            this.#waiting.delete(w.id);
            giveUp(w);
          }
        }
        this.#schedule(out[0]! >= 0 ? out[0]! + 1 : Infinity);
        if (drops.length > 0) hubs.sweep(this.#adapter, this.#key, this); // a drop sent again: it may be idle now
      },
      (error: unknown) => {
        const final = isFinal(error) || this.#adapter.closed();
        for (const [id, then] of drops) {
          if (!final) this.#drops.set(id, undefined); // sent again with the next SYNC
          then?.(error as Error);
        }
        for (const w of [...batch.waits, ...batch.tries]) {
          // A try has its one round trip: it is not sent again (it may have been granted: its drop is).
          if (w.queued && (final || w.once)) {
            this.gone(w.id);
            fail(w, error);
          }
        }
        // Held leases are not extended: they end at their local end unless a later SYNC gets through.
        // Drops are sent again, even once nothing waits or is held here: a permit given back reaches the line.
        this.#schedule(final ? Infinity : 500);
      },
    );
  }

  /** A SYNC sent at `sent` answered `token` (0: still in line) for `w`. */
  #answer(w: PermitWaiter, token: number, sent: number): void {
    if (!w.queued) return; // gave up meanwhile: its drop is on its way
    if (token > 0) return this.#grant(w, token, sent);
    w.proof = Math.max(w.proof ?? sent, sent);
    if (w.early > 0) return this.#grant(w, w.early, w.proof);
    if (!this.#holding) {
      // It must wait: listen, then ask again for what was granted before the subscription took.
      this.#holding = true;
      void this.#channel.hold(this.#key, this).then(() => this.resync());
    }
  }

  /** `w` holds a permit with `token`, granted after `since` (monotonic ms). */
  #grant(w: PermitWaiter, token: number, since: number): void {
    const end = localEnd(since, w.lease);
    if (monotonic() >= end && w.once) {
      // A try that cannot know its lease is still running: give the grant back (a try never waits in line).
      this.gone(w.id);
      return giveUp(w);
    }
    if (monotonic() >= end) {
      // Seen too late to know the lease is still running: claim it again (or join the line again).
      w.proof = undefined;
      w.early = 0;
      this.#next.waits.push(w);
      return this.#flush();
    }
    this.#waiting.delete(w.id);
    const guard = new Lease(this, w.id, token, w.lease, end);
    this.#held.set(w.id, guard);
    if (!this.#keeping) {
      this.#keeping = true;
      this.#channel.keep();
    }
    w.guard = guard;
    release(w);
    this.#schedule(Math.max(0, end - monotonic() - (w.lease * 2) / 3));
  }

  message(text: string): void {
    const words = text.split(' ');
    for (let i = 0; i + 1 < words.length; i += 2) {
      const id = words[i]!;
      const token = Number(words[i + 1]);
      const w = this.#waiting.get(id);
      if (w === undefined) {
        if (id.startsWith(this.prefix) && !this.#held.has(id)) this.#drop(id); // no one here wants it
      } else if (w.proof !== undefined) this.#grant(w, token, w.proof);
      else w.early = token;
    }
  }

  /** Sends a SYNC with everything: liveness, extensions, every waiting id. */
  resync(): void {
    clearHostTimer(this.#upkeep);
    this.#upkeep = undefined;
    this.#upkeepAt = Infinity;
    if (this.#waiting.size === 0 && this.#held.size === 0 && this.#drops.size === 0) return;
    const batch: Batch = {
      drops: [],
      holds: [...this.#held.values()],
      waits: waiting<PermitWaiter>(this.queue).filter((w) => !w.once && this.#waiting.get(w.id) === w),
      tries: [],
    };
    this.#send(batch); // its reply arms the next: a SYNC that hangs (a stalled connection) is not doubled
  }

  closed(): void {
    for (const w of waiting<PermitWaiter>(this.queue)) {
      this.#waiting.delete(w.id);
      fail(w, closedError());
    }
    for (const g of this.#held.values()) g.lost('the Redis client was closed');
  }

  /**
   * Arms the upkeep for `ms` from now at the latest (lease/3 of the shortest lease, or sooner); with nothing
   * waiting or held, only for drops still to be sent.
   */
  #schedule(ms: number): void {
    let shortest = Infinity;
    for (const w of this.#waiting.values()) shortest = Math.min(shortest, w.lease);
    for (const g of this.#held.values()) shortest = Math.min(shortest, g.lease);
    if (shortest === Infinity && this.#drops.size > 0 && ms < Infinity) shortest = 3 * ms;
    if (shortest === Infinity) {
      clearHostTimer(this.#upkeep);
      this.#upkeep = undefined;
      this.#upkeepAt = Infinity;
      return;
    }
    const delay = Math.min(ms, shortest / 3);
    const at = monotonic() + delay;
    if (at >= this.#upkeepAt) return;
    clearHostTimer(this.#upkeep);
    this.#upkeepAt = at;
    this.#upkeep = hostTimer(() => {
      this.#upkeep = undefined;
      this.#upkeepAt = Infinity;
      this.resync();
    }, delay);
  }
}

const hubs = /*#__PURE__*/ new Hubs((adapter, key) => new PermitHub(adapter, key));

/**
 * Options of a {@link RedisLock} or {@link RedisSemaphore}.
 *
 * @example
 * ```ts
 * const options: LeaseOptions = { lease: 10_000 }; // a dead holder frees it within 10 s
 * const lock = new RedisLock(redis, 'reports', options);
 * ```
 */
export interface LeaseOptions {
  /** How long (ms) a grant outlives its process's last sign of life; default 30,000. */
  lease?: number | undefined;
}

function readLease(options: unknown): number {
  if (options === undefined) return 30_000;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object { lease }, got ${describe(options)}`);
  }
  const { lease } = options as LeaseOptions;
  if (lease === undefined) return 30_000;
  if (typeof lease !== 'number')
    throw new TypeError(`options.lease must be a number of milliseconds, got ${describe(lease)}`);
  if (!(lease >= 1 && lease < 2 ** 31)) {
    throw new RangeError(
      `options.lease must be a number of milliseconds from 1 to ${2 ** 31 - 1} (24.8 days), got ${describe(lease)}`,
    );
  }
  return Math.floor(lease);
}

/** What RedisLock and RedisSemaphore share. */
abstract class Permits {
  readonly #adapter: Adapter;
  readonly #key: string;
  readonly #permits: number;
  readonly #lease: number;
  /** The name given. */
  readonly name: string;

  constructor(client: unknown, kind: 'lock' | 'semaphore', name: string, permits: number, options: unknown) {
    this.#adapter = adapt(client);
    this.name = checkName(name);
    this.#key = keyOf(kind, name);
    this.#permits = permits;
    this.#lease = readLease(options);
    const proto = new.target.prototype;
    if (!inspectableClasses.has(proto)) {
      inspectableClasses.add(proto);
      inspectable(proto, this[Symbol.toStringTag], (p: Permits) => {
        const hub = hubs.peek(p.#adapter, p.#key);
        return { name: p.name, waiters: hub?.queue.size ?? 0, held: hub?.held ?? 0 };
      });
    }
  }

  abstract get [Symbol.toStringTag](): string;

  /**
   * Waits for a grant, in line with every process: resolves with a {@link RedisGuard} once granted, or
   * `undefined` when the timeout (ms, on this process's monotonic clock) runs out first (then nothing is
   * held: do not release); rejects with `signal.reason` when the signal aborts. A timeout of 0 or less
   * is a try: one round trip that takes a permit if one is free and nobody is in line, never a place in
   * line (it rejects with the client's error when that round trip fails).
   *
   * @example
   * ```ts
   * const guard = await lock.acquire(5_000);
   * if (guard === undefined) return console.log('busy');
   * try {
   *   await work(guard.signal);
   * } finally {
   *   await guard.release();
   * }
   * ```
   */
  acquire(): Promise<RedisGuard>;
  acquire(timeout: number | WaitOptions): Promise<RedisGuard | undefined>;
  acquire(arg?: number | WaitOptions): Promise<RedisGuard | undefined> {
    return hubs.with(this.#adapter, this.#key, (hub) => {
      let waiter: PermitWaiter | undefined;
      return begin(
        hub.queue,
        arg,
        (resolve, reject, signal) => (waiter = new PermitWaiter(hub, this.#lease, resolve, reject, signal)),
        (w, timeout) => {
          hub.permits = this.#permits;
          hub.join(w, timeout);
        },
      ).then((granted) => (granted ? waiter!.guard : undefined));
    });
  }

  /**
   * Like `acquire()`, but rejects with a `TimeoutError` instead of resolving `undefined`: what `await
   * using` needs.
   *
   * @example
   * ```ts
   * await using guard = await lock.lock(10_000);
   * await rotateKeys(guard.token);
   * ```
   */
  async lock(timeout?: number | WaitOptions): Promise<RedisGuard> {
    const { timeout: ms, signal } = readWaitArg(timeout);
    const guard = await this.acquire({ timeout: ms, signal });
    if (guard === undefined) {
      throw new TimeoutError(`lock() timed out after ${ms} ms waiting for ${this[Symbol.toStringTag]} "${this.name}"`);
    }
    return guard;
  }

  /**
   * Runs `fn` holding a grant, and releases it however `fn` ends; rejects with a `TimeoutError` when the
   * timeout runs out first (and `fn` does not run). When `fn` succeeds but the lease was lost meanwhile,
   * rejects with the {@link LeaseLostError}: what `fn` did may have overlapped with another holder.
   *
   * @example
   * ```ts
   * await nightly.runExclusive(async (guard) => {
   *   await sendReport({ signal: guard.signal });
   * });
   * ```
   */
  async runExclusive<T>(fn: (guard: RedisGuard) => T | PromiseLike<T>, timeout?: number | WaitOptions): Promise<T> {
    checkFunction(fn, 'fn');
    const guard = await this.lock(timeout);
    let result: T;
    try {
      result = await fn(guard);
    } catch (error) {
      await guard.release().catch(() => {});
      throw error;
    }
    await guard.release();
    return result;
  }
}

const inspectableClasses = /*#__PURE__*/ new WeakSet<object>();

/**
 * A lock held by one task at a time across every process that reaches one Redis server (or cluster):
 * FIFO by arrival at Redis, no barging, with a fencing token per grant, held as a lease that the library
 * extends while the process lives. A holder that dies frees it within its lease; one whose lease could
 * not be extended in time (Redis unreachable, the process paused) has its guard's `signal` aborted with
 * a {@link LeaseLostError}.
 *
 * Redis replicates asynchronously: a failover can grant the lock twice. Where that matters, have the
 * resource check `guard.token` and refuse tokens below the highest it has seen.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisLock } from 'awaitable-event/redis';
 *
 * const nightly = new RedisLock(new Redis(), 'nightly-report');
 * const guard = await nightly.acquire(0);
 * if (guard !== undefined) {
 *   try {
 *     await sendReport();
 *   } finally {
 *     await guard.release();
 *   }
 * }
 * ```
 */
export class RedisLock extends Permits {
  /**
   * @param client - a connected node-redis or ioredis client (or cluster).
   * @param name - the lock's name: a non-empty string, the same in every process.
   * @param options - `lease`: ms a grant outlives its process's last sign of life (default 30,000).
   * @throws `TypeError` for a client of another kind, a bad name or options; `RangeError` for a lease
   *   that is not a number from 1 to 2,147,483,647 (ms).
   *
   * @example
   * ```ts
   * const lock = new RedisLock(redis, 'invoices', { lease: 10_000 });
   * ```
   */
  constructor(client: unknown, name: string, options?: LeaseOptions) {
    super(client, 'lock', name, 1, options);
  }

  get [Symbol.toStringTag](): string {
    return 'RedisLock';
  }
}

/**
 * At most `permits` holders at once across every process that reaches one Redis server (or cluster): FIFO
 * by arrival at Redis, no barging, each grant with a fencing token and held as a lease (see
 * {@link RedisLock}). The limit is the `permits` of the object that asks, sent with each request: use one
 * value fleet-wide for a name.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RedisSemaphore } from 'awaitable-event/redis';
 *
 * const client = await createClient().connect();
 * const paymentApi = new RedisSemaphore(client, 'payment-api', 5);
 * const receipt = await paymentApi.runExclusive(() => charge(order)); // at most 5 at once, fleet-wide
 * ```
 */
export class RedisSemaphore extends Permits {
  /**
   * @param client - a connected node-redis or ioredis client (or cluster).
   * @param name - the semaphore's name: a non-empty string, the same in every process.
   * @param permits - how many may hold it at once: a whole number, 1 or more.
   * @param options - `lease`: ms a grant outlives its process's last sign of life (default 30,000).
   * @throws `TypeError` for a client of another kind, a bad name, permits or options; `RangeError` for
   *   permits below 1 or fractional, or a lease that is not a number from 1 to 2,147,483,647 (ms).
   *
   * @example
   * ```ts
   * const uploads = new RedisSemaphore(redis, 'uploads', 3);
   * ```
   */
  constructor(client: unknown, name: string, permits: number, options?: LeaseOptions) {
    super(client, 'semaphore', name, readCount(permits, 'permits', 1), options);
  }

  get [Symbol.toStringTag](): string {
    return 'RedisSemaphore';
  }
}
