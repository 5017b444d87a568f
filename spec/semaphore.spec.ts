/**
 * Semaphore and BoundedSemaphore, after the intent of CPython's SemaphoreTests (test_asyncio/test_locks.py),
 * BaseSemaphoreTests and BoundedSemaphoreTests (lock_tests.py), and async-mutex's semaphore suite. With
 * one permit, both keep the lock contract of lock-suite.ts.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { BoundedSemaphore, Semaphore, TimeoutError } from '../lib/index.js';
import { inspected, lockSuite } from './lock-suite.js';
import { abortListeners, flush, recorder, track, waiterCount, withFakeClock } from './helpers.js';

lockSuite(
  'Semaphore(1)',
  inspected(() => new Semaphore(1)),
);
lockSuite(
  'BoundedSemaphore(1)',
  inspected(() => new BoundedSemaphore(1)),
);

/** Counts not accepted as a semaphore's value or release(n), with the error each gets. */
const badCounts: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['a string', '2', TypeError, /must be a number, got string "2"/],
  ['null', null, TypeError, /must be a number, got null/],
  ['an object', {}, TypeError, /must be a number, got Object object/],
  ['a bigint', 2n, TypeError, /must be a number, got bigint 2/],
  ['NaN', NaN, RangeError, /must be a whole number, .* got NaN/],
  ['a fraction', 1.5, RangeError, /must be a whole number, .* got 1\.5/],
  ['Infinity', Infinity, RangeError, /must be a whole number, .* got Infinity/],
  ['negative', -1, RangeError, /must be a whole number, 0 or more, got -1|1 or more, got -1/],
  [
    '2^53, a whole number too large to count with',
    2 ** 53,
    RangeError,
    /must be at most 2\^53 - 1, got 9007199254740992/,
  ],
];

