// README "Across processes and machines": the three jobs of a fleet, in one process for the example (run
// it in each replica). REDIS_URL names the server (the tests start one).
import assert from 'node:assert/strict';

const runMigrations = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
const sendNightlyReport = () => Promise.resolve();
const charge = (order: number) => Promise.resolve(`receipt ${order}`);

// #region README
import { createClient } from 'redis';
import { RedisEvent, RedisLock, RedisSemaphore } from 'awaitable-event/redis';

const client = await createClient({ url: process.env.REDIS_URL }).connect();

// Every replica waits until one of them has run the migrations.
const migrated = new RedisEvent(client, 'migrations-done');
const migrator = new RedisLock(client, 'migrations');
const guard = await migrator.acquire(0); // a try: only the first replica gets it
if (guard !== undefined) {
  await runMigrations();
  await migrated.set();
  await guard.release();
}
if (!(await migrated.wait(60_000))) throw new Error('no migrations within a minute');

// The nightly job runs once, however many replicas start it.
const nightly = new RedisLock(client, 'nightly-report', { lease: 60_000 });
await nightly.runExclusive(() => sendNightlyReport(), 0).catch(() => 'another replica runs it');

// At most 5 calls at once to the payment API, fleet-wide.
const payments = new RedisSemaphore(client, 'payment-api', 5);
const receipts = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((order) => payments.runExclusive(() => charge(order))));

await client.close();
// #endregion

assert.equal(receipts.length, 7);
console.log(`migrated, ${receipts.length} receipts`);
