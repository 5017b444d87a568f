/**
 * The same basic checks on a local three-master Redis Cluster, with each client's cluster mode: every key
 * of a primitive shares a hash tag, so each runs in one slot (a CROSSSLOT error would fail these), and
 * names spread over the three masters.
 */
import { expect } from 'chai';
import { TimeoutError } from '../../lib/index.js';
import { RedisEvent, RedisLock, RedisSemaphore } from '../../lib/redis/index.js';
import { type AnyClient, MAIN_KINDS, closeClient, connectCluster } from './clients.js';
import { SETTLE, endedOnTime, since } from './context.js';
import { within } from './fleet.js';
import { RedisCluster, eventually } from './server.js';

/** Names whose hash tags fall on different masters in a three-master cluster (found by trying). */
const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];

for (const kind of MAIN_KINDS) {
  describe(`on a Redis Cluster (${kind})`, function () {
    this.timeout(60_000);
    let cluster: RedisCluster;
    let a: AnyClient;
    let b: AnyClient;
    before(async () => {
      cluster = await RedisCluster.start();
      a = await connectCluster(kind, cluster.ports);
      b = await connectCluster(kind, cluster.ports);
    });
    /** Once a waiter's subscription reached one of the nodes (pub/sub reaches it from any node). */
    const subscribedOnCluster = () =>
      eventually(
        async () => (await Promise.all(cluster.nodes.map((n) => n.subscriptions()))).some((s) => s.length > 0),
        2000,
        'a subscription on the cluster',
      );
    after(async () => {
      for (const c of [a, b]) if (c !== undefined) await closeClient(c).catch(() => undefined);
      await cluster?.stop();
    });

    it('the keys of each name land in a single slot, on every master among the names', async () => {
      for (const name of NAMES) {
        const guard = await new RedisLock(a, name).acquire();
        await guard.release();
        await new RedisEvent(a, name).set();
      }
      const masters = [];
      for (const node of cluster.nodes) {
        const keys = [...(await node.keys()).keys()];
        if (keys.length > 0) masters.push(node.port);
        const slots = new Set(await Promise.all(keys.map((k) => node.cli('CLUSTER', 'KEYSLOT', k))));
        const names = new Set(keys.map((k) => NAMES.find((n) => k.includes(n))));
        expect(slots.size, `slots of ${keys.join(' ')}`).to.be.at.most(names.size);
      }
      expect(masters.length, 'names spread over the masters').to.be.at.least(2);
    });

    it('names with braces in them work as any other: each primitive’s keys still share one slot', async () => {
      for (const name of ['}brace', '{brace}', 'br}ace', '{', '}', '%7D']) {
        const guard = await new RedisLock(a, name).acquire();
        expect(await new RedisLock(b, name).acquire(0), `"${name}" is held`).to.equal(undefined);
        await guard.release();
        const s = await new RedisSemaphore(b, name, 2).acquire(0);
        expect(s, `semaphore "${name}"`).to.not.equal(undefined);
        await s!.release();
        await new RedisEvent(a, name).set();
        expect(await new RedisEvent(b, name).wait(0), `event "${name}"`).to.equal(true);
      }
      // And stay apart: "}" and "%7D" are two names.
      await new RedisEvent(a, '%7D').clear();
      expect(await new RedisEvent(b, '}').isSet()).to.equal(true);
    });

    if (kind === 'ioredis') {
      it('with a keyPrefix, a set() and a release reach the waiters of another client with that prefix', async () => {
        const [one, two] = [
          await connectCluster(kind, cluster.ports, { client: { keyPrefix: 'app:' } }),
          await connectCluster(kind, cluster.ports, { client: { keyPrefix: 'app:' } }),
        ];
        try {
          const wait = new RedisEvent(one, 'prefixed').wait();
          const holder = await new RedisLock(two, 'prefixed').acquire();
          const next = new RedisLock(one, 'prefixed').acquire();
          await subscribedOnCluster();
          await new RedisEvent(two, 'prefixed').set();
          expect(await within(wait, 2000, 'the waiter released by the set()')).to.equal(true);
          await holder.release();
          await (await within(next, 2000, 'the lock handed to the waiter')).release();
        } finally {
          await Promise.all([one, two].map((c) => closeClient(c)));
        }
      });
    }

    it('closing the client rejects its pending waits and closes its subscription connection', async () => {
      const client = await connectCluster(kind, cluster.ports);
      const holder = await new RedisLock(b, 'closing').acquire();
      const waits = [new RedisEvent(client, 'closing').wait(), new RedisLock(client, 'closing').acquire()].map((p) =>
        p.then(
          () => 'resolved',
          (reason: unknown) => reason,
        ),
      );
      await subscribedOnCluster();
      await closeClient(client);
      for (const outcome of await within(Promise.all(waits), 2000, 'the waits settled')) {
        expect(outcome).to.be.instanceOf(Error);
      }
      await eventually(
        async () => (await Promise.all(cluster.nodes.map((n) => n.subscriptions()))).every((s) => s.length === 0),
        SETTLE,
        'no subscription left on the cluster',
      );
      await holder.release();
    });

    for (const name of NAMES.slice(0, 3)) {
      it(`RedisEvent "${name}": a waiter on one client is released by set() on another; wait(ms) ends on time`, async () => {
        const waiter = new RedisEvent(a, `${name}-e`);
        await waiter.clear();
        const start = performance.now();
        expect(await waiter.wait(200)).to.equal(false);
        endedOnTime(since(start), 200);
        const pending = [waiter.wait(), waiter.wait(10_000)];
        await subscribedOnCluster();
        await new RedisEvent(b, `${name}-e`).set();
        expect(await Promise.all(pending)).to.deep.equal([true, true]);
        expect(await new RedisEvent(b, `${name}-e`).isSet()).to.equal(true);
      });

      it(`RedisLock "${name}": exclusion, FIFO hand-off between clients, increasing tokens, TimeoutError`, async () => {
        const first = await new RedisLock(a, `${name}-l`).acquire();
        const other = new RedisLock(b, `${name}-l`);
        expect(await other.acquire(0)).to.equal(undefined);
        await other.lock(100).then(
          () => expect.fail('granted while held'),
          (e: unknown) => expect(e).to.be.instanceOf(TimeoutError),
        );
        const next = other.acquire();
        await subscribedOnCluster();
        await first.release();
        const second = await next;
        expect(second.token).to.be.above(first.token);
        await second.release();
      });

      it(`RedisSemaphore "${name}" of 2: two holders at once, the third waits for a release`, async () => {
        const s = new RedisSemaphore(a, `${name}-s`, 2);
        const held = [await s.acquire(), await new RedisSemaphore(b, `${name}-s`, 2).acquire()];
        expect(await s.acquire(0)).to.equal(undefined);
        const third = s.acquire(5000);
        await held[0]!.release();
        const got = await third;
        expect(got).to.not.equal(undefined);
        await Promise.all([held[1]!.release(), got!.release()]);
      });
    }
  });
}
