/**
 * One process of the fleet in `npm run demo:redis` (examples/redis-demo.ts starts three): what a service
 * replica does at start-up, coordinated with the others through Redis.
 *
 * 1. Migrations: the replica named to run them (`migrator`) runs them and sets a `RedisEvent`; the
 *    others wait on it, and serve only once it is set.
 * 2. The nightly job: every replica asks for it, under a `RedisLock`; the first to get the lock runs it
 *    and records it done, the others find it done when their turn comes.
 * 3. A slow API that takes at most 2 calls at once: each replica makes three calls, and a
 *    `RedisSemaphore(2)` holds the fleet to 2 at once.
 *
 * Usage (as the demo runs it): `redis-fleet-member.ts <redis url> <my name> <key prefix> [migrator]`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { RedisEvent, RedisLock, RedisSemaphore } from '../lib/redis/index.js';

const [url, me, prefix, role] = process.argv.slice(2) as [string, string, string, string?];
const say = (line: string) => console.log(`${me}: ${line}`);

const client = await createClient({ url }).connect();
const migrated = new RedisEvent(client, `${prefix}:migrated`);
const nightly = new RedisLock(client, `${prefix}:nightly`);
const slowApi = new RedisSemaphore(client, `${prefix}:slow-api`, 2);

// Connected: tell the demo, and start when every replica is (so that the story is told the same each run).
process.send!('ready');
await new Promise((resolve) => process.once('message', resolve));
process.disconnect();

// 1. Migrations.
if (role === 'migrator') {
  say('runs the migrations');
  await sleep(400);
  await client.set(`${prefix}:schema`, '3');
  say('migrations done (schema version 3), sets the event');
  await migrated.set();
} else {
  say('waits for the migrations');
  await migrated.wait();
  say(`sees the migrations done (schema version ${await client.get(`${prefix}:schema`)}), starts serving`);
}

// 2. The nightly job, once for the whole fleet: the lock makes the check and the run one step.
await nightly.runExclusive(async (guard) => {
  const doneBy = await client.get(`${prefix}:nightly-done`);
  if (doneBy !== null) {
    say(`finds the nightly job already done by ${doneBy}, skips it`);
    return;
  }
  say(`runs the nightly job (fencing token ${guard.token})`);
  await sleep(300);
  await client.set(`${prefix}:nightly-done`, me);
  say('nightly job done');
});

// 3. Three calls to the slow API, all at once from here; the semaphore lets 2 run at a time fleet-wide.
// The count in Redis is taken while a permit is held, so it shows how many calls run at once.
await Promise.all(
  [1, 2, 3].map((call) =>
    slowApi.runExclusive(async () => {
      const inFlight = await client.incr(`${prefix}:api-in-flight`);
      say(`calls the slow API (call ${call}, ${inFlight} of 2 in flight fleet-wide)`);
      await sleep(200);
      await client.decr(`${prefix}:api-in-flight`);
    }),
  ),
);
say('done');
await client.close(); // nothing else holds the process: it exits by itself
