/**
 * Connected clients of every kind the subpath accepts, made the way a user makes them: node-redis
 * (`createClient` / `createCluster`, v6 and v5) and ioredis (`Redis` / `Cluster`, v6 and v5). Each client
 * gets an `error` listener, as a user's must (an unhandled `error` event would end the process), and
 * {@link command} sends a raw command through any of them.
 */
import { HOST } from './server.js';

export type ClientKind = 'node-redis' | 'ioredis' | 'node-redis@5' | 'ioredis@5';

/** The kinds the main suite runs with (v6 of each client). */
export const MAIN_KINDS: ClientKind[] = ['node-redis', 'ioredis'];
/** The older majors, for the conformance pass. */
export const V5_KINDS: ClientKind[] = ['node-redis@5', 'ioredis@5'];

// The subpath takes any of these; the tests hold them as one opaque type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyClient = any;

export interface ConnectOptions {
  /** CLIENT SETNAME, to find the client's connections on the server. */
  name?: string;
  /** Errors the client reports (connection lost, ...), for tests that look at them. */
  onError?: (error: unknown) => void;
  /** More options of the client's own (`keyPrefix`, `database`, ...), as a user passes them. */
  client?: Record<string, unknown>;
}

const isIoredis = (kind: ClientKind) => kind.startsWith('ioredis');

// Each library is loaded only when a client of its kind is made: a fleet process loads one, not four.
const ioredis = (kind: ClientKind): Promise<typeof import('ioredis')> =>
  (kind === 'ioredis' ? import('ioredis') : import('ioredis5')) as Promise<unknown> as Promise<
    typeof import('ioredis')
  >;
const nodeRedis = (kind: ClientKind): Promise<typeof import('redis')> =>
  (kind === 'node-redis' ? import('redis') : import('redis5')) as Promise<unknown> as Promise<typeof import('redis')>;

/** A connected client to the server on `port`. */
export async function connectClient(kind: ClientKind, port: number, options: ConnectOptions = {}): Promise<AnyClient> {
  const onError = options.onError ?? (() => undefined);
  if (isIoredis(kind)) {
    const { Redis } = await ioredis(kind);
    const client = new Redis(port, HOST, {
      lazyConnect: true,
      ...(options.name === undefined ? {} : { connectionName: options.name }),
      ...options.client,
    });
    client.on('error', onError);
    await client.connect();
    return client;
  }
  const { createClient: create } = await nodeRedis(kind);
  const client = create({
    socket: { host: HOST, port },
    ...(options.name === undefined ? {} : { name: options.name }),
    ...options.client,
  });
  client.on('error', onError);
  await client.connect();
  return client;
}

/** A connected cluster client, seeded with every node of the cluster. */
export async function connectCluster(
  kind: ClientKind,
  ports: number[],
  options: ConnectOptions = {},
): Promise<AnyClient> {
  const onError = options.onError ?? (() => undefined);
  if (isIoredis(kind)) {
    const { Cluster } = await ioredis(kind);
    const cluster = new Cluster(
      ports.map((port) => ({ host: HOST, port })),
      { lazyConnect: true, ...options.client },
    );
    cluster.on('error', onError);
    await cluster.connect();
    return cluster;
  }
  const { createCluster: create } = await nodeRedis(kind);
  const cluster = create({ rootNodes: ports.map((port) => ({ socket: { host: HOST, port } })), ...options.client });
  cluster.on('error', onError);
  await cluster.connect();
  return cluster;
}

/** Closes a client (or cluster client) the ordinary way: pending replies first, then the connection. */
export async function closeClient(client: AnyClient): Promise<void> {
  if (typeof client.quit === 'function' && typeof client.close !== 'function') {
    await client.quit().catch(() => client.disconnect());
    return;
  }
  if (client.isOpen === false) return;
  await client.close();
}

/** Drops a client at once, whatever it was doing. */
export function destroyClient(client: AnyClient): void {
  if (typeof client.destroy === 'function') client.destroy();
  else client.disconnect();
}

/** Sends a raw command (`['INCR', key]`) through any kind of client; `key` routes it on a cluster. */
export function command(client: AnyClient, args: string[], key?: string): Promise<unknown> {
  if (typeof client.call === 'function') return client.call(args[0], ...args.slice(1));
  if (typeof client.sendCommand === 'function' && client.sendCommand.length >= 3) {
    return client.sendCommand(key, false, args);
  }
  return client.sendCommand(args);
}

/** A fenced write: stores `value` only if `token` is higher than every token written before; 1 or 0. */
export async function fencedWrite(client: AnyClient, key: string, token: number, value: string): Promise<boolean> {
  const script = `local last = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'value', ARGV[2])
return 1`;
  return Number(await command(client, ['EVAL', script, '1', key, String(token), value], key)) === 1;
}

/**
 * Holds back the answer to the next script the library runs through `client` until `meanwhile()` has run
 * (as a slow network or a paused process would), then hands it on. Load the scripts first (run any call
 * once): the first run of a script on a server goes through a NOSCRIPT error and a second command.
 */
export function delayNextScript(client: AnyClient, meanwhile: () => Promise<void>): void {
  const method = typeof client.evalsha === 'function' ? 'evalsha' : 'evalSha';
  const real = client[method] as (...args: unknown[]) => Promise<unknown>;
  client[method] = function (this: unknown, ...args: unknown[]) {
    delete client[method];
    return real.apply(this, args).then(async (reply) => {
      await meanwhile();
      return reply;
    });
  };
}
