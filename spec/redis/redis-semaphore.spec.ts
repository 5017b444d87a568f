/**
 * What a `RedisSemaphore` of more than one permit adds to the lock suite (which runs `RedisSemaphore(1)`):
 * up to `permits` holders at once and never more, FIFO for the rest, distinct tokens, and `permits` checked.
 */
import { expect } from 'chai';
import { type RedisGuard, RedisSemaphore } from '../../lib/redis/index.js';
import { MAIN_KINDS, destroyClient } from './clients.js';
import { noSubscriptions, subscribed, useRedis } from './context.js';

for (const kind of MAIN_KINDS) {
  describe(`RedisSemaphore (${kind}): permits`, () => {
    const redis = useRedis(kind);

    it('new RedisSemaphore() with permits not a whole number >= 1 throws a TypeError or RangeError naming it', async () => {
      const client = await redis.connect();
      for (const permits of [0, -1, 1.5, NaN, Infinity, 2 ** 64]) {
        expect(() => new RedisSemaphore(client, 'n', permits), `permits ${permits}`).to.throw(RangeError, /permits/);
      }
      for (const permits of ['2', null, undefined, {}]) {
        expect(() => new RedisSemaphore(client, 'n', permits as number), `permits ${String(permits)}`).to.throw(
          TypeError,
          /permits/,
        );
      }
    });

    it('grants up to `permits` holders at once; the next waits for a release, first come first served', async () => {
      const name = redis.name();
      const s = new RedisSemaphore(await redis.connect(), name, 3);
      const held = await Promise.all([s.acquire(), s.acquire(), s.acquire()]);
      expect(await s.acquire(0)).to.equal(undefined);
      const other = new RedisSemaphore(await redis.connect(), name, 3);
      const order: string[] = [];
      const a = other.acquire().then((g) => (order.push('a'), g));
      const b = other.acquire().then((g) => (order.push('b'), g));
      await subscribed(redis.server, name);
      await held[0]!.release();
      const ga = await a;
      expect(order).to.deep.equal(['a']);
      await held[1]!.release();
      const gb = await b;
      expect(order).to.deep.equal(['a', 'b']);
      const tokens = [...held, ga, gb].map((g) => g.token);
      expect(new Set(tokens).size, `tokens ${tokens.join(' ')}`).to.equal(5);
      expect(ga.token).to.be.above(Math.max(...held.map((g) => g.token)));
      expect(gb.token).to.be.above(ga.token);
      await Promise.all([held[2]!.release(), ga.release(), gb.release()]);
      await noSubscriptions(redis.server);
    });

    it('thousands of holders that died together are cleared by the next call, which is served', async () => {
      const name = redis.name();
      const survivor = new RedisSemaphore(await redis.connect(), name, 10_000);
      const kept = await survivor.acquire(); // held throughout (its lease keeps the name's keys)
      const dying = await redis.connect();
      const many = new RedisSemaphore(dying, name, 10_000, { lease: 2500 });
      const held = await Promise.all(Array.from({ length: 8100 }, () => many.acquire(0)));
      expect(held.filter((g) => g !== undefined)).to.have.length(8100);
      destroyClient(dying); // their process is gone: no upkeep, no release
      await new Promise((r) => setTimeout(r, 2600)); // past their leases
      const guard = await survivor.acquire(0);
      expect(guard, 'a permit for the next one').to.not.equal(undefined);
      await Promise.all([guard!.release(), kept.release()]);
    });

    it('never more than `permits` holders among tasks of two clients taking turns', async () => {
      const name = redis.name();
      const clients = [await redis.connect(), await redis.connect()];
      const sems = clients.map((c) => new RedisSemaphore(c, name, 3));
      let inside = 0;
      let most = 0;
      const task = async (i: number) => {
        for (let round = 0; round < 5; round++) {
          const guard: RedisGuard = await sems[i % 2]!.acquire();
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 1 + ((i + round) % 4)));
          inside--;
          await guard.release();
        }
      };
      await Promise.all(Array.from({ length: 10 }, (_, i) => task(i)));
      expect(most).to.equal(3);
      await noSubscriptions(redis.server);
    });
  });
}
