/**
 * The behaviour every lock promises, written once as a function of a factory and run against `Lock`,
 * `Semaphore(1)`, `BoundedSemaphore(1)` and a `Condition` (as the lock it wraps): acquire / release /
 * locked, timeouts, aborts, FIFO hand-off without barging, `runExclusive`, `lock()` guards, bad
 * arguments, and nothing left behind. The fake clock is installed before each test and removed after it;
 * the teardown fails a test that left a timer pending.
 *
 * What differs between implementations stays in their own specs: what `release()` of a free lock does
 * (`Lock` throws, a `Semaphore` adds a permit), and `util.inspect`.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { type Guard, TimeoutError, type WaitOptions } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { abortListeners, flush, recorder, settle, track, waiterCount, withFakeClock } from './helpers.js';

/** What the suite calls on a lock. */
export interface LockLike {
  locked(): boolean;
  acquire(): Promise<true>;
  acquire(timeout: number): Promise<boolean>;
  acquire(options: WaitOptions): Promise<boolean>;
  release(): void;
  lock(options?: number | WaitOptions): Promise<Guard>;
  /** Optional: the `tryAcquire` / `tryLock` tests run only where there are. */
  tryAcquire?(): boolean;
  tryLock?(): Guard | undefined;
  /** Optional: the `runExclusive` tests run only where there is one. */
  runExclusive?<T>(fn: () => T | PromiseLike<T>, options?: number | WaitOptions): Promise<T>;
}

/** A new, free lock, and how to see its queue. */
export interface LockUnderTest {
  lock: LockLike;
  /** How many tasks are queued to acquire it now (not counting the holder). */
  waiters(): number;
  /** The class's `from(value)`, for a shared lock: the tests of a lock rebuilt from its clone run. */
  from?: (value: unknown) => LockLike;
}

/** The factory for a lock whose `util.inspect` shows its own queue as `waiters: N`. */
export function inspected(create: () => LockLike): () => LockUnderTest {
  return () => {
    const lock = create();
    return { lock, waiters: () => waiterCount(lock) };
  };
}

