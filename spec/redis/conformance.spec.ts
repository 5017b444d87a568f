/**
 * The older majors of both clients (node-redis v5, ioredis v5), which the subpath accepts as well: a short
 * pass through what each primitive does with a client, single and cluster mode aside (the full suites run
 * with v6 of each).
 */
import { expect } from 'chai';
import { TimeoutError } from '../../lib/index.js';
import { RedisEvent, RedisLock, RedisSemaphore } from '../../lib/redis/index.js';
import { V5_KINDS } from './clients.js';
import { endedOnTime, noSubscriptions, since, subscribed, useRedis } from './context.js';

for (const kind of V5_KINDS) {
  describe(`with ${kind}`, () => {
    const redis = useRedis(kind);

    it('RedisEvent: set() on one client releases waiters of another, in order; clear(), isSet(), wait(ms), abort', async () => {
      const name = redis.name();
      const e = new RedisEvent(await redis.connect(), name);
      const other = new RedisEvent(await redis.connect(), name);
      const order: string[] = [];
      const waits = [e.wait().then(() => order.push('a')), e.wait(10_000).then(() => order.push('b'))];
      const ac = new AbortController();
      const aborted = e.wait({ signal: ac.signal }).catch((r: unknown) => r);
      await subscribed(redis.server, name);
      ac.abort('stop');
      expect(await aborted).to.equal('stop');
      await other.set();
      await Promise.all(waits);
      expect(order).to.deep.equal(['a', 'b']);
      expect(await e.isSet()).to.equal(true);
      await e.clear();
      const start = performance.now();
      expect(await other.wait(150)).to.equal(false);
      endedOnTime(since(start), 150);
      await noSubscriptions(redis.server);
    });

    it('RedisLock: acquire, hand-off in order between clients, acquire(ms), lock(ms), runExclusive, await using', async () => {
      const name = redis.name();
      const a = new RedisLock(await redis.connect(), name, { lease: 2000 });
      const b = new RedisLock(await redis.connect(), name, { lease: 2000 });
      const first = await a.acquire();
      expect(await b.acquire(0)).to.equal(undefined);
      expect(await b.acquire(100)).to.equal(undefined);
      expect(await b.lock(50).catch((e: unknown) => e)).to.be.instanceOf(TimeoutError);
      const next = b.acquire();
      await subscribed(redis.server, name);
      await first.release();
      const second = await next;
      expect(second.token).to.be.above(first.token);
      await second.release();
      expect(await a.runExclusive((g) => g.token)).to.be.above(second.token);
      {
        await using g = await b.lock();
        expect(await a.acquire(0)).to.equal(undefined);
        expect(g.signal.aborted).to.equal(false);
      }
      const free = await a.acquire(0);
      expect(free).to.not.equal(undefined);
      await free!.release();
      await noSubscriptions(redis.server);
    });

    it('RedisSemaphore: up to `permits` holders, the next one after a release', async () => {
      const name = redis.name();
      const s = new RedisSemaphore(await redis.connect(), name, 2);
      const held = [await s.acquire(), await new RedisSemaphore(await redis.connect(), name, 2).acquire()];
      expect(await s.acquire(0)).to.equal(undefined);
      const third = s.acquire(5000);
      await held[0]!.release();
      const got = await third;
      expect(got).to.not.equal(undefined);
      await Promise.all([held[1]!.release(), got!.release()]);
      await noSubscriptions(redis.server);
    });

    it('a lease is kept past its length while held, and lost (signal aborted) when its keys are gone', async () => {
      const name = redis.name();
      const guard = await new RedisLock(await redis.connect(), name, { lease: 300 }).acquire();
      expect(await new RedisLock(await redis.connect(), name, { lease: 300 }).acquire(700)).to.equal(undefined);
      expect(guard.signal.aborted).to.equal(false);
      await redis.server.cli('FLUSHALL');
      if (!guard.signal.aborted)
        await new Promise((resolve) => guard.signal.addEventListener('abort', resolve, { once: true }));
      expect(guard.signal.reason).to.have.property('name', 'LeaseLostError');
      expect(await guard.release().catch((e: unknown) => e)).to.have.property('name', 'LeaseLostError');
    });
  });
}
