// README "Across processes and machines", fencing tokens: a store that refuses stale tokens. REDIS_URL
// names the server (the tests start one).
import assert from 'node:assert/strict';

// #region README
import { Redis } from 'ioredis';
import { RedisLock } from 'awaitable-event/redis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const lock = new RedisLock(redis, 'invoice-42', { lease: 10_000 });

// The resource keeps the highest token it has seen and refuses writes that carry a lower one. In SQL:
// UPDATE invoices SET status = $1, token = $2 WHERE id = 42 AND token <= $2
const invoice = { status: 'open', token: 0 };
function write(status: string, token: number): void {
  if (token < invoice.token) throw new Error(`refused: token ${token} is stale`);
  Object.assign(invoice, { status, token });
}

await lock.runExclusive((guard) => write('paid', guard.token));
redis.disconnect();
// #endregion

assert.equal(invoice.status, 'paid');
console.log(`invoice ${invoice.status} with token ${invoice.token}`);
