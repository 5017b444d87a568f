/** Lock, after the intent of CPython's LockTests (test_asyncio/test_locks.py). */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { Lock, TimeoutError } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { abortListeners, withFakeClock, flush, recorder, track, waiterCount } from './helpers.js';

describe('Lock', () => {
  let clock!: sinon.SinonFakeTimers;
  withFakeClock((c) => (clock = c));

  it('Lock: a new lock is free, acquire() takes it at once and release() frees it', async () => {
    const lock = new Lock();
    expect(lock.locked()).to.equal(false);
    const p = lock.acquire();
    expect(lock.locked()).to.equal(true);
    expect(await p).to.equal(true);
    lock.release();
    expect(lock.locked()).to.equal(false);
  });

  it('Lock.release() on a free lock throws an Error', () => {
    const lock = new Lock();
    expect(() => lock.release()).to.throw(Error, /not held/);
  });

  it('Lock.release() hands the lock to queued waiters in the order they asked', async () => {
    const lock = new Lock();
    await lock.acquire();
    const { log, note } = recorder();
    note('a', lock.acquire());
    note('b', lock.acquire(1000));
    note('c', lock.acquire({ signal: new AbortController().signal }));
    await flush();
    expect(log).to.deep.equal([]);
    for (const expected of [['a:true'], ['a:true', 'b:true'], ['a:true', 'b:true', 'c:true']]) {
      lock.release();
      await flush();
      expect(log).to.deep.equal(expected);
      expect(lock.locked()).to.equal(true);
    }
    lock.release();
    expect(lock.locked()).to.equal(false);
  });

  it('Lock.acquire() never barges in ahead of a queued waiter, even while the hand-off is in flight', async () => {
    const lock = new Lock();
    await lock.acquire();
    const { log, note } = recorder();
    note('first', lock.acquire());
    lock.release(); // handed to 'first', whose continuation has not run yet
    note('late', lock.acquire());
    await flush();
    expect(log).to.deep.equal(['first:true']);
    lock.release();
    await flush();
    expect(log).to.deep.equal(['first:true', 'late:true']);
    lock.release();
  });

  it('Lock.acquire(0) and negative timeouts take only a free lock, at once', async () => {
    const lock = new Lock();
    expect(await lock.acquire(0)).to.equal(true);
    expect(await lock.acquire(0)).to.equal(false);
    expect(await lock.acquire({ timeout: -1 })).to.equal(false);
    expect(waiterCount(lock)).to.equal(0);
    lock.release();
  });

  it('Lock.acquire(ms) resolves false when the lock is not handed over in time, and leaves the queue at once', async () => {
    const lock = new Lock();
    await lock.acquire();
    const { log, note } = recorder();
    note('timed', lock.acquire(100));
    note('next', lock.acquire());
    await clock.tickAsync(99);
    expect(log).to.deep.equal([]);
    await clock.tickAsync(1);
    expect(log).to.deep.equal(['timed:false']);
    expect(waiterCount(lock)).to.equal(1);
    lock.release();
    await flush();
    expect(log).to.deep.equal(['timed:false', 'next:true']);
    lock.release();
    expect(lock.locked()).to.equal(false);
  });

  it('Lock.acquire() aborted while queued rejects with signal.reason and the lock passes to the next waiter', async () => {
    const lock = new Lock();
    await lock.acquire();
    const ac = new AbortController();
    const { log, note } = recorder();
    note('aborted', lock.acquire({ signal: ac.signal, timeout: 1000 }));
    note('next', lock.acquire());
    ac.abort(new Error('stop'));
    expect(waiterCount(lock)).to.equal(1);
    lock.release();
    await flush();
    expect(log).to.deep.equal(['aborted:rejected:stop', 'next:true']);
    expect(abortListeners(ac.signal)).to.equal(0);
    lock.release();
  });

  it('Lock.acquire() with an already aborted signal rejects without taking a free lock', async () => {
    const lock = new Lock();
    const reason = new Error('already');
    const t = track(lock.acquire({ signal: AbortSignal.abort(reason) }));
    await flush();
    expect(t.reason).to.equal(reason);
    expect(lock.locked()).to.equal(false);
  });

  it('Lock: a waiter aborted in the same tick it was handed the lock holds it once, and no lock is lost', async () => {
    const lock = new Lock();
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

  for (const [label, arg, type, message] of badWaitArguments) {
    it(`Lock.acquire(${label}) rejects with a ${type.name} and leaves the lock as it was`, async () => {
      const lock = new Lock();
      const t = track((lock.acquire as (a: unknown) => Promise<boolean>)(arg));
      await flush();
      expect(t.reason).to.be.instanceOf(type);
      expect((t.reason as Error).message).to.match(message);
      expect(lock.locked()).to.equal(false);
    });
  }

  it('Lock shows its state in util.inspect and Object.prototype.toString', async () => {
    const lock = new Lock();
    expect(inspect(lock)).to.equal('Lock { locked: false, waiters: 0 }');
    await lock.acquire();
    const p = lock.acquire();
    expect(inspect(lock)).to.equal('Lock { locked: true, waiters: 1 }');
    expect(Object.prototype.toString.call(lock)).to.equal('[object Lock]');
    lock.release();
    await p;
    lock.release();
  });

  describe('runExclusive', () => {
    it('Lock.runExclusive() runs callbacks one at a time, in order, and returns their results', async () => {
      const lock = new Lock();
      const log: string[] = [];
      const task = (name: string, ms: number) =>
        lock.runExclusive(async () => {
          log.push(`${name} in`);
          await new Promise((r) => setTimeout(r, ms));
          log.push(`${name} out`);
          return name;
        });
      const all = Promise.all([task('a', 30), task('b', 10), task('c', 0)]);
      await clock.tickAsync(100);
      expect(await all).to.deep.equal(['a', 'b', 'c']);
      expect(log).to.deep.equal(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
      expect(lock.locked()).to.equal(false);
    });

    it('Lock.runExclusive() releases the lock when the callback throws, and rejects with its error', async () => {
      const lock = new Lock();
      const boom = new Error('boom');
      const t = track(
        lock.runExclusive(() => {
          throw boom;
        }),
      );
      await flush();
      expect(t.reason).to.equal(boom);
      expect(lock.locked()).to.equal(false);
      expect(await lock.runExclusive(() => 42)).to.equal(42);
    });

    it('Lock.runExclusive() rejects with a TimeoutError when the lock is not acquired in time, without running', async () => {
      const lock = new Lock();
      await lock.acquire();
      let ran = false;
      const t = track(lock.runExclusive(() => (ran = true), { timeout: 50 }));
      await clock.tickAsync(50);
      expect(t.reason).to.be.instanceOf(TimeoutError);
      expect((t.reason as Error).name).to.equal('TimeoutError');
      expect((t.reason as Error).message).to.match(/timed out after 50 ms/);
      expect(ran).to.equal(false);
      lock.release();
      expect(lock.locked()).to.equal(false);
    });

    it('Lock.runExclusive() rejects with signal.reason when aborted while queued', async () => {
      const lock = new Lock();
      await lock.acquire();
      const ac = new AbortController();
      const t = track(lock.runExclusive(() => 1, { signal: ac.signal }));
      ac.abort('stop');
      await flush();
      expect(t.reason).to.equal('stop');
      lock.release();
    });

    it('Lock.runExclusive() refuses a callback that is not a function with a TypeError', async () => {
      const lock = new Lock();
      const t = track(lock.runExclusive('x' as unknown as () => void));
      await flush();
      expect(t.reason).to.be.instanceOf(TypeError);
      expect((t.reason as Error).message).to.match(/fn must be a function, got string/);
      expect(lock.locked()).to.equal(false);
    });
  });
});
