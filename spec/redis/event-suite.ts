/**
 * The behaviour every event promises, as `RedisEvent` keeps it on a real server, written once as a function
 * of the client kind (spec/redis/redis-event.spec.ts runs it with each). The core's event suite runs on a
 * fake clock; here time is real, so a timed wait is checked to end not before its timeout and not much
 * after it. Each test ends with no timer and no subscription left.
 */
import { expect } from 'chai';
import { RedisEvent } from '../../lib/redis/index.js';
import { badWaitArguments } from '../event-suite.js';
import { abortListeners, recorder, track } from '../helpers.js';
import type { ClientKind } from './clients.js';
import {
  SETTLE,
  endedOnTime,
  heapAfterGc,
  noSubscriptions,
  since,
  subscribed,
  timerBaseline,
  useRedis,
} from './context.js';
import { eventually } from './server.js';

/** Resolves once `count` waits have settled (recorded by a recorder's log). */
async function settled(log: string[], count: number, within = 2000): Promise<void> {
  const end = performance.now() + within;
  while (log.length < count) {
    if (performance.now() > end) throw new Error(`only ${log.length} of ${count} waits settled: ${log.join(', ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function redisEventSuite(kind: ClientKind): void {
  describe(`RedisEvent (${kind}): the behaviour every event promises`, () => {
    const redis = useRedis(kind);

    describe('set, clear, isSet', () => {
      it('a new event is not set; set() sets it for every process and clear() clears it', async () => {
        const name = redis.name();
        const a = new RedisEvent(await redis.connect(), name);
        const b = new RedisEvent(await redis.connect(), name);
        expect(await a.isSet()).to.equal(false);
        await a.set();
        expect([await a.isSet(), await b.isSet()]).to.deep.equal([true, true]);
        await a.set();
        expect(await b.isSet()).to.equal(true);
        await b.clear();
        expect([await a.isSet(), await b.isSet()]).to.deep.equal([false, false]);
        await b.clear();
        expect(await a.isSet()).to.equal(false);
      });

      it('events of different names are independent', async () => {
        const client = await redis.connect();
        const a = new RedisEvent(client, redis.name());
        const b = new RedisEvent(client, redis.name());
        await a.set();
        expect(await b.isSet()).to.equal(false);
        expect(await b.wait(50)).to.equal(false);
      });
    });

    describe('wait', () => {
      it('wait() on a set event resolves true, with or without a timeout or signal', async () => {
        const timers = await timerBaseline();
        const e = new RedisEvent(await redis.connect(), redis.name());
        await e.set();
        const results = await Promise.all([
          e.wait(),
          e.wait(1000),
          e.wait({ timeout: 2_000 }), // a round trip: a few ms, or more on a loaded machine
          e.wait({ signal: new AbortController().signal }),
          e.wait({}),
        ]);
        expect(results).to.deep.equal([true, true, true, true, true]);
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('set() in another process releases every pending waiter with true, in the order they called wait()', async () => {
        const timers = await timerBaseline();
        const name = redis.name();
        const e = new RedisEvent(await redis.connect(), name);
        const other = new RedisEvent(await redis.connect(), name);
        const { log, note } = recorder();
        note('a', e.wait());
        note('b', e.wait(10_000));
        note('c', e.wait({ signal: new AbortController().signal }));
        note('d', e.wait({ timeout: 10_000, signal: new AbortController().signal }));
        note('e', e.wait({}));
        await subscribed(redis.server, name);
        expect(log).to.deep.equal([]);
        await other.set();
        await settled(log, 5);
        expect(log).to.deep.equal(['a:true', 'b:true', 'c:true', 'd:true', 'e:true']);
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('set() on the same object releases its own waiters', async () => {
        const e = new RedisEvent(await redis.connect(), redis.name());
        const p = e.wait();
        const q = e.wait(10_000);
        await e.set();
        expect(await Promise.all([p, q])).to.deep.equal([true, true]);
      });

      it('a waiter pending when set() ran resolves true even if clear() follows at once', async () => {
        const name = redis.name();
        const e = new RedisEvent(await redis.connect(), name);
        const other = new RedisEvent(await redis.connect(), name);
        const before = e.wait();
        const timed = e.wait(10_000);
        await subscribed(redis.server, name);
        await other.set();
        await other.clear();
        const start = performance.now();
        const after = e.wait(300);
        expect(await Promise.all([before, timed])).to.deep.equal([true, true]);
        expect(await after, 'a wait that starts after clear() waits for the next set()').to.equal(false);
        endedOnTime(since(start), 300);
        await noSubscriptions(redis.server);
      });

      it('wait() without a timeout keeps waiting and is released by a later set()', async () => {
        const name = redis.name();
        const e = new RedisEvent(await redis.connect(), name);
        const waits = [e.wait(), e.wait(Infinity), e.wait({ timeout: undefined })].map(track);
        expect(await e.wait(500)).to.equal(false);
        expect(waits.map((w) => w.state)).to.deep.equal(['pending', 'pending', 'pending']);
        await new RedisEvent(await redis.connect(), name).set();
        expect(await e.wait()).to.equal(true);
        await new Promise((resolve) => setImmediate(resolve));
        expect(waits.map((w) => w.value)).to.deep.equal([true, true, true]);
        await noSubscriptions(redis.server);
      });
    });

    describe('timeouts', () => {
      it('wait(ms) and wait({ timeout }) resolve false when ms pass first, not early, and leave no timer', async () => {
        const timers = await timerBaseline();
        const e = new RedisEvent(await redis.connect(), redis.name());
        const start = performance.now();
        const waits = [
          e.wait(200).then((v) => [v, since(start)] as const),
          e.wait({ timeout: 200 }).then((v) => [v, since(start)] as const),
          e.wait({ timeout: 200, signal: new AbortController().signal }).then((v) => [v, since(start)] as const),
        ];
        for (const [value, ms] of await Promise.all(waits)) {
          expect(value).to.equal(false);
          endedOnTime(ms, 200);
        }
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('waiters with different timeouts time out each at its own deadline, and set() releases the rest', async () => {
        const name = redis.name();
        const e = new RedisEvent(await redis.connect(), name);
        const start = performance.now();
        const { log, note } = recorder();
        note('300', e.wait(300));
        note('100', e.wait(100));
        note('200', e.wait({ timeout: 200 }));
        note('none', e.wait());
        note('10s', e.wait(10_000));
        await settled(log, 3);
        endedOnTime(since(start), 300, 'the last timed wait');
        expect(log).to.deep.equal(['100:false', '200:false', '300:false']);
        await new RedisEvent(await redis.connect(), name).set();
        await settled(log, 5);
        expect(log.slice(3)).to.deep.equal(['none:true', '10s:true']);
      });

      it('wait(0) and negative timeouts answer with the flag after one round trip, with no timer', async () => {
        const timers = await timerBaseline();
        const e = new RedisEvent(await redis.connect(), redis.name());
        expect(await Promise.all([e.wait(0), e.wait(-1), e.wait(-Infinity), e.wait({ timeout: 0 })])).to.deep.equal([
          false,
          false,
          false,
          false,
        ]);
        await e.set();
        expect(await Promise.all([e.wait(0), e.wait(-5)])).to.deep.equal([true, true]);
        await timers.check();
        await noSubscriptions(redis.server);
      });
    });

    describe('abort', () => {
      it('wait() with an already aborted signal rejects with signal.reason, set or not', async () => {
        const e = new RedisEvent(await redis.connect(), redis.name());
        const reason = new Error('already');
        const signal = AbortSignal.abort(reason);
        const results = [e.wait({ signal }), e.wait({ signal, timeout: 0 }), e.wait({ signal, timeout: 100 })].map(
          (p) =>
            p.then(
              () => 'resolved',
              (r: unknown) => r,
            ),
        );
        await e.set();
        const onSet = await e.wait({ signal }).catch((r: unknown) => r);
        expect(await Promise.all(results)).to.deep.equal([reason, reason, reason]);
        expect(onSet).to.equal(reason);
        expect(abortListeners(signal)).to.equal(0);
      });

      it('wait() aborted while waiting rejects with the same reason object; other waiters keep waiting', async () => {
        const timers = await timerBaseline();
        const name = redis.name();
        const e = new RedisEvent(await redis.connect(), name);
        const ac = new AbortController();
        const p = e.wait({ signal: ac.signal }).catch((r: unknown) => r);
        const q = e.wait({ signal: ac.signal, timeout: 10_000 }).catch((r: unknown) => r);
        const other = track(e.wait());
        expect(await e.wait(0)).to.equal(false);
        const reason = { why: 'shutdown' };
        ac.abort(reason);
        expect(await p).to.equal(reason);
        expect(await q).to.equal(reason);
        expect(abortListeners(ac.signal)).to.equal(0);
        expect(other.state).to.equal('pending');
        await new RedisEvent(await redis.connect(), name).set();
        expect(await e.wait()).to.equal(true);
        await new Promise((r) => setImmediate(r));
        expect(other).to.deep.equal({ state: 'fulfilled', value: true });
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('aborting with no reason rejects with the signal’s AbortError', async () => {
        const e = new RedisEvent(await redis.connect(), redis.name());
        const ac = new AbortController();
        const p = e.wait({ signal: ac.signal }).catch((r: unknown) => r);
        ac.abort();
        const reason = await p;
        expect(reason).to.be.instanceOf(DOMException);
        expect(reason).to.equal(ac.signal.reason);
      });

      it('aborting after the wait settled does nothing', async () => {
        const e = new RedisEvent(await redis.connect(), redis.name());
        const ac = new AbortController();
        expect(await e.wait({ signal: ac.signal, timeout: 20 })).to.equal(false);
        await e.set();
        expect(await e.wait({ signal: ac.signal })).to.equal(true);
        expect(abortListeners(ac.signal)).to.equal(0);
        ac.abort();
      });
    });

    describe('connections', () => {
      it('one subscription connection per client serves all its waiters, of every name, and closes once none waits', async () => {
        const client = await redis.connect();
        const names = [redis.name(), redis.name(), redis.name()];
        const waits = names.flatMap((name) => {
          const e = new RedisEvent(client, name);
          return Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? e.wait() : e.wait(10_000)));
        });
        await subscribed(redis.server);
        expect(await redis.server.pubsubClients()).to.equal(1);
        const other = await redis.connect();
        for (const name of names) await new RedisEvent(other, name).set();
        expect(new Set(await Promise.all(waits))).to.deep.equal(new Set([true]));
        await noSubscriptions(redis.server);
        await eventually(async () => (await redis.server.pubsubClients()) === 0, SETTLE, 'no subscription connection');
      });

      it('a command error (the event’s key holds another type) rejects the call with the client’s error', async () => {
        const name = redis.name();
        const e = new RedisEvent(await redis.connect(), name);
        await e.set();
        const keys = [...(await redis.server.keys()).keys()].filter((k) => k.includes(name));
        expect(keys).to.not.deep.equal([]);
        for (const key of keys) await redis.server.cli('DEL', key);
        for (const key of keys) await redis.server.cli('RPUSH', key, 'not an event');
        for (const call of [() => e.wait(), () => e.wait(1000), () => e.isSet(), () => e.set()]) {
          const error = await call().then(
            () => undefined,
            (r: unknown) => r,
          );
          expect(error, String(call)).to.be.instanceOf(Error);
          expect((error as Error).message).to.match(/WRONGTYPE/);
        }
        for (const key of keys) await redis.server.cli('DEL', key);
        await noSubscriptions(redis.server);
      });
    });

    describe('bad input', () => {
      it('waits rejected at once (a bad argument, an aborted signal) keep no memory for their names', async () => {
        const client = await redis.connect();
        const name = redis.name();
        const signal = AbortSignal.abort();
        const calls = async (from: number, count: number) => {
          for (let i = from; i < from + count; i++) {
            const e = new RedisEvent(client, `${name}-${i}`);
            await e.wait({ signal }).catch(() => undefined);
            await e.wait('soon' as unknown as number).catch(() => undefined);
          }
        };
        await calls(0, 500);
        const before = heapAfterGc();
        await calls(500, 5000);
        expect(heapAfterGc() - before, 'bytes kept after waits on 5,000 names').to.be.below(1_000_000);
      });

      it('new RedisEvent() with a name that is not a non-empty string throws a TypeError naming it', async () => {
        const client = await redis.connect();
        for (const name of ['', undefined, null, 5, {}, Symbol('n')]) {
          expect(() => new RedisEvent(client, name as string), String(name?.toString())).to.throw(TypeError, /name/);
        }
      });

      it('new RedisEvent() with anything but a node-redis or ioredis client throws a TypeError naming it', () => {
        for (const client of [undefined, null, {}, 'redis://127.0.0.1', 6379, { get() {}, set() {} }]) {
          expect(() => new RedisEvent(client, 'name'), String(client)).to.throw(TypeError, /client/);
        }
      });

      for (const [label, arg, type, message] of badWaitArguments) {
        it(`wait() rejects ${label} with a ${type.name}`, async () => {
          const e = new RedisEvent(await redis.connect(), redis.name());
          const error = await e.wait(arg as number).then(
            () => undefined,
            (r: unknown) => r,
          );
          expect(error).to.be.instanceOf(type);
          expect((error as Error).message).to.match(message);
        });
      }
    });
  });
}
