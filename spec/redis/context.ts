/**
 * What a redis spec's describe() block shares: one server for its tests, clients of one kind opened by
 * each test and closed after it, fresh names so tests never see each other's keys, and the checks every
 * test of the subpath ends with (no timer, no subscription left).
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { type AnyClient, type ClientKind, closeClient, connectClient } from './clients.js';
import { type RedisServer, eventually, useServer } from './server.js';

export interface RedisContext {
  readonly kind: ClientKind;
  readonly server: RedisServer;
  /** A new connected client, closed after the test. */
  connect(name?: string): Promise<AnyClient>;
  /** A name no other test uses. */
  name(label?: string): string;
}

export function useRedis(kind: ClientKind): RedisContext {
  const shared = useServer();
  const open: AnyClient[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => closeClient(c).catch(() => undefined)));
  });
  return {
    kind,
    get server() {
      return shared.server;
    },
    async connect(name) {
      const client = await connectClient(kind, shared.server.port, name === undefined ? {} : { name });
      open.push(client);
      return client;
    },
    name: (label = 'x') => `${label}-${randomUUID().slice(0, 8)}`,
  };
}

/** Live timers of this process (what the subpath must not leave behind once its waits have settled). */
export const liveTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/**
 * Takes the timer count (once mocha has armed the test's own timeout timer, after the first turn of the
 * event loop); `check()` expects it back within {@link SETTLE} ms: a settled wait leaves no timer (ioredis
 * itself holds one for a moment while it closes the subscription connection nobody needs any more).
 */
export async function timerBaseline(): Promise<{ check(): Promise<void> }> {
  await new Promise((resolve) => setImmediate(resolve));
  const before = liveTimers();
  return {
    async check() {
      await eventually(() => liveTimers() <= before, SETTLE, 'live timers back to the count before').catch(() =>
        expect(liveTimers(), 'live timers after every wait settled').to.be.at.most(before),
      );
    },
  };
}

/** How long after its last wait settled a subscription may still show on the server (an UNSUBSCRIBE's round trip, on a busy machine). */
export const SETTLE = 1500;

/** Expects nobody to be subscribed to anything on `server` within {@link SETTLE} ms. */
export async function noSubscriptions(server: RedisServer): Promise<void> {
  let left: string[] = [];
  await eventually(
    async () => (left = await server.subscriptions()).length === 0,
    SETTLE,
    'no subscription left on the server',
  ).catch(() => expect(left, 'subscriptions left on the server').to.deep.equal([]));
}

/**
 * Resolves once somebody is subscribed on `server` (to a channel that carries `name`, if given): a
 * waiter's subscription has reached the server, so a set() or release from now on must reach it (the
 * subpath learns of them by pub/sub).
 */
export async function subscribed(server: RedisServer, name?: string): Promise<void> {
  await eventually(
    async () => (await server.subscriptions()).some((channel) => name === undefined || channel.includes(name)),
    2000,
    `a subscription on the server${name === undefined ? '' : ` for ${name}`}`,
  );
}

/** The ms since `start` (performance.now() clock). */
export const since = (start: number) => performance.now() - start;

/** Slack for a timed wait's end on a loaded machine; a wait must never end before its timeout. */
export const LATE = 250;

/** Expects a wait of `timeout` ms to have ended after `ms`: not early, and not later than {@link LATE}. */
export function endedOnTime(ms: number, timeout: number, what = 'the wait'): void {
  expect(ms, `${what} ended early`).to.be.at.least(timeout - 1);
  expect(ms, `${what} ended late`).to.be.below(timeout + LATE);
}

/** The heap in use after full garbage collections (node --expose-gc, as the redis suite runs). */
export function heapAfterGc(): number {
  globalThis.gc!();
  globalThis.gc!();
  return process.memoryUsage().heapUsed;
}
