/**
 * The behaviour every lock promises, as `RedisLock` and `RedisSemaphore(…, 1)` keep it on a real server,
 * written once as a function of a factory and the client kind (spec/redis/redis-lock.spec.ts runs it with
 * each): grants and fencing tokens, FIFO without barging, timeouts, aborts, `lock()`, `runExclusive`,
 * `await using`, leases kept while held, bad input, and nothing left behind. Time is real: a timed wait is
 * checked to end not before its timeout and not much after it.
 */
import { expect } from 'chai';
import { TimeoutError } from '../../lib/index.js';
import { LeaseLostError, type RedisGuard, type RedisLock, type RedisSemaphore } from '../../lib/redis/index.js';
import { badWaitArguments } from '../event-suite.js';
import { abortListeners, recorder, track } from '../helpers.js';
import { type AnyClient, type ClientKind, closeClient, delayNextScript } from './clients.js';
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
import { within } from './fleet.js';
import { eventually } from './server.js';

export interface LockFactory {
  /** How the suite names it: `RedisLock`, `RedisSemaphore(1)`. */
  label: string;
  create(client: AnyClient, name: string, options?: { lease?: number }): RedisLock | RedisSemaphore;
}

/** Resolves with how a promise settled, without throwing. */
const outcome = <T>(p: Promise<T>): Promise<{ value?: T; reason?: unknown }> =>
  p.then(
    (value) => ({ value }),
    (reason: unknown) => ({ reason }),
  );

