/**
 * One of the churn test's processes (spec/redis/churn.spec.ts): until CHURN_MS have passed, three tasks
 * take turns on one RedisLock and one RedisSemaphore(3) shared by the fleet, each turn one of: acquire()
 * without a timeout, acquire(ms), acquire({ signal }) aborted at a random moment, runExclusive(), and
 * `await using` on lock(ms). Inside each critical section it checks, in Redis, that the holder count stays
 * within the limit, and for the lock that a store refusing stale tokens accepts the holder's token (tokens
 * strictly increase in grant order). Then it prints what it saw, closes its client and ends by itself.
 */
import { createInterface } from 'node:readline';
import { TimeoutError } from '../../../lib/index.js';
import { type RedisGuard, RedisLock, RedisSemaphore } from '../../../lib/redis/index.js';
import { type ClientKind, closeClient, command, connectClient, fencedWrite } from '../clients.js';

const say = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(message)}\n`);
process.on('unhandledRejection', (reason) => say({ event: 'unhandledRejection', reason: String(reason) }));

const name = process.env.CHURN_NAME!;
const client = await connectClient(process.env.REDIS_KIND as ClientKind, Number(process.env.REDIS_PORT), {
  onError: (e) => say({ event: 'error', message: String(e) }),
});
const lock = new RedisLock(client, `${name}-lock`, { lease: 5000 });
const semaphore = new RedisSemaphore(client, `${name}-sem`, 3, { lease: 5000 });
const counts = { grants: 0, timeouts: 0, aborts: 0, overlaps: 0, stale: 0, lost: 0, wrongReason: 0 };
const semaphoreTokens: number[] = [];
const random = (n: number) => Math.floor(Math.random() * n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function critical(which: 'lock' | 'sem', guard: RedisGuard): Promise<void> {
  counts.grants++;
  const holders = `${name}-${which}-holders`;
  const limit = which === 'lock' ? 1 : 3;
  if (Number(await command(client, ['INCR', holders])) > limit) counts.overlaps++;
  if (which === 'lock') {
    if (!(await fencedWrite(client, `${name}-fence`, guard.token, String(process.pid)))) counts.stale++;
  } else {
    semaphoreTokens.push(guard.token);
  }
  await sleep(random(3));
  if (guard.signal.aborted) counts.lost++;
  await command(client, ['DECR', holders]);
}

async function turn(which: 'lock' | 'sem'): Promise<void> {
  const target = which === 'lock' ? lock : semaphore;
  switch (random(5)) {
    case 0: {
      const guard = await target.acquire();
      await critical(which, guard);
      await guard.release();
      break;
    }
    case 1: {
      const guard = await target.acquire(1 + random(30));
      if (guard === undefined) {
        counts.timeouts++;
        return;
      }
      await critical(which, guard);
      await guard.release();
      break;
    }
    case 2: {
      const ac = new AbortController();
      const reason = new Error('churn abort');
      const timer = setTimeout(() => ac.abort(reason), random(30));
      try {
        const guard = (await target.acquire({ signal: ac.signal }))!;
        clearTimeout(timer);
        await critical(which, guard);
        await guard.release();
      } catch (error) {
        if (error !== reason) counts.wrongReason++;
        counts.aborts++;
      }
      break;
    }
    case 3:
      await target.runExclusive((guard) => critical(which, guard));
      break;
    default:
      try {
        await using guard = await target.lock(1 + random(50));
        await critical(which, guard);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        counts.timeouts++;
      }
  }
}

async function task(i: number): Promise<void> {
  while (performance.now() < end) await turn(i % 2 === 0 ? 'lock' : 'sem');
}

// Every process starts once all are ready (the test sends a line): they churn together for CHURN_MS.
say({ event: 'ready', pid: process.pid });
const input = createInterface({ input: process.stdin });
await new Promise((resolve) => input.once('line', resolve));
input.close();
const end = performance.now() + Number(process.env.CHURN_MS);
await Promise.all([task(0), task(1), task(2)]);
say({ event: 'done', ...counts, semaphoreTokens });
await closeClient(client);
