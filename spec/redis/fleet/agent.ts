/**
 * One process of the fleet, driven by the tests (spec/redis/fleet.ts): it connects a client of the kind in
 * REDIS_KIND to REDIS_PORT (or the cluster in REDIS_CLUSTER), says `ready`, then runs the commands it reads
 * as JSON lines on stdin and answers each with a JSON line carrying the command's id. When stdin ends it
 * closes its client and, if nothing of the subpath holds it, exits by itself.
 *
 * What it reports on its own: `aborted` when a guard's signal aborts, `timer` when a timer set with
 * `timers` fires, `unhandledRejection`, and `error` for errors its client reports.
 */
import { createInterface } from 'node:readline';
import { LeaseLostError, type RedisGuard, RedisEvent, RedisLock, RedisSemaphore } from '../../../lib/redis/index.js';
import { type ClientKind, closeClient, connectClient, connectCluster, fencedWrite } from '../clients.js';

const say = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(message)}\n`);
const describeError = (e: unknown) =>
  e instanceof Error ? { error: e.name, message: e.message, lease: e instanceof LeaseLostError } : { error: String(e) };

process.on('unhandledRejection', (reason) => say({ event: 'unhandledRejection', ...describeError(reason) }));

const kind = process.env.REDIS_KIND as ClientKind;
const options = {
  ...(process.env.REDIS_NAME === undefined ? {} : { name: process.env.REDIS_NAME }),
  onError: (e: unknown) => say({ event: 'error', ...describeError(e) }),
};
const client =
  process.env.REDIS_CLUSTER === undefined
    ? await connectClient(kind, Number(process.env.REDIS_PORT), options)
    : await connectCluster(kind, process.env.REDIS_CLUSTER.split(',').map(Number), options);

interface Command {
  id: number;
  op: string;
  name: string;
  type?: 'lock' | 'semaphore';
  permits?: number;
  lease?: number;
  timeout?: number;
  count?: number;
  hold?: number;
  guard?: number;
  after?: number[];
  key?: string;
  value?: string;
}

const primitives = new Map<string, RedisEvent | RedisLock | RedisSemaphore>();
function event(name: string): RedisEvent {
  const key = `event ${name}`;
  if (!primitives.has(key)) primitives.set(key, new RedisEvent(client, name));
  return primitives.get(key) as RedisEvent;
}
function lock(c: Command): RedisLock | RedisSemaphore {
  const options = c.lease === undefined ? {} : { lease: c.lease };
  const key = `${c.type} ${c.name} ${c.permits} ${c.lease}`;
  if (!primitives.has(key)) {
    primitives.set(
      key,
      c.type === 'semaphore'
        ? new RedisSemaphore(client, c.name, c.permits!, options)
        : new RedisLock(client, c.name, options),
    );
  }
  return primitives.get(key) as RedisLock | RedisSemaphore;
}

const guards = new Map<number, { guard: RedisGuard; at: number }>();

async function run(c: Command): Promise<Record<string, unknown>> {
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  switch (c.op) {
    case 'wait': {
      const result = await (c.timeout === undefined ? event(c.name).wait() : event(c.name).wait(c.timeout));
      return { result, ms: elapsed() };
    }
    case 'set':
      await event(c.name).set();
      return { ok: true };
    case 'clear':
      await event(c.name).clear();
      return { ok: true };
    case 'acquire': {
      const guard = await (c.timeout === undefined ? lock(c).acquire() : lock(c).acquire(c.timeout));
      if (guard === undefined) return { acquired: false, ms: elapsed() };
      const at = performance.now();
      guards.set(c.id, { guard, at });
      guard.signal.addEventListener('abort', () =>
        say({
          event: 'aborted',
          guard: c.id,
          afterGrant: performance.now() - at,
          ...describeError(guard.signal.reason),
        }),
      );
      return { acquired: true, token: guard.token, ms: elapsed() };
    }
    case 'queue': {
      // `count` tasks queue at once on one object; each takes the lock, holds it `hold` ms, and releases.
      const l = lock(c);
      const order: number[] = [];
      const tasks = Array.from({ length: c.count! }, async (_, i) => {
        const guard = await l.acquire();
        if (order.length === 0) say({ event: 'granted', id: c.id });
        order.push(i);
        if (c.hold) await new Promise((r) => setTimeout(r, c.hold));
        await guard.release();
      });
      say({ event: 'queued', id: c.id });
      await Promise.all(tasks);
      return { order, ms: elapsed() };
    }
    case 'timers': {
      const { guard, at } = guards.get(c.guard!)!;
      for (const after of c.after!) {
        setTimeout(
          () =>
            say({
              event: 'timer',
              guard: c.guard,
              after,
              aborted: guard.signal.aborted,
              late: performance.now() - at - after,
            }),
          Math.max(0, at + after - performance.now()),
        );
      }
      return { ok: true };
    }
    case 'release': {
      const { guard } = guards.get(c.guard!)!;
      try {
        await guard.release();
        return { released: true };
      } catch (e) {
        return { released: false, ...describeError(e) };
      }
    }
    case 'fenced': {
      const { guard } = guards.get(c.guard!)!;
      return { written: await fencedWrite(client, c.key!, guard.token, c.value ?? String(process.pid)) };
    }
    case 'pid':
      return { pid: process.pid };
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

say({ event: 'ready', pid: process.pid });
const pending = new Set<Promise<unknown>>();
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const c = JSON.parse(line) as Command;
  const p = run(c).then(
    (answer) => say({ id: c.id, ...answer }),
    (e: unknown) => say({ id: c.id, failed: true, ...describeError(e) }),
  );
  pending.add(p);
  void p.then(() => pending.delete(p));
});
input.on('close', async () => {
  await Promise.all(pending);
  await closeClient(client);
  say({ event: 'closed' });
});