/** Until `log` holds `count` entries, for at most `within` ms. */
async function logged(log: string[], count: number, within = 2000): Promise<void> {
  const end = performance.now() + within;
  while (log.length < count) {
    if (performance.now() > end) throw new Error(`only ${log.length} of ${count} outcomes: ${log.join(', ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function redisLockSuite(kind: ClientKind, factory: LockFactory): void {
  const { label, create } = factory;
  describe(`${label} (${kind}): the behaviour every lock promises`, () => {
    const redis = useRedis(kind);

    describe('grants and tokens', () => {
      it('acquire() on a free lock resolves a guard with a whole-number token and a live signal', async () => {
        const timers = await timerBaseline();
        const l = create(await redis.connect(), redis.name());
        const guard = await l.acquire();
        expect(Number.isSafeInteger(guard.token), `token ${guard.token}`).to.equal(true);
        expect(guard.signal).to.be.instanceOf(AbortSignal);
        expect(guard.signal.aborted).to.equal(false);
        expect(await l.acquire(0), 'a held lock is not granted again').to.equal(undefined);
        await guard.release();
        expect(guard.signal.aborted, 'a released guard’s signal does not abort').to.equal(false);
        const again = await l.acquire(0);
        expect(again).to.not.equal(undefined);
        await again!.release();
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('two clients taking the lock in turns, each again as soon as it released, open one subscriber connection each, and none is left once both are done', async () => {
        const name = redis.name();
        const clients = [await redis.connect(), await redis.connect()];
        const info = async (field: string) =>
          Number(new RegExp(`${field}:(\\d+)`).exec(await redis.server.cli('INFO', 'everything'))![1]);
        const connectedBefore = await info('connected_clients');
        const openedBefore = await info('total_connections_received');
        const granted: number[] = [];
        await Promise.all(
          clients.map(async (client) => {
            const l = create(client, name);
            for (let turn = 0; turn < 20; turn++) {
              const guard = await l.acquire();
              granted.push(guard.token);
              await guard.release();
            }
          }),
        );
        expect(granted).to.have.length(40);
        // Two subscriber connections, and the one that reads the count.
        expect((await info('total_connections_received')) - openedBefore, 'connections opened').to.be.at.most(3);
        await eventually(
          async () => (await info('connected_clients')) === connectedBefore,
          SETTLE,
          'no connection of the library left open',
        );
        await noSubscriptions(redis.server);
      });

      it('tokens increase strictly with every grant of the name, from any client', async () => {
        const name = redis.name();
        const a = create(await redis.connect(), name);
        const b = create(await redis.connect(), name);
        const tokens: number[] = [];
        for (let i = 0; i < 6; i++) {
          const guard = await (i % 2 === 0 ? a : b).acquire();
          tokens.push(guard.token);
          await guard.release();
        }
        for (let i = 1; i < tokens.length; i++) expect(tokens[i], tokens.join(' ')).to.be.above(tokens[i - 1]!);
      });

      it('a grant to one client of a process holds while another client of the same process used the name', async () => {
        const name = redis.name();
        const one = create(await redis.connect(), name);
        const two = create(await redis.connect(), name);
        await (await one.acquire()).release();
        const guard = await two.acquire();
        expect(await one.acquire(0), 'the lock is held').to.equal(undefined);
        expect(await create(await redis.connect(), name).acquire(0), 'the lock is held').to.equal(undefined);
        expect((await outcome(guard.release())).reason, 'release() of a lock it held').to.equal(undefined);
      });

      it('locks of different names are independent', async () => {
        const client = await redis.connect();
        const a = await create(client, redis.name()).acquire();
        const b = await create(client, redis.name()).acquire(0);
        expect(b).to.not.equal(undefined);
        await Promise.all([a.release(), b!.release()]);
      });

      it('guard.release() a second time does nothing, even once another holds the lock', async () => {
        const name = redis.name();
        const l = create(await redis.connect(), name);
        const first = await l.acquire();
        await first.release();
        const second = await create(await redis.connect(), name).acquire();
        await first.release();
        expect(await l.acquire(0), 'the second holder still holds it').to.equal(undefined);
        await second.release();
        await second.release();
      });

      it('a holder keeps the lock past its lease while its process lives (the lease is extended)', async () => {
        const name = redis.name();
        const guard = await create(await redis.connect(), name, { lease: 300 }).acquire();
        const other = create(await redis.connect(), name, { lease: 300 });
        const start = performance.now();
        expect(await other.acquire(1000), 'nobody else gets it in three leases').to.equal(undefined);
        expect(since(start)).to.be.at.least(999);
        expect(guard.signal.aborted).to.equal(false);
        await guard.release();
        const next = await other.acquire(1000);
        expect(next).to.not.equal(undefined);
        await next!.release();
      });
    });

    describe('FIFO without barging', () => {
      it('release() hands the lock to queued waiters in the order they asked', async () => {
        const timers = await timerBaseline();
        const name = redis.name();
        const holder = await create(await redis.connect(), name).acquire();
        const l = create(await redis.connect(), name);
        const { log, note } = recorder();
        const guards: RedisGuard[] = [];
        const take = (label: string, p: Promise<RedisGuard | undefined>) =>
          note(
            label,
            p.then((g) => {
              guards.push(g!);
              return g!.token > 0;
            }),
          );
        take('a', l.acquire());
        take('b', l.acquire(10_000));
        take('c', l.acquire({ signal: new AbortController().signal }));
        take('d', l.acquire({ timeout: 10_000, signal: new AbortController().signal }));
        await subscribed(redis.server, name);
        expect(log).to.deep.equal([]);
        await holder.release();
        for (const expected of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]) {
          await logged(log, expected.length);
          expect(log).to.deep.equal(expected.map((x) => `${x}:true`));
          await guards.at(-1)!.release();
        }
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('a lock released with a waiter queued goes to that waiter, not to a later acquire(0)', async () => {
        const name = redis.name();
        const l = create(await redis.connect(), name);
        const holder = await l.acquire();
        const waiter = l.acquire();
        await subscribed(redis.server, name);
        await holder.release();
        const barger = create(await redis.connect(), name);
        const late = await barger.acquire(0);
        const got = await waiter;
        expect(late, 'acquire(0) right after the release does not barge past the queued waiter').to.equal(undefined);
        await got.release();
      });

      it('a later acquire() queues behind the waiters already there', async () => {
        const name = redis.name();
        const l = create(await redis.connect(), name);
        const holder = await l.acquire();
        const order: string[] = [];
        const first = l.acquire();
        void first.then(() => order.push('first'));
        await subscribed(redis.server, name);
        await holder.release();
        const second = l.acquire();
        void second.then(() => order.push('second'));
        const g = await first;
        expect(order).to.deep.equal(['first']);
        await g.release();
        await (await second).release();
        expect(order).to.deep.equal(['first', 'second']);
      });
    });

    describe('timeouts', () => {
      it('acquire(0) and negative timeouts take only a free lock, at once, with no timer', async () => {
        const timers = await timerBaseline();
        const l = create(await redis.connect(), redis.name());
        const guard = await l.acquire(0);
        expect(guard).to.not.equal(undefined);
        expect(await Promise.all([l.acquire(0), l.acquire(-1), l.acquire({ timeout: -Infinity })])).to.deep.equal([
          undefined,
          undefined,
          undefined,
        ]);
        await guard!.release();
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('acquire(0) whose grant is seen after its lease ran out gives it back and resolves undefined, never waiting in line', async () => {
        const name = redis.name();
        const client = await redis.connect();
        const other = create(await redis.connect(), name);
        await (await create(client, name).acquire()).release(); // the scripts are loaded
        let behind: Promise<RedisGuard> | undefined;
        // The try's answer comes 150 ms late (a lease of 50 ms): meanwhile another joins the line.
        delayNextScript(client, async () => {
          behind = other.acquire();
          await new Promise((r) => setTimeout(r, 150));
        });
        const tried = await within(create(client, name, { lease: 50 }).acquire(0), 1000, 'the try settled');
        expect(tried).to.equal(undefined);
        const guard = await within(behind!, 2000, 'the waiter behind got the lock');
        await guard.release();
        const free = await create(client, name).acquire(0);
        expect(free, 'nothing of the try is left in line').to.not.equal(undefined);
        await free!.release();
        await noSubscriptions(redis.server);
      });

      it('acquire(ms) resolves undefined when the lock is not granted in time, and leaves the line', async () => {
        const timers = await timerBaseline();
        const name = redis.name();
        const holder = await create(await redis.connect(), name).acquire();
        const l = create(await redis.connect(), name);
        const start = performance.now();
        const timed = l.acquire(200).then((g) => [g, since(start)] as const);
        const options = l.acquire({ timeout: 200, signal: new AbortController().signal });
        const nextP = l.acquire();
        const next = track(nextP);
        const [result, ms] = await timed;
        expect(result).to.equal(undefined);
        endedOnTime(ms, 200);
        expect(await options).to.equal(undefined);
        expect(next.state).to.equal('pending');
        await holder.release();
        await (await nextP).release();
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('lock(ms) rejects with TimeoutError when not granted in time; lock() resolves a guard', async () => {
        const name = redis.name();
        const l = create(await redis.connect(), name);
        const guard = await l.lock();
        const start = performance.now();
        const error = (await outcome(create(await redis.connect(), name).lock(150))).reason;
        endedOnTime(since(start), 150);
        expect(error).to.be.instanceOf(TimeoutError);
        expect((await outcome(l.lock({ timeout: 50 }))).reason).to.be.instanceOf(TimeoutError);
        await guard.release();
        await (await l.lock(1000)).release();
      });

      it('a waiter that gives up as the lock is granted to it passes the grant on: nobody is stranded', async () => {
        // Default lease (30 s): a grant lost between a release and a waiter's timeout would strand the
        // next waiter for the rest of that lease; it must get the lock at once instead.
        const name = redis.name();
        const a = create(await redis.connect(), name);
        const b = create(await redis.connect(), name);
        for (let round = 0; round < 12; round++) {
          const holder = await a.acquire();
          const giveUp = 60 + (round % 4) * 10;
          const timed = b.acquire(giveUp);
          const next = a.acquire(5000);
          await new Promise((r) => setTimeout(r, giveUp - 2 + (round % 5)));
          await holder.release();
          const got = await timed;
          if (got !== undefined) await got.release();
          const start = performance.now();
          const after = await next;
          expect(after, `round ${round}: the waiter behind was stranded`).to.not.equal(undefined);
          expect(since(start), `round ${round}`).to.be.below(2000);
          await after!.release();
        }
      });
    });

    describe('abort', () => {
      it('acquire() aborted while queued rejects with signal.reason and the lock passes to the next waiter', async () => {
        const timers = await timerBaseline();
        const name = redis.name();
        const holder = await create(await redis.connect(), name).acquire();
        const l = create(await redis.connect(), name);
        const ac = new AbortController();
        const aborted = outcome(l.acquire({ signal: ac.signal, timeout: 10_000 }));
        const abortedUntimed = outcome(l.acquire({ signal: ac.signal }));
        const next = l.acquire();
        await subscribed(redis.server, name);
        const reason = new Error('stop');
        ac.abort(reason);
        expect((await aborted).reason).to.equal(reason);
        expect((await abortedUntimed).reason).to.equal(reason);
        expect(abortListeners(ac.signal)).to.equal(0);
        await holder.release();
        await (await next).release();
        await timers.check();
        await noSubscriptions(redis.server);
      });

      it('a waiter aborted in the same tick as the holder’s release(): the release resolves and frees the lock', async () => {
        const l = create(await redis.connect(), redis.name());
        const holder = await l.acquire();
        const ac = new AbortController();
        const aborted = outcome(l.acquire({ signal: ac.signal }));
        ac.abort();
        const released = await outcome(holder.release());
        expect(released.reason, 'release() of a lock it held').to.equal(undefined);
        expect((await aborted).reason).to.be.instanceOf(DOMException);
        const next = await l.acquire(0);
        expect(next, 'the lock is free').to.not.equal(undefined);
        await next!.release();
      });

      it('acquire() with an already aborted signal rejects without taking a free lock', async () => {
        const l = create(await redis.connect(), redis.name());
        const reason = new Error('already');
        expect((await outcome(l.acquire({ signal: AbortSignal.abort(reason) }))).reason).to.equal(reason);
        expect((await outcome(l.lock({ signal: AbortSignal.abort(reason), timeout: 0 }))).reason).to.equal(reason);
        const guard = await l.acquire(0);
        expect(guard, 'the lock stayed free').to.not.equal(undefined);
        await guard!.release();
      });
    });

    describe('runExclusive and await using', () => {
      it('runExclusive() runs fn holding the lock, passes it the guard, and resolves with its result', async () => {
        const name = redis.name();
        const l = create(await redis.connect(), name);
        const other = create(await redis.connect(), name);
        const result = await l.runExclusive(async (guard) => {
          expect(guard.signal.aborted).to.equal(false);
          expect(await other.acquire(0), 'held while fn runs').to.equal(undefined);
          return guard.token;
        });
        expect(result).to.be.a('number');
        const after = await other.acquire(0);
        expect(after, 'released after fn').to.not.equal(undefined);
        await after!.release();
      });

      it('runExclusive() releases the lock when fn throws, and rejects with what it threw', async () => {
        const l = create(await redis.connect(), redis.name());
        const error = new Error('inside');
        expect((await outcome(l.runExclusive(() => Promise.reject(error)))).reason).to.equal(error);
        expect(
          (
            await outcome(
              l.runExclusive(() => {
                throw error;
              }),
            )
          ).reason,
        ).to.equal(error);
        const guard = await l.acquire(0);
        expect(guard).to.not.equal(undefined);
        await guard!.release();
      });

      it('runExclusive(fn, ms) rejects with TimeoutError without calling fn when not granted in time', async () => {
        const name = redis.name();
        const holder = await create(await redis.connect(), name).acquire();
        let called = false;
        const l = create(await redis.connect(), name);
        const r = await outcome(l.runExclusive(() => (called = true), 100));
        expect(r.reason).to.be.instanceOf(TimeoutError);
        expect(called).to.equal(false);
        await holder.release();
      });

      it('await using releases the guard at the end of its block, thrown out of or not', async () => {
        const l = create(await redis.connect(), redis.name());
        {
          await using guard = await l.lock();
          expect(guard.token).to.be.a('number');
          expect(await l.acquire(0)).to.equal(undefined);
        }
        const g = await l.acquire(0);
        expect(g).to.not.equal(undefined);
        await g!.release();
        try {
          await using _guard = await l.lock();
          throw new Error('leave');
        } catch {
          // the guard is released before this runs
        }
        const h = await l.acquire(0);
        expect(h).to.not.equal(undefined);
        await h!.release();
      });
    });

    describe('errors', () => {
      it(`new ${label}() with a bad name, client or lease throws a TypeError or RangeError naming it`, async () => {
        const client = await redis.connect();
        for (const name of ['', undefined, null, 5, {}]) {
          expect(() => create(client, name as string), `name ${String(name)}`).to.throw(TypeError, /name/);
        }
        for (const bad of [undefined, null, {}, 'redis://127.0.0.1', 6379]) {
          expect(() => create(bad, 'n'), `client ${String(bad)}`).to.throw(TypeError, /client/);
        }
        for (const lease of [0, 0.5, -1, NaN, Infinity]) {
          expect(() => create(client, 'n', { lease }), `lease ${lease}`).to.throw(RangeError, /lease/);
        }
        // Finite, and 1 or more, but beyond what a timer can count: the message says the bound.
        expect(() => create(client, 'n', { lease: 2 ** 31 }), 'lease 2 ** 31').to.throw(
          RangeError,
          /options\.lease .*2147483647.*got 2147483648/,
        );
        for (const lease of ['100', null, {}]) {
          expect(() => create(client, 'n', { lease: lease as number }), `lease ${String(lease)}`).to.throw(
            TypeError,
            /lease/,
          );
        }
      });

      for (const [what, arg, type, message] of badWaitArguments) {
        it(`acquire() and lock() reject ${what} with a ${type.name}, taking nothing`, async () => {
          const l = create(await redis.connect(), redis.name());
          for (const call of [() => l.acquire(arg as number), () => l.lock(arg as number)]) {
            const { reason } = await outcome(call());
            expect(reason).to.be.instanceOf(type);
            expect((reason as Error).message).to.match(message);
          }
          const guard = await l.acquire(0);
          expect(guard, 'the lock stayed free').to.not.equal(undefined);
          await guard!.release();
        });
      }

      it('a call through a closed client rejects with the client’s error and leaves nothing queued or held', async () => {
        const name = redis.name();
        const closed = await redis.connect();
        const l = create(closed, name);
        await closeClient(closed);
        const { reason } = await outcome(l.acquire(1000));
        expect(reason).to.be.instanceOf(Error);
        expect(reason).to.not.be.instanceOf(TimeoutError);
        const guard = await create(await redis.connect(), name).acquire(0);
        expect(guard, 'nobody holds or waits for the lock').to.not.equal(undefined);
        await guard!.release();
      });

      it('a command error (the name’s keys hold another type) rejects with the client’s error, leaving nothing queued or held', async () => {
        const name = redis.name();
        const l = create(await redis.connect(), name);
        await (await l.acquire()).release();
        const keys = [...(await redis.server.keys()).keys()].filter((k) => k.includes(name));
        for (const key of keys) await redis.server.cli('DEL', key);
        for (const key of keys) await redis.server.cli('RPUSH', key, 'not a lock');
        for (const call of [() => l.acquire(), () => l.acquire(1000), () => l.acquire(0)]) {
          const { reason } = await outcome(call());
          expect(reason, String(call)).to.be.instanceOf(Error);
          expect((reason as Error).message).to.match(/WRONGTYPE/);
        }
        for (const key of keys) await redis.server.cli('DEL', key);
        const guard = await l.acquire(0);
        expect(guard, 'nothing left queued or held').to.not.equal(undefined);
        await guard!.release();
        await noSubscriptions(redis.server);
      });

      it('a guard whose lease was lost (its keys gone from the server) aborts its signal with LeaseLostError', async () => {
        const name = redis.name();
        const guard = await create(await redis.connect(), name, { lease: 300 }).acquire();
        await redis.server.cli('FLUSHALL');
        const reason = await new Promise((resolve) => {
          if (guard.signal.aborted) resolve(guard.signal.reason);
          guard.signal.addEventListener('abort', () => resolve(guard.signal.reason));
        });
        expect(reason).to.be.instanceOf(LeaseLostError);
        expect((await outcome(guard.release())).reason).to.be.instanceOf(LeaseLostError);
      });
    });

    describe('nothing left behind', () => {
      it('keys without an expiry do not grow with waiters and grants; every other key expires', async () => {
        const name = redis.name();
        const l = create(await redis.connect(), name, { lease: 1000 });
        await (await l.acquire()).release();
        const persistent = async () =>
          [...(await redis.server.keys())].filter(([k, ttl]) => k.includes(name) && ttl === -1).map(([k]) => k);
        const first = await persistent();
        const holder = await l.acquire();
        const ac = new AbortController();
        const waits = [
          ...Array.from({ length: 10 }, () => l.acquire(50)),
          ...Array.from({ length: 10 }, () => l.acquire({ signal: ac.signal }).catch(() => undefined)),
          ...Array.from({ length: 5 }, () => l.acquire()),
        ];
        await subscribed(redis.server, name);
        const during = await redis.server.keys();
        for (const [key, ttl] of during) {
          if (!key.includes(name) || first.includes(key)) continue;
          expect(ttl, `key ${key} has no expiry`).to.be.above(0);
        }
        ac.abort();
        await holder.release();
        for (const w of waits) await (await w)?.release();
        expect(await persistent()).to.have.members(first);
        await noSubscriptions(redis.server);
      });

      it('calls rejected at once (a bad argument, an aborted signal) keep no memory for their names', async () => {
        const client = await redis.connect();
        const name = redis.name();
        const signal = AbortSignal.abort();
        const calls = async (from: number, count: number) => {
          for (let i = from; i < from + count; i++) {
            const l = create(client, `${name}-${i}`);
            await l.acquire({ signal }).catch(() => undefined);
            await l.lock('soon' as unknown as number).catch(() => undefined);
          }
        };
        await calls(0, 500);
        const before = heapAfterGc();
        await calls(500, 5000);
        expect(heapAfterGc() - before, 'bytes kept after calls on 5,000 names').to.be.below(1_000_000);
      });

      it('a process whose waits have settled and whose client is closed has no timer left', async () => {
        const timers = await timerBaseline();
        const client = await redis.connect();
        const name = redis.name();
        const l = create(client, name);
        const holder = await l.acquire();
        const ac = new AbortController();
        const waits = [l.acquire(30), l.acquire({ signal: ac.signal }).catch(() => undefined), l.acquire()];
        ac.abort();
        await holder.release();
        for (const w of waits) await (await w)?.release();
        await closeClient(client);
        await timers.check();
        await noSubscriptions(redis.server);
      });
    });
  });
}
