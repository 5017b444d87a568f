/**
 * Clients as users configure and handle them: an ioredis `keyPrefix`, a client left in subscriber mode, a
 * client closed and connected again. Each primitive must still learn of a `set()` or a release by a push
 * (the default lease is 30 s: a hand-off that only the lease upkeep notices fails these tests), or say
 * clearly that it cannot.
 */
import { expect } from 'chai';
import { RedisEvent, RedisLock } from '../../lib/redis/index.js';
import { type AnyClient, type ClientKind, MAIN_KINDS, V5_KINDS, closeClient, connectClient } from './clients.js';
import { noSubscriptions, subscribed } from './context.js';
import { within } from './fleet.js';
import { useServer } from './server.js';

function useClients(kind: ClientKind) {
  const shared = useServer();
  const open: AnyClient[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => closeClient(c).catch(() => undefined)));
  });
  let unique = 0;
  return {
    get server() {
      return shared.server;
    },
    async connect(client: Record<string, unknown> = {}) {
      const c = await connectClient(kind, shared.server.port, { client });
      open.push(c);
      return c;
    },
    name: () => `options-${kind}-${++unique}-${process.pid}`,
  };
}

for (const kind of [...MAIN_KINDS, ...V5_KINDS]) {
  describe(`clients as users configure them (${kind})`, () => {
    const redis = useClients(kind);

    if (kind.startsWith('ioredis')) {
      it('with a keyPrefix, a set() and a release reach the waiters of another client with that prefix by a push', async () => {
        const name = redis.name();
        const [a, b] = [await redis.connect({ keyPrefix: 'app:' }), await redis.connect({ keyPrefix: 'app:' })];
        const waits = [new RedisEvent(a, name).wait(), new RedisEvent(a, name).wait(10_000)];
        const holder = await new RedisLock(b, name).acquire();
        const next = new RedisLock(a, name).acquire();
        await subscribed(redis.server, name);
        await new RedisEvent(b, name).set();
        expect(await within(Promise.all(waits), 2000, 'the waiters released by the set()')).to.deep.equal([true, true]);
        await holder.release();
        const guard = await within(next, 2000, 'the lock handed to the waiter');
        expect(guard.token).to.be.above(holder.token);
        await guard.release();
        const keys = [...(await redis.server.keys()).keys()].filter((k) => k.includes(name));
        expect(keys.length).to.be.above(0);
        for (const key of keys) expect(key, 'a key of the primitive').to.match(/^app:awaitable-event:/);
        await noSubscriptions(redis.server);
      });
    }

    it('a set() of the same name in another database releases no waiter here; one here does', async () => {
      const name = redis.name();
      const db = (n: number) => (kind.startsWith('ioredis') ? { db: n } : { database: n });
      const here = await redis.connect(db(1));
      const waits = [new RedisEvent(here, name).wait(500), new RedisEvent(here, name).wait({ timeout: 500 })];
      await subscribed(redis.server, name);
      await new RedisEvent(await redis.connect(db(2)), name).set();
      expect(await Promise.all(waits), 'the event of database 1 was never set').to.deep.equal([false, false]);
      expect(await new RedisEvent(here, name).isSet()).to.equal(false);
      const wait = new RedisEvent(here, name).wait();
      await subscribed(redis.server, name);
      await new RedisEvent(await redis.connect(db(1)), name).set();
      expect(await within(wait, 2000, 'the waiter released by the set()')).to.equal(true);
      await noSubscriptions(redis.server);
    });

    it('a client closed and connected again serves new waits by a push, as before', async () => {
      const name = redis.name();
      const client = await redis.connect();
      const other = await redis.connect();
      expect(await new RedisEvent(client, name).wait(50)).to.equal(false); // the client's subscriptions in use once
      await closeClient(client);
      if (client.status !== undefined && client.status !== 'end') await new Promise((r) => client.once('end', r));
      await client.connect();
      const wait = new RedisEvent(client, name).wait();
      const holder = await new RedisLock(other, name).acquire();
      const next = new RedisLock(client, name).acquire();
      await subscribed(redis.server, name);
      await new RedisEvent(other, name).set();
      expect(await within(wait, 2000, 'the waiter released by the set()')).to.equal(true);
      await holder.release();
      await (await within(next, 2000, 'the lock handed to the waiter')).release();
      await noSubscriptions(redis.server);
    });

    it('a client in subscriber mode: wait() and acquire() reject with the client’s error, or work', async () => {
      const client = await redis.connect();
      if (kind.startsWith('ioredis')) await client.subscribe('elsewhere');
      else await client.subscribe('elsewhere', () => undefined);
      const name = redis.name();
      const event = new RedisEvent(await redis.connect(), name);
      await event.set();
      // RESP3 lets a subscribed connection run other commands; RESP2 (the v5 clients' default) does not.
      for (const call of [() => new RedisEvent(client, name).wait(), () => new RedisLock(client, name).acquire()]) {
        const outcome = await within(
          call().then(
            (value) => ({ value }),
            (reason: unknown) => ({ reason }),
          ),
          2000,
          `${String(call)} settled`,
        );
        if ('reason' in outcome) expect(outcome.reason).to.be.instanceOf(Error);
        else if (typeof outcome.value === 'object') await outcome.value.release();
        else expect(outcome.value).to.equal(true);
      }
    });
  });
}
