/*
 * The one file that knows which Redis client it was given: node-redis (package `redis`, v5 or v6, a client
 * or a cluster) or ioredis (v5 or v6, `Redis` or `Cluster`), told apart by shape. Everything else speaks to
 * an {@link Adapter}: run a script, open a subscriber connection of its own, learn that the user closed
 * the client.
 */
import { createHash } from 'node:crypto';
import { describe } from '../core/arguments.js';

/** A Lua script with its SHA1, run with EVALSHA and, when the server does not know it yet, EVAL. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

/** Makes a {@link Script}. */
export function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** A connection of the library's own in subscribe mode. */
export interface Subscriber {
  subscribe(channels: string[]): Promise<unknown>;
  unsubscribe(channels: string[]): Promise<unknown>;
  /** Closes it at once; no event of it reaches the library afterwards. */
  close(): void;
}

/** Called back by a {@link Subscriber}. */
export interface SubscriberEvents {
  message(channel: string, message: string): void;
  /** The connection failed or closed without being asked to: it is of no more use. */
  lost(): void;
}

/** What the library needs of a client. */
export interface Adapter {
  /** Runs `s` with `keys` (all in one hash slot) and `args`. */
  run(s: Script, keys: string[], args: string[]): Promise<unknown>;
  /** Opens a new connection to the same server(s), subscribed to nothing yet. */
  subscriber(events: SubscriberEvents): Promise<Subscriber>;
  /** Whether the user closed the client (nothing sent through it can succeed any more). */
  closed(): boolean;
  /** Calls `fn` once the user closes the client. */
  onClose(fn: () => void): void;
}

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Client = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const adapters = new WeakMap<object, Adapter>();

/** The adapter of `client`, made once per client; a `TypeError` naming `client` for anything else. */
export function adapt(client: unknown): Adapter {
  if (typeof client === 'object' && client !== null) {
    const known = adapters.get(client);
    if (known !== undefined) return known;
    const c = client as Client;
    const made =
      isFn(c.evalsha) && isFn(c.duplicate)
        ? ioredis(c)
        : isFn(c.evalSha) && isFn(c.duplicate)
          ? nodeRedis(c)
          : undefined;
    if (made !== undefined) {
      adapters.set(client, made);
      return made;
    }
  }
  throw new TypeError(
    `client must be a connected node-redis client or cluster (package redis) or an ioredis Redis or Cluster, got ${describe(client)}`,
  );
}

function isFn(value: unknown): value is Fn {
  return typeof value === 'function';
}

const noop = () => {};

/** Errors of a client that refused to send a command: as final as the server's answer (see {@link isFinal}). */
const refusals = new WeakSet<object>();

/**
 * Whether trying again cannot help: `error` is the server's answer (a script or command error) or the
 * client's refusal to send (ioredis in subscriber mode), not a connection's failure.
 */
export function isFinal(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && refusals.has(error)) return true;
  const name = (error as { name?: unknown } | null)?.name;
  const ctor = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return [name, ctor].some((n) => n === 'ReplyError' || n === 'ErrorReply' || n === 'SimpleError');
}

function noScript(error: unknown): boolean {
  return String((error as { message?: unknown } | null)?.message).startsWith('NOSCRIPT');
}

/** Listens to `emitter` for every event in `names`; returns what stops listening. */
function listen(emitter: Client, names: string[], fn: () => void): () => void {
  for (const n of names) emitter.on(n, fn);
  return () => {
    for (const n of names) emitter.off(n, fn);
  };
}

