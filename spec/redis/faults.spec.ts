/**
 * The fault matrix, with real processes and a real server: a holder killed (SIGKILL) or paused past its
 * lease (SIGSTOP), the subscription connections dropped (CLIENT KILL TYPE pubsub), the server restarted
 * without persistence, and the connection stalled by a TCP proxy. The bounds are the contract's: the next
 * waiter within the lease plus 1 s, waiters served within 2 s of a dropped subscription, timed waits ending
 * on time whatever the server does.
 */
import { expect } from 'chai';
import { RedisEvent, RedisLock, RedisSemaphore } from '../../lib/redis/index.js';
import { type AnyClient, MAIN_KINDS, closeClient, connectClient, fencedWrite } from './clients.js';
import { LATE, endedOnTime, since, subscribed } from './context.js';
import { type Member, type Message, killAll, startMember, within } from './fleet.js';
import { FaultProxy } from './proxy.js';
import { RedisServer } from './server.js';

const types = [
  { type: 'lock', create: (c: AnyClient, name: string, lease: number) => new RedisLock(c, name, { lease }) },
  {
    type: 'semaphore',
    create: (c: AnyClient, name: string, lease: number) => new RedisSemaphore(c, name, 1, { lease }),
  },
] as const;

for (const kind of MAIN_KINDS) {
  describe(`faults (${kind})`, function () {
    this.timeout(60_000);
    let server: RedisServer;
    const members: Member[] = [];
    const clients: AnyClient[] = [];
    let unique = 0;
    const name = (label: string) => `${label}-${kind}-${++unique}-${process.pid}`;
    const member = async (env: Record<string, string> = {}, port = server.port) => {
      const m = await startMember('agent', { kind, port }, env);
      members.push(m);
      return m;
    };
    const connect = async (port = server.port) => {
      const c = await connectClient(kind, port);
      clients.push(c);
      return c;
    };

    beforeEach(async () => {
      server = await RedisServer.start();
    });
    afterEach(async () => {
      await killAll(members.splice(0));
      await Promise.all(clients.splice(0).map((c) => closeClient(c).catch(() => undefined)));
      await server.stop();
    });

    for (const { type, create } of types) {
      it(`${type}: a holder killed with SIGKILL: the next waiter gets it within the lease plus 1 s`, async () => {
        const lease = 1500;
        const n = name('kill');
        const holder = await member();
        const held = await holder.request({ op: 'acquire', type, name: n, permits: 1, lease });
        expect(held.acquired).to.equal(true);
        const waiting = create(await connect(), n, lease).acquire();
        await subscribed(server);
        holder.kill('SIGKILL');
        const killed = performance.now();
        const guard = await waiting;
        expect(since(killed)).to.be.below(lease + 1000);
        expect(guard.token).to.be.above(held.token as number);
        await guard.release();
      });

      it(`${type}: a waiter whose process died leaves the line within its lease`, async () => {
        const lease = 1500;
        const n = name('dead-waiter');
        const l = create(await connect(), n, lease);
        const holder = await l.acquire();
        const doomed = await member();
        doomed.send({ op: 'acquire', type, name: n, permits: 1, lease });
        await subscribed(server);
        const behind = create(await connect(), n, lease).acquire();
        doomed.kill('SIGKILL');
        const killed = performance.now();
        await holder.release();
        const guard = await behind;
        expect(since(killed)).to.be.below(lease + 1000);
        await guard.release();
      });
    }

    it('a waiter keeps its place while another client of its process asks with a shorter lease: a release elsewhere hands it the lock', async () => {
      const n = name('liveness');
      const holder = await member();
      const held = await holder.request({ op: 'acquire', type: 'lock', name: n });
      const next = new RedisLock(await connect(), n).acquire(); // the default lease, 30 s
      await subscribed(server);
      expect(await new RedisLock(await connect(), n, { lease: 200 }).acquire(0)).to.equal(undefined);
      await new Promise((r) => setTimeout(r, 400)); // past the shorter lease
      holder.send({ op: 'release', guard: held.id });
      const guard = await within(next, 2000, 'the waiter got the lock');
      expect(guard.token).to.be.above(held.token as number);
      await guard.release();
    });

    it('a holder stopped past its lease: another gets the lock; on SIGCONT its signal is already aborted, its release() rejects with LeaseLostError and a fenced store refuses its write', async () => {
      const lease = 1000;
      const n = name('stop');
      const fence = `fence-${n}`;
      const holder = await member();
      const held = await holder.request({ op: 'acquire', type: 'lock', name: n, lease });
      expect(held.acquired).to.equal(true);
      // Timers of the holder's own, due after its lease ran out on its clock.
      await holder.request({ op: 'timers', guard: held.id, after: [lease + 50, lease + 300, 3 * lease] });
      expect((await holder.request({ op: 'fenced', guard: held.id, key: fence })).written).to.equal(true);
      holder.kill('SIGSTOP');
      const stopped = performance.now();
      const client = await connect();
      const guard = await new RedisLock(client, n, { lease }).acquire();
      expect(since(stopped), 'another process got the lock').to.be.below(lease + 1000);
      expect(guard.token).to.be.above(held.token as number);
      expect(await fencedWrite(client, fence, guard.token, 'new holder')).to.equal(true);
      await new Promise((r) => setTimeout(r, 3 * lease - since(stopped) + 100));
      holder.kill('SIGCONT');
      const timers = await Promise.all(
        [lease + 50, lease + 300, 3 * lease].map((after) => holder.event('timer', (m) => m.after === after)),
      );
      for (const t of timers)
        expect(t.aborted, `signal at the timer due ${String(t.after)} ms after the grant`).to.equal(true);
      const aborted = await holder.event('aborted');
      expect(aborted.error).to.equal('LeaseLostError');
      const release = await holder.request({ op: 'release', guard: held.id });
      expect(release).to.include({ released: false, error: 'LeaseLostError' });
      expect((await holder.request({ op: 'fenced', guard: held.id, key: fence })).written, 'the stale write').to.equal(
        false,
      );
      await guard.release();
    });

    for (const { type, create } of types) {
      it(`${type}: a waiter stopped past its lease as its grant arrives: the next in line gets it, and on SIGCONT the stopped one is served later, never with the grant it slept through`, async () => {
        const lease = 1000;
        const n = name('stopped-waiter');
        const client = await connect();
        const first = await create(client, n, lease).acquire();
        const sleeper = await member();
        const asked = sleeper.send({ op: 'acquire', type, name: n, permits: 1, lease });
        await subscribed(server);
        const behind = create(client, n, lease).acquire();
        sleeper.kill('SIGSTOP');
        await first.release(); // the grant goes to the stopped process, first in line
        const released = performance.now();
        const guard = await behind;
        expect(since(released), 'the next in line got it').to.be.below(lease + 1000);
        expect(guard.token).to.be.above(first.token);
        sleeper.kill('SIGCONT');
        // Held across the stopped process's wake-up: whatever it does now, it is not handed a lease.
        await new Promise((r) => setTimeout(r, lease));
        expect(guard.signal.aborted).to.equal(false);
        await guard.release();
        const late = await sleeper.answer(asked);
        expect(late.acquired).to.equal(true);
        expect(late.token, 'a token after the guard it waited behind').to.be.above(guard.token);
        await sleeper.request({ op: 'release', guard: asked });
      });
    }

    it('the subscription connections killed (CLIENT KILL TYPE pubsub) with a set() and a release in the gap: the waiters are served within 2 s', async () => {
      const n = name('pubsub');
      const other = await member();
      const held = await other.request({ op: 'acquire', type: 'lock', name: n });
      const client = await connect();
      const event = new RedisEvent(client, n);
      const waits = [event.wait(), event.wait(30_000), event.wait({ signal: new AbortController().signal })];
      const lock = new RedisLock(client, n).acquire();
      await subscribed(server);
      expect(await server.killPubsub()).to.be.at.least(1);
      const gap = performance.now();
      other.send({ op: 'set', name: n });
      other.send({ op: 'release', guard: held.id });
      expect(await Promise.all(waits)).to.deep.equal([true, true, true]);
      const guard = await lock;
      expect(since(gap)).to.be.below(2000);
      await guard.release();
      // The next round goes through the new subscription as usual.
      await other.request({ op: 'clear', name: n });
      const again = event.wait(5000);
      await subscribed(server);
      await other.request({ op: 'set', name: n });
      expect(await again).to.equal(true);
    });

    it('the server restarted without persistence while tasks wait: no crash, no unhandled rejection, timed waits end on time, untimed ones are served after', async () => {
      const n = name('restart');
      const holder = await member();
      const held = await holder.request({ op: 'acquire', type: 'lock', name: n, lease: 2000 });
      const waiter = await member();
      const untimedWait = waiter.send({ op: 'wait', name: n });
      const timedWait = waiter.send({ op: 'wait', name: n, timeout: 1500 });
      const untimedLock = waiter.send({ op: 'acquire', type: 'lock', name: n, lease: 2000 });
      const timedLock = waiter.send({ op: 'acquire', type: 'lock', name: n, lease: 2000, timeout: 1500 });
      await subscribed(server);
      await server.shutdown();
      const down = performance.now();
      const early = waiter.send({ op: 'wait', name: n, timeout: 300 });
      const earlyLock = waiter.send({ op: 'acquire', type: 'lock', name: n, timeout: 300 });
      for (const id of [early, earlyLock]) {
        const answer = await waiter.answer(id);
        expect(answer.failed, JSON.stringify(answer)).to.equal(undefined);
        endedOnTime(answer.ms as number, 300, 'a wait started while the server is down');
      }
      await new Promise((r) => setTimeout(r, 800 - since(down)));
      await server.restart();
      for (const id of [timedWait, timedLock]) {
        const answer = await waiter.answer(id);
        expect(answer.failed, JSON.stringify(answer)).to.equal(undefined);
        expect(answer.result ?? answer.acquired).to.equal(false);
        endedOnTime(answer.ms as number, 1500, 'a timed wait across the restart');
      }
      await holder.request({ op: 'release', guard: held.id });
      await holder.request({ op: 'set', name: n });
      const back = performance.now();
      expect((await waiter.answer(untimedWait)).result).to.equal(true);
      const got = await waiter.answer(untimedLock);
      expect(got.acquired, JSON.stringify(got)).to.equal(true);
      expect(since(back), 'untimed waits served once the server is back').to.be.below(5000);
      await waiter.request({ op: 'release', guard: untimedLock });
      const trouble = (m: Message) => m.event === 'unhandledRejection' || m.event === 'output';
      expect(waiter.lines.filter(trouble)).to.deep.equal([]);
      expect(holder.lines.filter(trouble)).to.deep.equal([]);
      waiter.end();
      holder.end();
      expect(await waiter.exitsWithin(5000)).to.deep.equal({ code: 0, signal: null });
      expect(await holder.exitsWithin(5000)).to.deep.equal({ code: 0, signal: null });
    });

    describe('a TCP proxy that stalls the connection', () => {
      let proxy: FaultProxy;
      beforeEach(async () => {
        proxy = await FaultProxy.start(server.port);
      });
      afterEach(async () => {
        proxy.resume();
        await proxy.stop();
      });

      it('timed waits end on time; a holder whose extension stalls past its lease aborts its signal by its lease’s end', async () => {
        const lease = 1000;
        const n = name('stall');
        const busy = name('stall-busy');
        const direct = await connect();
        const busyGuard = await new RedisLock(direct, busy).acquire();
        const behind = await member({}, proxy.port);
        const held = await behind.request({ op: 'acquire', type: 'lock', name: n, lease });
        expect(held.acquired).to.equal(true);
        const before = behind.send({ op: 'wait', name: n, timeout: 700 });
        await subscribed(server);
        proxy.stall();
        const stalled = performance.now();
        const during = [
          behind.send({ op: 'wait', name: n, timeout: 500 }),
          behind.send({ op: 'acquire', type: 'lock', name: busy, timeout: 500 }),
        ];
        for (const id of during) {
          const answer = await behind.answer(id);
          expect(answer.failed, JSON.stringify(answer)).to.equal(undefined);
          expect(answer.result ?? answer.acquired).to.equal(false);
          endedOnTime(answer.ms as number, 500, 'a wait started in the stall');
        }
        const first = await behind.answer(before);
        expect(first.result).to.equal(false);
        endedOnTime(first.ms as number, 700, 'a wait started before the stall');
        const aborted = await behind.event('aborted');
        expect(aborted.error).to.equal('LeaseLostError');
        // A timer fires a little after its time on a busy machine; the lease's end is measured from before the grant.
        expect(aborted.afterGrant as number, 'aborted by the lease’s end as the holder measures it').to.be.at.most(
          lease + 100,
        );
        // Meanwhile the server let the lease run out: a direct client gets the lock.
        const guard = await new RedisLock(direct, n, { lease }).acquire(lease + 1000);
        expect(guard, 'another process got the lock').to.not.equal(undefined);
        expect(since(stalled)).to.be.below(lease + 1000 + LATE);
        proxy.resume();
        const release = await behind.request({ op: 'release', guard: held.id });
        expect(release).to.include({ released: false, error: 'LeaseLostError' });
        await guard!.release();
        await busyGuard.release();
        behind.end();
        expect(await behind.exitsWithin(5000)).to.deep.equal({ code: 0, signal: null });
      });

      it('acquire(0) whose connection drops before its answer settles, and leaves the lock free', async () => {
        const n = name('try-drop');
        const client = await connect(proxy.port);
        const lock = new RedisLock(client, n);
        await (await lock.acquire()).release();
        proxy.stall();
        const tried = lock.acquire(0).then(
          (guard) => ({ guard }),
          (reason: unknown) => ({ reason }),
        );
        await new Promise((r) => setTimeout(r, 100));
        proxy.drop();
        proxy.resume();
        const outcome = await within(tried, 2000, 'the try settled');
        // node-redis rejects a command lost with its connection; ioredis sends it again on the new one.
        if ('reason' in outcome) expect(outcome.reason).to.be.instanceOf(Error);
        else await outcome.guard?.release();
        const free = await new RedisLock(await connect(), n).acquire(0);
        expect(free, 'the lock is free').to.not.equal(undefined);
        await free!.release();
      });

      it('a release whose connection drops before its answer: the next waiter gets the lock once the client reconnects, not at the lease’s end', async () => {
        const n = name('release-drop');
        const guard = await new RedisLock(await connect(proxy.port), n).acquire(); // the default lease: 30 s
        const next = new RedisLock(await connect(), n).acquire();
        await subscribed(server);
        proxy.stall();
        const released = guard.release().catch((error: unknown) => error);
        await new Promise((r) => setTimeout(r, 100));
        proxy.drop();
        proxy.resume();
        const error = await released;
        if (error !== undefined) expect(error, 'release() rejects with the client’s error').to.be.instanceOf(Error);
        await (await within(next, 3000, 'the next waiter got the lock')).release();
      });

      it('connections dropped by the proxy while tasks wait: the waits are served once it passes traffic again', async () => {
        const n = name('drop');
        const client = await connect(proxy.port);
        const event = new RedisEvent(client, n);
        const lockWait = new RedisLock(client, n).acquire();
        const waits = [event.wait(), event.wait(20_000)];
        await subscribed(server);
        proxy.drop();
        const direct = await connect();
        await new RedisEvent(direct, n).set();
        expect(await Promise.all(waits)).to.deep.equal([true, true]);
        const guard = await lockWait;
        await guard.release();
      });
    });
  });
}