for (const Kind of [Semaphore, BoundedSemaphore]) {
  const name = Kind.name;

  describe(name, () => {
    let clock!: sinon.SinonFakeTimers;
    withFakeClock((c) => (clock = c));

    describe('construction and state', () => {
      it(`${name}: the default value is 1`, async () => {
        const s = new Kind();
        expect(s.value).to.equal(1);
        expect(await s.acquire(0)).to.equal(true);
        expect(await s.acquire(0)).to.equal(false);
      });

      it(`${name}: a value of 0 starts locked, and a large value is accepted`, () => {
        const closed = new Kind(0);
        expect(closed.locked()).to.equal(true);
        expect(closed.value).to.equal(0);
        expect(new Kind(Number.MAX_SAFE_INTEGER).value).to.equal(Number.MAX_SAFE_INTEGER);
      });

      for (const [label, value, type, message] of badCounts) {
        it(`new ${name}(${label}) throws a ${type.name} naming value`, () => {
          expect(() => new Kind(value as number)).to.throw(type, /^value /);
          expect(() => new Kind(value as number)).to.throw(type, message);
        });
      }

      it(`${name}.acquire() takes permits at once while there are any, then queues (value never below 0)`, async () => {
        const s = new Kind(3);
        const { log, note } = recorder();
        for (const label of ['a', 'b', 'c', 'd']) note(label, s.acquire());
        expect(s.value).to.equal(0);
        expect(s.locked()).to.equal(true);
        expect(waiterCount(s)).to.equal(1);
        await flush();
        expect(log).to.deep.equal(['a:true', 'b:true', 'c:true']);
        s.release();
        expect(s.value, 'the permit went to d').to.equal(0);
        await flush();
        expect(log).to.deep.equal(['a:true', 'b:true', 'c:true', 'd:true']);
        s.release(3);
        expect(s.value).to.equal(3);
        expect(s.locked()).to.equal(false);
      });

      it(`${name}: value and locked() follow every acquire and release`, async () => {
        const s = new Kind(2);
        expect([s.value, s.locked()]).to.deep.equal([2, false]);
        await s.acquire();
        expect([s.value, s.locked()]).to.deep.equal([1, false]);
        await s.acquire();
        expect([s.value, s.locked()]).to.deep.equal([0, true]);
        s.release();
        expect([s.value, s.locked()]).to.deep.equal([1, false]);
        s.release();
        expect([s.value, s.locked()]).to.deep.equal([2, false]);
      });

      it(`${name} shows its state in util.inspect and Object.prototype.toString`, async () => {
        const s = new Kind(2);
        expect(inspect(s)).to.equal(`${name} { value: 2, waiters: 0 }`);
        await s.acquire();
        await s.acquire();
        const p = s.acquire();
        expect(inspect(s)).to.equal(`${name} { value: 0, waiters: 1 }`);
        expect(Object.prototype.toString.call(s)).to.equal(`[object ${name}]`);
        s.release();
        await p;
        s.release();
        s.release();
      });
    });

    describe('release', () => {
      it(`${name}.release(n) hands permits to up to n waiters in FIFO order; the rest become free`, async () => {
        const s = new Kind(2);
        await s.acquire();
        await s.acquire();
        const { log, note } = recorder();
        note('a', s.acquire());
        note('b', s.acquire(1000));
        note('c', s.acquire({ signal: new AbortController().signal }));
        s.release(2);
        expect(s.value).to.equal(0);
        await flush();
        expect(log).to.deep.equal(['a:true', 'b:true']);
        expect(waiterCount(s)).to.equal(1);
        s.release(2);
        expect(s.value, 'one to c, one free').to.equal(1);
        await flush();
        expect(log).to.deep.equal(['a:true', 'b:true', 'c:true']);
      });

      it(`${name}.release(n) skips waiters that timed out or were aborted`, async () => {
        const s = new Kind(1);
        await s.acquire();
        const ac = new AbortController();
        const { log, note } = recorder();
        note('timed', s.acquire(10));
        note('aborted', s.acquire({ signal: ac.signal }));
        note('waiting', s.acquire());
        await clock.tickAsync(10);
        ac.abort(new Error('stop'));
        s.release();
        await flush();
        expect(log).to.deep.equal(['timed:false', 'aborted:rejected:stop', 'waiting:true']);
        expect(s.value).to.equal(0);
        s.release();
        expect(s.value).to.equal(1);
      });

      it(`${name}: a permit released while the first waiter's hand-off is in flight goes to the next waiter, not to a late acquire()`, async () => {
        const s = new Kind(2);
        await s.acquire();
        await s.acquire();
        const first = track(s.acquire());
        const second = track(s.acquire());
        s.release();
        const late = track(s.acquire(0));
        s.release();
        const later = track(s.acquire(0));
        await flush();
        expect([first, second, late, later].map((t) => t.value)).to.deep.equal([true, true, false, false]);
        expect(s.value).to.equal(0);
        s.release(2);
      });

      for (const [label, n, type, message] of badCounts) {
        it(`${name}.release(${label}) throws a ${type.name} naming n and changes nothing`, async () => {
          const s = new Kind(1);
          await s.acquire();
          const waiting = track(s.acquire());
          expect(() => s.release(n as number)).to.throw(type, /^n /);
          expect(() => s.release(n as number)).to.throw(type, message);
          await flush();
          expect(waiting.state).to.equal('pending');
          expect(s.value).to.equal(0);
          s.release();
          await flush();
          expect(waiting.value).to.equal(true);
          s.release();
        });
      }

      it(`${name}.release(0) throws a RangeError: a release gives back at least one permit`, () => {
        const s = new Kind(1);
        expect(() => s.release(0)).to.throw(RangeError, /n must be a whole number, 1 or more, got 0/);
        expect(s.value).to.equal(1);
      });
    });

    describe('timeouts and aborts', () => {
      it(`${name}: a waiter that timed out holds no permit afterwards, and the permit stays free`, async () => {
        const s = new Kind(1);
        await s.acquire();
        const t = track(s.acquire(100));
        await clock.tickAsync(100);
        expect(t.value).to.equal(false);
        s.release();
        expect(s.value).to.equal(1);
        expect(waiterCount(s)).to.equal(0);
      });

      it(`${name}: the first waiter aborted leaves the permit to the second (no hang)`, async () => {
        const s = new Kind(1);
        await s.acquire();
        const ac = new AbortController();
        const first = track(s.acquire({ signal: ac.signal }));
        const second = track(s.acquire());
        ac.abort();
        s.release();
        await flush();
        expect(first.state).to.equal('rejected');
        expect(second.value).to.equal(true);
        expect(s.value).to.equal(0);
        expect(abortListeners(ac.signal)).to.equal(0);
      });

      it(`${name}: waiters handed permits before an abort keep them; the rest reject`, async () => {
        const s = new Kind(2);
        await s.acquire();
        await s.acquire();
        const ac = new AbortController();
        const ps = [0, 1, 2].map(() => track(s.acquire({ signal: ac.signal, timeout: 1000 })));
        s.release(2);
        ac.abort('stop');
        await flush();
        expect(ps.map((p) => p.value ?? p.reason)).to.deep.equal([true, true, 'stop']);
        expect(s.value).to.equal(0);
        expect(waiterCount(s)).to.equal(0);
      });
    });

    describe('guards and runExclusive', () => {
      it(`${name}.runExclusive() lets value callbacks run at once and queues the rest`, async () => {
        const s = new Kind(2);
        let inside = 0;
        let most = 0;
        const task = (ms: number) =>
          s.runExclusive(async () => {
            most = Math.max(most, ++inside);
            await new Promise((r) => setTimeout(r, ms));
            inside--;
            return ms;
          });
        const all = Promise.all([task(30), task(10), task(20), task(5)]);
        await clock.tickAsync(5);
        expect(inside).to.equal(2);
        await clock.tickAsync(100);
        expect(await all).to.deep.equal([30, 10, 20, 5]);
        expect(most).to.equal(2);
        expect(s.value).to.equal(2);
      });

      it(`${name}.lock() guards each hold one permit, and give back exactly one each`, async () => {
        const s = new Kind(3);
        const a = await s.lock();
        const b = await s.lock();
        expect(s.value).to.equal(1);
        a.release();
        a.release();
        expect(s.value).to.equal(2);
        {
          using _c = await s.lock();
          expect(s.value).to.equal(1);
        }
        expect(s.value).to.equal(2);
        b[Symbol.dispose]();
        b.release();
        expect(s.value).to.equal(3);
      });

      it(`${name}.lock() and runExclusive() name the class and a permit in their TimeoutError`, async () => {
        const s = new Kind(0);
        const guard = track(s.lock(10));
        const run = track(s.runExclusive(() => 1, 10));
        await clock.tickAsync(10);
        expect(guard.reason).to.be.instanceOf(TimeoutError);
        expect((guard.reason as Error).message).to.equal(`${name}.lock() timed out after 10 ms waiting for a permit`);
        expect((run.reason as Error).message).to.equal(
          `${name}.runExclusive() timed out after 10 ms waiting for a permit`,
        );
        expect(s.value).to.equal(0);
      });
    });
  });
}