function nodeRedis(c: Client): Adapter {
  return {
    run: (s, keys, args) =>
      (c.evalSha(s.sha, { keys, arguments: args }) as Promise<unknown>).catch((error: unknown) => {
        if (noScript(error)) return c.eval(s.lua, { keys, arguments: args }) as Promise<unknown>;
        throw error;
      }),
    subscriber: (events) =>
      connectOwn(
        c.duplicate() as Client,
        ['error', 'end', 'reconnecting', 'node-error', 'node-reconnecting', 'disconnect'],
        (dup) => (dup.destroy ?? dup.disconnect)?.call(dup),
        events,
        (dup, open) => {
          const listener = (message: string, channel: string) => {
            if (open()) events.message(channel, message);
          };
          return {
            subscribe: (channels) => dup.subscribe(channels, listener) as Promise<unknown>,
            unsubscribe: (channels) => dup.unsubscribe(channels, listener) as Promise<unknown>,
          };
        },
      ),
    closed: () => c.isOpen === false,
    // A client says 'end' when closed; a cluster, 'disconnect' (and only then).
    onClose(fn) {
      const stop = listen(c, ['end', 'disconnect'], () => {
        stop();
        fn();
      });
    },
  };
}

function ioredis(c: Client): Adapter {
  return {
    run: (s, keys, args) =>
      (c.evalsha(s.sha, keys.length, ...keys, ...args) as Promise<unknown>).catch((error: unknown) => {
        if (noScript(error)) return c.eval(s.lua, keys.length, ...keys, ...args) as Promise<unknown>;
        // A client left in subscriber mode (RESP2) sends nothing else until it unsubscribes.
        if (error instanceof Error && error.message.startsWith('Connection in subscriber mode')) refusals.add(error);
        throw error;
      }),
    subscriber(events) {
      // ioredis puts a `keyPrefix` before the keys of a script, so the scripts publish on prefixed channels
      // (the channel is the key); SUBSCRIBE takes channels, not keys: it is left as it is, so prefix it here.
      const prefix = String((c.options as { keyPrefix?: unknown } | undefined)?.keyPrefix ?? '');
      // Our own connection: no reconnecting, resubscribing or queueing behind the library's back; a lost
      // one is replaced (channel.ts), which then checks what it may have missed.
      const own = { lazyConnect: true, autoResubscribe: false, enableOfflineQueue: false };
      const dup = (
        c.isCluster === true
          ? c.duplicate(undefined, { ...own, clusterRetryStrategy: () => null })
          : c.duplicate({ ...own, retryStrategy: () => null, reconnectOnError: null })
      ) as Client;
      return connectOwn(
        dup,
        ['close', 'end', 'reconnecting', '-node'],
        (d) => d.disconnect(),
        events,
        (d, open) => {
          d.on('message', (channel: string, message: string) => {
            if (open() && channel.startsWith(prefix)) events.message(channel.slice(prefix.length), message);
          });
          const prefixed = (channels: string[]) => channels.map((channel) => prefix + channel);
          return {
            subscribe: (channels) => d.subscribe(...prefixed(channels)) as Promise<unknown>,
            unsubscribe: (channels) => d.unsubscribe(...prefixed(channels)) as Promise<unknown>,
          };
        },
      );
    },
    closed: () => c.status === 'end',
    onClose: (fn) => c.once('end', fn),
  };
}

/**
 * Connects `dup`, a duplicate of the user's client, as the library's subscriber. Any of the `losses`
 * events, a failed connect, or a loss as it opens, ends it (`end`) and tells `events.lost()`, once;
 * `wire` hooks messages up (they reach `events` only while `open()`) and says how to (un)subscribe.
 */
async function connectOwn(
  dup: Client,
  losses: string[],
  end: (dup: Client) => void,
  events: SubscriberEvents,
  wire: (dup: Client, open: () => boolean) => Pick<Subscriber, 'subscribe' | 'unsubscribe'>,
): Promise<Subscriber> {
  let open = true;
  const lost = () => {
    if (!open) return;
    open = false;
    stop();
    end(dup);
    events.lost();
  };
  dup.on('error', noop); // a client without an 'error' listener throws; loss is told by the events below
  const stop = listen(dup, losses, lost);
  const { subscribe, unsubscribe } = wire(dup, () => open);
  try {
    await dup.connect();
  } catch (error) {
    lost();
    throw error;
  }
  if (!open) throw new Error('the subscriber connection was lost as it opened');
  return {
    subscribe,
    unsubscribe,
    close() {
      if (!open) return;
      open = false;
      stop();
      end(dup);
    },
  };
}