export function lockSuite(name: string, create: () => LockUnderTest): void {
  describe(`${name}: the behaviour every lock promises`, () => {
    let clock!: sinon.SinonFakeTimers;
    withFakeClock((c) => (clock = c));

    describe('acquire and release', () => {
      it(`${name}: a new lock is free, acquire() takes it at once and release() frees it`, async () => {
        const { lock } = create();
        expect(lock.locked()).to.equal(false);
        const p = lock.acquire();
        expect(lock.locked()).to.equal(true);
        expect(await p).to.equal(true);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}.release() hands the lock to queued waiters in the order they asked`, async () => {
        const { lock, waiters } = create();
        await lock.acquire();
        const { log, note } = recorder();
        note('a', lock.acquire());
        note('b', lock.acquire(1000));
        note('c', lock.acquire({ signal: new AbortController().signal }));
        note('d', lock.acquire({ timeout: 500, signal: new AbortController().signal }));
        expect(waiters()).to.equal(4);
        await flush();
        expect(log).to.deep.equal([]);
        for (const expected of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]) {
          lock.release();
          await flush();
          expect(log).to.deep.equal(expected.map((l) => `${l}:true`));
          expect(lock.locked()).to.equal(true);
        }
        expect(waiters()).to.equal(0);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}.acquire() never barges in ahead of a queued waiter, even while the hand-off is in flight`, async () => {
        const { lock } = create();
        await lock.acquire();
        const { log, note } = recorder();
        note('first', lock.acquire());
        lock.release(); // handed to 'first', whose continuation has not run yet
        expect(lock.locked()).to.equal(true);
        note('late', lock.acquire());
        note('late, no wait', lock.acquire(0));
        await flush();
        expect(log).to.deep.equal(['first:true', 'late, no wait:false']);
        lock.release();
        await flush();
        expect(log).to.deep.equal(['first:true', 'late, no wait:false', 'late:true']);
        lock.release();
      });

      it(`${name}: tasks that each take the lock across an await never overlap`, async () => {
        const { lock } = create();
        let inside = 0;
        let most = 0;
        const task = async () => {
          for (let i = 0; i < 5; i++) {
            await lock.acquire();
            inside++;
            most = Math.max(most, inside);
            await new Promise((r) => setTimeout(r, 1 + (i % 3)));
            inside--;
            lock.release();
          }
        };
        const all = Promise.all([task(), task(), task()]);
        await clock.tickAsync(100);
        await all;
        expect(most).to.equal(1);
        expect(lock.locked()).to.equal(false);
      });
    });

    describe('timeouts', () => {
      it(`${name}.acquire(0) and negative timeouts take only a free lock, at once`, async () => {
        const { lock, waiters } = create();
        expect(await lock.acquire(0)).to.equal(true);
        expect(await lock.acquire(0)).to.equal(false);
        expect(await lock.acquire(-1)).to.equal(false);
        expect(await lock.acquire({ timeout: -Infinity })).to.equal(false);
        expect(waiters()).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}.acquire(ms) resolves false when the lock is not handed over in time, and leaves the queue at once`, async () => {
        const { lock, waiters } = create();
        await lock.acquire();
        const { log, note } = recorder();
        note('timed', lock.acquire(100));
        note('next', lock.acquire());
        await clock.tickAsync(99);
        expect(log).to.deep.equal([]);
        await clock.tickAsync(1);
        expect(log).to.deep.equal(['timed:false']);
        expect(waiters()).to.equal(1);
        lock.release();
        await flush();
        expect(log).to.deep.equal(['timed:false', 'next:true']);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}: a waiter handed the lock before its deadline holds it, and its timer is cleared`, async () => {
        const { lock } = create();
        await lock.acquire();
        const p = track(lock.acquire(100));
        await clock.tickAsync(50);
        lock.release();
        expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(100);
        expect(p.value).to.equal(true);
        expect(lock.locked()).to.equal(true);
        lock.release();
      });

      it(`${name}.acquire() without a timeout waits for ever, holding no timer`, async () => {
        const { lock } = create();
        await lock.acquire();
        const ps = [lock.acquire(), lock.acquire(Infinity), lock.acquire({})].map(track);
        expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(2 ** 40);
        expect(ps.map((p) => p.state)).to.deep.equal(['pending', 'pending', 'pending']);
        for (let i = 0; i < 4; i++) lock.release();
        await flush();
        expect(ps.map((p) => p.value)).to.deep.equal([true, true, true]);
        expect(lock.locked()).to.equal(false);
      });
    });

    describe('abort', () => {
      it(`${name}.acquire() aborted while queued rejects with signal.reason and the lock passes to the next waiter`, async () => {
        const { lock, waiters } = create();
        await lock.acquire();
        const ac = new AbortController();
        const { log, note } = recorder();
        note('aborted', lock.acquire({ signal: ac.signal, timeout: 1000 }));
        note('next', lock.acquire());
        ac.abort(new Error('stop'));
        expect(waiters()).to.equal(1);
        expect(clock.countTimers()).to.equal(0);
        lock.release();
        await flush();
        expect(log).to.deep.equal(['aborted:rejected:stop', 'next:true']);
        expect(abortListeners(ac.signal)).to.equal(0);
        lock.release();
      });

      it(`${name}.acquire() with an already aborted signal rejects without taking a free lock`, async () => {
        const { lock } = create();
        const reason = new Error('already');
        const t = track(lock.acquire({ signal: AbortSignal.abort(reason) }));
        await flush();
        expect(t.reason).to.equal(reason);
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}: a waiter aborted in the same tick it was handed the lock holds it once, and no lock is lost`, async () => {
        const { lock } = create();
        await lock.acquire();
        const ac = new AbortController();
        const handed = track(lock.acquire({ signal: ac.signal }));
        const next = track(lock.acquire());
        lock.release();
        ac.abort();
        await flush();
        expect(handed.value, 'the hand-off happened before the abort').to.equal(true);
        expect(next.state).to.equal('pending');
        lock.release();
        await flush();
        expect(next.value).to.equal(true);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}: a long-lived signal reused for 10,000 contended acquires never holds more than one listener`, async () => {
        const { lock } = create();
        const ac = new AbortController();
        let most = 0;
        await lock.acquire();
        for (let i = 0; i < 10_000; i++) {
          const p = lock.acquire({ signal: ac.signal, timeout: 1000 });
          most = Math.max(most, abortListeners(ac.signal));
          lock.release(); // hands it to p
          expect(await p).to.equal(true);
        }
        lock.release();
        expect(most).to.equal(1);
        expect(abortListeners(ac.signal)).to.equal(0);
      });
    });

    describe('lock() guards', () => {
      it(`${name}.lock() resolves with a guard holding the lock; release() frees it`, async () => {
        const { lock } = create();
        const guard = await lock.lock();
        expect(lock.locked()).to.equal(true);
        guard.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}: a guard released twice releases once, never the next holder's lock`, async () => {
        const { lock } = create();
        const guard = await lock.lock();
        const next = track(lock.acquire());
        guard.release(); // hands the lock to next
        guard.release();
        guard[Symbol.dispose]();
        await flush();
        expect(next.value).to.equal(true);
        expect(lock.locked(), "next's hold survives").to.equal(true);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}: using releases the guard at the end of the block, however the block ends`, async () => {
        const { lock } = create();
        {
          using _guard = await lock.lock();
          expect(lock.locked()).to.equal(true);
        }
        expect(lock.locked()).to.equal(false);
        const boom = new Error('boom');
        const failing = async () => {
          using _guard = await lock.lock(1000);
          throw boom;
        };
        const t = track(failing());
        await flush();
        expect(t.reason).to.equal(boom);
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}.lock() queues in FIFO order with acquire()`, async () => {
        const { lock } = create();
        await lock.acquire();
        const order: string[] = [];
        void lock.acquire().then(() => order.push('a'));
        const guard = lock.lock({ timeout: 1000 }).then((g) => (order.push('guard'), g));
        void lock.acquire().then(() => order.push('c'));
        lock.release();
        await flush();
        expect(order).to.deep.equal(['a']);
        lock.release();
        await flush();
        expect(order).to.deep.equal(['a', 'guard']);
        (await guard).release();
        await flush();
        expect(order).to.deep.equal(['a', 'guard', 'c']);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}.lock(ms) rejects with a TimeoutError when the lock is not acquired in time`, async () => {
        const { lock, waiters } = create();
        await lock.acquire();
        const ts = [lock.lock(50), lock.lock({ timeout: 50 }), lock.lock(0)].map(track);
        await clock.tickAsync(50);
        for (const t of ts) {
          expect(t.reason).to.be.instanceOf(TimeoutError);
          expect((t.reason as Error).message).to.match(/[.a-z]lock\(\) timed out after (50|0) ms/i);
        }
        expect(waiters()).to.equal(0);
        lock.release();
        expect(lock.locked()).to.equal(false);
      });

      it(`${name}.lock() rejects with signal.reason when aborted, without taking the lock`, async () => {
        const { lock } = create();
        await lock.acquire();
        const ac = new AbortController();
        const t = track(lock.lock({ signal: ac.signal }));
        ac.abort('stop');
        await flush();
        expect(t.reason).to.equal('stop');
        expect(abortListeners(ac.signal)).to.equal(0);
        lock.release();
        expect(lock.locked()).to.equal(false);
        const early = track(lock.lock({ signal: ac.signal }));
        await flush();
        expect(early.reason).to.equal('stop');
        expect(lock.locked()).to.equal(false);
      });

      for (const [label, arg, type, message] of badWaitArguments) {
        it(`${name}.lock(${label}) rejects with a ${type.name} and leaves the lock as it was`, async () => {
          const { lock } = create();
          const t = track((lock.lock as (a: unknown) => Promise<Guard>)(arg));
          await flush();
          expect(t.reason).to.be.instanceOf(type);
          expect((t.reason as Error).message).to.match(message);
          expect(lock.locked()).to.equal(false);
        });
      }
    });

    if (create().lock.tryAcquire !== undefined) {
      describe('tryAcquire and tryLock', () => {
        it(`${name}.tryAcquire() takes a free lock at once and returns true, and returns false while it is held`, () => {
          const { lock } = create();
          expect(lock.tryAcquire!()).to.equal(true);
          expect(lock.locked()).to.equal(true);
          expect(lock.tryAcquire!()).to.equal(false);
          expect(lock.locked()).to.equal(true);
          lock.release();
          expect(lock.locked()).to.equal(false);
          expect(lock.tryAcquire!()).to.equal(true);
          lock.release();
        });

        it(`${name}.tryAcquire() never barges in ahead of a queued waiter, even while the hand-off is in flight`, async () => {
          const { lock, waiters } = create();
          await lock.acquire();
          const first = track(lock.acquire());
          expect(lock.tryAcquire!()).to.equal(false);
          expect(waiters(), 'tryAcquire() queues nothing').to.equal(1);
          lock.release(); // handed to 'first', whose continuation has not run yet
          expect(lock.tryAcquire!()).to.equal(false);
          await flush();
          expect(first.value).to.equal(true);
          lock.release();
          expect(lock.tryAcquire!()).to.equal(true);
          lock.release();
          expect(lock.locked()).to.equal(false);
        });

        it(`${name}.tryAcquire() takes the lock once the only waiter gave up and the holder released it`, async () => {
          const { lock, waiters } = create();
          await lock.acquire();
          const timed = track(lock.acquire(10));
          await clock.tickAsync(10);
          expect(timed.value).to.equal(false);
          expect(waiters()).to.equal(0);
          expect(lock.tryAcquire!()).to.equal(false);
          lock.release();
          expect(lock.tryAcquire!()).to.equal(true);
          lock.release();
        });

        it(`${name}.tryLock() returns a guard that releases once, or undefined when the lock is taken`, async () => {
          const { lock } = create();
          const guard = lock.tryLock!();
          expect(guard).not.to.equal(undefined);
          expect(lock.locked()).to.equal(true);
          expect(lock.tryLock!()).to.equal(undefined);
          const next = track(lock.acquire());
          guard!.release(); // hands the lock to next
          guard![Symbol.dispose]();
          await flush();
          expect(next.value).to.equal(true);
          expect(lock.locked(), "next's hold survives").to.equal(true);
          lock.release();
          expect(lock.locked()).to.equal(false);
        });

        it(`${name}: using a tryLock() guard releases it at the end of the block, and using undefined does nothing`, () => {
          const { lock } = create();
          {
            using held = lock.tryLock!();
            expect(held).not.to.equal(undefined);
            {
              using busy = lock.tryLock!();
              expect(busy).to.equal(undefined);
            }
            expect(lock.locked()).to.equal(true);
          }
          expect(lock.locked()).to.equal(false);
        });
      });
    }

    if (create().lock.runExclusive !== undefined) {
      describe('runExclusive', () => {
        type Run = <T>(fn: () => T | PromiseLike<T>, options?: number | WaitOptions) => Promise<T>;
        const runner = (lock: LockLike): Run => lock.runExclusive!.bind(lock) as Run;

        it(`${name}.runExclusive() runs callbacks one at a time, in order, and returns their results`, async () => {
          const { lock } = create();
          const run = runner(lock);
          const log: string[] = [];
          const task = (label: string, ms: number) =>
            run(async () => {
              log.push(`${label} in`);
              await new Promise((r) => setTimeout(r, ms));
              log.push(`${label} out`);
              return label;
            });
          const all = Promise.all([task('a', 30), task('b', 10), task('c', 0), run(() => 'sync')]);
          await clock.tickAsync(100);
          expect(await all).to.deep.equal(['a', 'b', 'c', 'sync']);
          expect(log).to.deep.equal(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
          expect(lock.locked()).to.equal(false);
        });

        it(`${name}.runExclusive() releases the lock when the callback throws or rejects, and passes its error on`, async () => {
          const { lock } = create();
          const run = runner(lock);
          const boom = new Error('boom');
          const thrown = track(
            run(() => {
              throw boom;
            }),
          );
          const rejected = track(run(() => Promise.reject(boom)));
          await flush();
          expect(thrown.reason).to.equal(boom);
          expect(rejected.reason).to.equal(boom);
          expect(lock.locked()).to.equal(false);
          expect(await run(() => Promise.resolve(42))).to.equal(42);
        });

        it(`${name}.runExclusive() rejects with a TimeoutError when the lock is not acquired in time, without running`, async () => {
          const { lock } = create();
          const run = runner(lock);
          await lock.acquire();
          let ran = false;
          const byNumber = track(run(() => (ran = true), 50));
          const byOptions = track(run(() => (ran = true), { timeout: 50 }));
          await clock.tickAsync(50);
          for (const t of [byNumber, byOptions]) {
            expect(t.reason).to.be.instanceOf(TimeoutError);
            expect((t.reason as Error).name).to.equal('TimeoutError');
            expect((t.reason as Error).message).to.match(/\.runExclusive\(\) timed out after 50 ms/);
          }
          expect(ran).to.equal(false);
          lock.release();
          expect(lock.locked()).to.equal(false);
        });

        it(`${name}.runExclusive() rejects with signal.reason when aborted while queued`, async () => {
          const { lock } = create();
          const run = runner(lock);
          await lock.acquire();
          const ac = new AbortController();
          const t = track(run(() => 1, { signal: ac.signal }));
          ac.abort('stop');
          await flush();
          expect(t.reason).to.equal('stop');
          lock.release();
          expect(lock.locked()).to.equal(false);
        });

        it(`${name}.runExclusive() refuses a callback that is not a function with a TypeError`, async () => {
          const { lock } = create();
          const t = track(runner(lock)('x' as unknown as () => void));
          await flush();
          expect(t.reason).to.be.instanceOf(TypeError);
          expect((t.reason as Error).message).to.match(/fn must be a function, got string/);
          expect(lock.locked()).to.equal(false);
        });

        it(`${name}.runExclusive() refuses bad options with the error acquire() gives`, async () => {
          const { lock } = create();
          const t = track(runner(lock)(() => 1, 'x' as unknown as number));
          await flush();
          expect(t.reason).to.be.instanceOf(TypeError);
          expect((t.reason as Error).message).to.match(/timeout must be a number/);
          expect(lock.locked()).to.equal(false);
        });
      });
    }

    const from = create().from;
    if (from !== undefined) {
      describe('posted as it is (from)', () => {
        it(`${name}.from(lock) is the lock itself`, () => {
          const { lock } = create();
          expect(from(lock)).to.equal(lock);
        });

        it(`${name}.from(its structured clone) is the same lock: held through one, it is held through the other, and released it goes to the other's waiter`, async () => {
          const { lock } = create();
          const again = from(structuredClone(lock));
          await lock.acquire();
          expect(again.locked()).to.equal(true);
          const waiter = track(again.acquire(60_000));
          await flush();
          expect(waiter.state).to.equal('pending');
          lock.release();
          await settle(clock, waiter);
          expect(waiter.value).to.equal(true);
          expect(lock.locked()).to.equal(true);
          again.release();
          expect(lock.locked()).to.equal(false);
        });
      });
    }

    describe('bad input', () => {
      for (const [label, arg, type, message] of badWaitArguments) {
        it(`${name}.acquire(${label}) rejects with a ${type.name}, never throws, and leaves the lock as it was`, async () => {
          const { lock, waiters } = create();
          const acquire = lock.acquire.bind(lock) as (a: unknown) => Promise<boolean>;
          let free: Promise<boolean> | undefined;
          expect(() => (free = acquire(arg))).not.to.throw();
          const t = track(free!);
          await lock.acquire();
          const held = track(acquire(arg));
          await flush();
          for (const r of [t, held]) {
            expect(r.reason).to.be.instanceOf(type);
            expect((r.reason as Error).message).to.match(message);
          }
          expect(waiters()).to.equal(0);
          lock.release();
          expect(lock.locked()).to.equal(false);
        });
      }
    });
  });
}