describe('Semaphore (unbounded)', () => {
  it('Semaphore.release() beyond the initial value adds permits, as asyncio.Semaphore does', async () => {
    const s = new Semaphore(1);
    s.release();
    s.release(3);
    expect(s.value).to.equal(5);
    for (let i = 0; i < 5; i++) expect(await s.acquire(0)).to.equal(true);
    expect(s.locked()).to.equal(true);
  });

  it('Semaphore(0) is a gate: release(n) lets exactly n waiters through', async () => {
    const gate = new Semaphore(0);
    const ps = Array.from({ length: 5 }, () => track(gate.acquire()));
    gate.release(3);
    await flush();
    expect(ps.map((p) => p.state)).to.deep.equal(['fulfilled', 'fulfilled', 'fulfilled', 'pending', 'pending']);
    gate.release(2);
    await flush();
    expect(ps.every((p) => p.value === true)).to.equal(true);
  });
});

describe('BoundedSemaphore (bounded)', () => {
  it('BoundedSemaphore is a Semaphore', () => {
    expect(new BoundedSemaphore(2)).to.be.instanceOf(Semaphore);
  });

  it('BoundedSemaphore.release() with nothing held throws a RangeError and changes nothing', () => {
    const s = new BoundedSemaphore(2);
    expect(() => s.release()).to.throw(RangeError, /BoundedSemaphore\.release\(1\) .* held \(0 of 2\)/);
    expect(s.value).to.equal(2);
  });

  it('BoundedSemaphore.release(n) beyond what is held throws a RangeError and changes nothing', async () => {
    const s = new BoundedSemaphore(3);
    await s.acquire();
    await s.acquire();
    expect(() => s.release(3)).to.throw(
      RangeError,
      /release\(3\) would give back more permits than are held \(2 of 3\)/,
    );
    expect(s.value).to.equal(1);
    s.release(2);
    expect(s.value).to.equal(3);
  });

  it('BoundedSemaphore counts permits handed to waiters as held', async () => {
    const s = new BoundedSemaphore(1);
    await s.acquire();
    const waiting = track(s.acquire());
    s.release(); // to the waiter: still held
    await flush();
    expect(waiting.value).to.equal(true);
    expect(s.value).to.equal(0);
    s.release();
    expect(s.value).to.equal(1);
    expect(() => s.release()).to.throw(RangeError);
  });

  it('BoundedSemaphore: a guard released after an extra release() throws rather than exceed the bound', async () => {
    const s = new BoundedSemaphore(1);
    const guard = await s.lock();
    s.release();
    expect(() => guard.release()).to.throw(RangeError);
    expect(s.value).to.equal(1);
    guard.release();
    expect(s.value).to.equal(1);
  });
});
