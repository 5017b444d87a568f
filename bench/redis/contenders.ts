/**
 * The contenders of the Redis cases, as each process of a case builds them: this library's `RedisLock` and
 * `RedisEvent` on each client, the raw floor hand-written on each client, and the peers on ioredis (the
 * client both support).
 *
 * The raw floor is the least a lock that pushes can do per hand-off: the holder releases with one script
 * (compare-and-delete, then PUBLISH), the waiter, subscribed all along, takes the message and tries
 * `SET NX PX`. The raw event is one PUBLISH to a waiter subscribed all along.
 *
 * The peers poll: that is what the cases show. Each runs with its defaults, except where a default would
 * end the case with an error rather than a number: redis-semaphore's `Mutex` (retryInterval 10 ms,
 * lockTimeout 10 s) with `acquireTimeout` raised from 10 s to 10 min; redlock (retryDelay 200 ms,
 * retryJitter 200 ms, a 10 s lock) with `retryCount: -1` (retries until acquired, as its README shows)
 * instead of 10.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { Mutex } from 'redis-semaphore';
import Redlock from 'redlock';
import type * as RedisLib from '../../lib/redis/index.js';

/**
 * The library as users run it: the built `dist/redis.js` (npm run bench builds it first); the source
 * where there is no build of it.
 */
const built = new URL('../../dist/redis.js', import.meta.url);
const library = async () =>
  (await import(existsSync(built) ? built.href : '../../lib/redis/index.js')) as typeof RedisLib;

export interface Held {
  release(): Promise<unknown>;
}
export interface BenchLock {
  acquire(): Promise<Held>;
}
export interface BenchEvent {
  wait(): Promise<unknown>;
  set(): Promise<unknown>;
  clear(): Promise<unknown>;
}
interface Made<T> {
  it: T;
  close(): Promise<void>;
}

export const LOCKS = {
  'RedisLock (ioredis)': ours('ioredis', (lib, c, name) => new lib.RedisLock(c, name)),
  'RedisLock (node-redis)': ours('node-redis', (lib, c, name) => new lib.RedisLock(c, name)),
  'raw floor (ioredis)': rawLock('ioredis'),
  'raw floor (node-redis)': rawLock('node-redis'),
  'redis-semaphore Mutex (ioredis)': async (url: string, name: string): Promise<Made<BenchLock>> => {
    const client = new Redis(url);
    const mutex = new Mutex(client, name, { acquireTimeout: 600_000 });
    return {
      it: { acquire: async () => (await mutex.acquire(), { release: () => mutex.release() }) },
      close: async () => void (await client.quit()),
    };
  },
  'redlock (ioredis)': async (url: string, name: string): Promise<Made<BenchLock>> => {
    const client = new Redis(url);
    const redlock = new Redlock([client], { retryCount: -1 });
    return {
      it: { acquire: () => redlock.acquire([name], 10_000) },
      close: async () => void (await client.quit()),
    };
  },
} satisfies Record<string, (url: string, name: string) => Promise<Made<BenchLock>>>;

export const EVENTS = {
  'RedisEvent (ioredis)': ours('ioredis', (lib, c, name) => new lib.RedisEvent(c, name)),
  'RedisEvent (node-redis)': ours('node-redis', (lib, c, name) => new lib.RedisEvent(c, name)),
  'raw PUBLISH -> message (ioredis)': rawEvent('ioredis'),
  'raw PUBLISH -> message (node-redis)': rawEvent('node-redis'),
} satisfies Record<string, (url: string, name: string) => Promise<Made<BenchEvent>>>;

export type LockName = keyof typeof LOCKS;
export type EventName = keyof typeof EVENTS;

type Kind = 'ioredis' | 'node-redis';
const nodeRedis = (url: string) => createClient({ url }).connect();
type Client = Redis | Awaited<ReturnType<typeof nodeRedis>>;

async function connect(kind: Kind, url: string): Promise<Client> {
  return kind === 'ioredis' ? new Redis(url) : nodeRedis(url);
}

async function quit(client: Client): Promise<void> {
  if (client instanceof Redis) await client.quit();
  else await client.close();
}

function ours<T>(kind: Kind, make: (lib: typeof RedisLib, client: never, name: string) => T) {
  return async (url: string, name: string): Promise<Made<T>> => {
    const lib = await library();
    const client = await connect(kind, url);
    return { it: make(lib, client as never, name), close: () => quit(client) };
  };
}

/** A command connection and a subscriber, both of one client kind, as the raw floor needs them. */
interface Raw {
  /** Sends one command, as the client sends any. */
  send(args: string[]): Promise<unknown>;
  /** Subscribes once, for good; `onMessage` runs on every message. */
  subscribe(channel: string, onMessage: () => void): Promise<void>;
  close(): Promise<void>;
}

async function raw(kind: Kind, url: string): Promise<Raw> {
  if (kind === 'ioredis') {
    const cmd = new Redis(url);
    const sub = new Redis(url);
    return {
      send: ([command, ...args]) => cmd.call(command!, ...args),
      subscribe: async (channel, onMessage) => {
        sub.on('message', onMessage);
        await sub.subscribe(channel);
      },
      close: async () => void (await Promise.all([cmd.quit(), sub.quit()])),
    };
  }
  const cmd = await nodeRedis(url);
  const sub = await cmd.duplicate().connect();
  return {
    send: (args) => cmd.sendCommand(args),
    subscribe: (channel, onMessage) => sub.subscribe(channel, onMessage),
    close: async () => void (await Promise.all([cmd.close(), sub.close()])),
  };
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', KEYS[1], '')
  return 1
end
return 0`;

function rawLock(kind: Kind) {
  return async (url: string, name: string): Promise<Made<BenchLock>> => {
    const r = await raw(kind, url);
    let wake = () => {};
    await r.subscribe(name, () => wake());
    const lock: BenchLock = {
      async acquire() {
        const token = randomUUID();
        for (;;) {
          // Listen before trying: a release between the try and the wait is not missed.
          const released = new Promise<void>((resolve) => (wake = resolve));
          if ((await r.send(['SET', name, token, 'NX', 'PX', '30000'])) === 'OK') {
            return { release: () => r.send(['EVAL', RELEASE, '1', name, token]) };
          }
          await released;
        }
      },
    };
    return { it: lock, close: () => r.close() };
  };
}

function rawEvent(kind: Kind) {
  return async (url: string, name: string): Promise<Made<BenchEvent>> => {
    const r = await raw(kind, url);
    let wake = () => {};
    await r.subscribe(name, () => wake());
    const event: BenchEvent = {
      wait: () => new Promise<void>((resolve) => (wake = resolve)),
      set: () => r.send(['PUBLISH', name, '']),
      clear: async () => {},
    };
    return { it: event, close: () => r.close() };
  };
}
