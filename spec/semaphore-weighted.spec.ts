/**
 * Weighted permits (`{ permits }`, `tryAcquire(n)`, `tryLock(n)`) of Semaphore and BoundedSemaphore, after
 * the intent of async-mutex's weighted-semaphore tests (test/semaphoreSuite.ts): a heavy request blocks
 * until enough is released, heavy requests run eventually, the releaser gives back its own weight, guards
 * and runExclusive hold and give back the weight, bad weights are refused. Written for a strict FIFO line.
 *
 * Not ported, and why:
 * - priorities ("high-priority tasks first", "light tasks skip the line"): there are none here; the line
 *   is strict FIFO, and the tests below check the opposite of skipping (a small request waits behind a
 *   big one).
 * - setValue() and the value handed to the runExclusive callback: no such API (value is read-only and the
 *   callback takes no argument).
 * - cancel() / E_CANCELED: there is no cancel-all; its intent (a waiter that gives up takes nothing and
 *   the line moves on) is ported as aborts and timeouts of weighted waiters.
 * - waitForUnlock(weight): no such API.
 * - a semaphore initialised to a negative value: refused here (RangeError, see semaphore.spec.ts).
 * - "calling release on an unlocked semaphore does not throw": a Semaphore's release() adds permits (see
 *   semaphore.spec.ts); a BoundedSemaphore throws by design.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { BoundedSemaphore, Semaphore, TimeoutError } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { abortListeners, flush, queueLooks, recorder, track, waiterCount, withFakeClock } from './helpers.js';

/** Weights refused everywhere, with the error each gets. */
const badPermits: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['a string', '2', TypeError, /permits must be a number, got string "2"/],
  ['null', null, TypeError, /permits must be a number, got null/],
  ['0', 0, RangeError, /permits must be a whole number, 1 or more, got 0/],
  ['negative', -2, RangeError, /permits must be a whole number, 1 or more, got -2/],
  ['a fraction', 1.5, RangeError, /permits must be a whole number, 1 or more, got 1\.5/],
  ['NaN', NaN, RangeError, /got NaN/],
  ['Infinity', Infinity, RangeError, /got Infinity/],
];

for (const Kind of [Semaphore, BoundedSemaphore]) {
  const name = Kind.name;

  describe(`${name}: weighted permits`, () => {
    let clock!: sinon.SinonFakeTimers;
    withFakeClock((c) => (clock = c));

    it(`${name}.acquire({ permits }) takes that many at once while they are free`, async () => {
      const s = new Kind(5);
      expect(await s.acquire({ permits: 3 })).to.equal(true);
      expect(s.value).to.equal(2);
      expect(await s.acquire({ permits: 2, timeout: 0 })).to.equal(true);
      expect(s.value).to.equal(0);
      expect(s.locked()).to.equal(true);
      s.release(5);
      expect(s.value).to.equal(5);
    });

    it(`${name}: a request for more permits than are free waits until enough are released`, async () => {
      const s = new Kind(3);
      await s.acquire({ permits: 3 });
      const big = track(s.acquire({ permits: 2 }));
      s.release();
      await flush();
      expect(big.state, 'one permit is not enough').to.equal('pending');
      expect(s.value).to.equal(1);
      s.release();
      await flush();
      expect(big.value).to.equal(true);
      expect(s.value).to.equal(0);
      s.release(3);
    });

    it(`${name}: the line is strict FIFO, so a small request waits behind a big one even with a permit free`, async () => {
      const s = new Kind(3);
      await s.acquire({ permits: 2 });
      const { log, note } = recorder();
      note('big', s.acquire({ permits: 3 }));
      note('small', s.acquire());
      expect(s.value, 'one permit free, held back for the big request').to.equal(1);
      expect(s.locked()).to.equal(true);
      expect(s.tryAcquire()).to.equal(false);
      expect(await s.acquire(0)).to.equal(false);
      await flush();
      expect(log).to.deep.equal([]);
      s.release(2);
      await flush();
      expect(log).to.deep.equal(['big:true']);
      s.release(3);
      await flush();
      expect(log).to.deep.equal(['big:true', 'small:true']);
      s.release();
      expect(s.value).to.equal(3);
    });

    it(`${name}.release(n) serves the waiters at the head of the line in order while the first one's request fits`, async () => {
      const s = new Kind(6);
      await s.acquire({ permits: 6 });
      const { log, note } = recorder();
      note('two', s.acquire({ permits: 2 }));
      note('one', s.acquire());
      note('three', s.acquire({ permits: 3, timeout: 1000 }));
      note('another one', s.acquire({ permits: 1, signal: new AbortController().signal }));
      s.release(4);
      await flush();
      expect(log).to.deep.equal(['two:true', 'one:true']);
      expect(s.value, 'one left over, less than the three asked for').to.equal(1);
      expect(waiterCount(s)).to.equal(2);
      s.release(2);
      await flush();
      expect(log).to.deep.equal(['two:true', 'one:true', 'three:true']);
      expect(s.value).to.equal(0);
      s.release();
      await flush();
      expect(log.at(-1)).to.equal('another one:true');
      s.release(6);
      expect(s.value).to.equal(6);
      expect(clock.countTimers()).to.equal(0);
    });

    it(`${name}: a big request that times out at the head of the line lets the waiters behind it in at once`, async () => {
      const s = new Kind(4);
      await s.acquire({ permits: 3 });
      const { log, note } = recorder();
      note('big', s.acquire({ permits: 4, timeout: 50 }));
      note('a', s.acquire());
      note('b', s.acquire({ permits: 2 }));
      await clock.tickAsync(49);
      expect(log).to.deep.equal([]);
      await clock.tickAsync(1);
      expect(log).to.deep.equal(['big:false', 'a:true']);
      expect(s.value).to.equal(0);
      expect(waiterCount(s)).to.equal(1);
      s.release(3);
      await flush();
      expect(log).to.deep.equal(['big:false', 'a:true', 'b:true']);
      s.release(3);
      expect(s.value).to.equal(4);
    });

    it(`${name}: a waiter timing out in the same instant as the big request ahead of it is not served in that instant`, async () => {
      const s = new Kind(2);
      await s.acquire();
      const { log, note } = recorder();
      note('big', s.acquire({ permits: 2, timeout: 10 }));
      note('small', s.acquire({ timeout: 10 }));
      note('later', s.acquire({ timeout: 11 }));
      await clock.tickAsync(10);
      expect(log, 'both timed out: a free permit is no grant to a waiter whose time is up').to.have.members([
        'big:false',
        'small:false',
        'later:true',
      ]);
      expect(s.value).to.equal(0);
      s.release(2);
    });

    it(`${name}: a waiter aborted by the same signal as the big request ahead of it is not served as it aborts`, async () => {
      const s = new Kind(2);
      await s.acquire();
      const ac = new AbortController();
      const { log, note } = recorder();
      note('big', s.acquire({ permits: 2, signal: ac.signal }));
      note('small', s.acquire({ signal: ac.signal }));
      note('other', s.acquire());
      ac.abort(new Error('stop'));
      await flush();
      expect(log).to.have.members(['big:rejected:stop', 'small:rejected:stop', 'other:true']);
      expect(s.value).to.equal(0);
      s.release(2);
    });

    it(`${name}: a big request aborted at the head of the line lets the waiters behind it in, and its listener goes`, async () => {
      const s = new Kind(2);
      await s.acquire();
      const ac = new AbortController();
      const { log, note } = recorder();
      note('big', s.acquire({ permits: 2, signal: ac.signal }));
      note('small', s.acquire({ timeout: 1000 }));
      ac.abort(new Error('stop'));
      await flush();
      expect(log).to.deep.equal(['big:rejected:stop', 'small:true']);
      expect(abortListeners(ac.signal)).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
      s.release(2);
      expect(s.value).to.equal(2);
    });

    it(`${name}: a permit released by an earlier listener of the signal aborting the big request at the head goes to the waiter behind it, past those that timed out`, async () => {
      const s = new Kind(2);
      await s.acquire({ permits: 2 });
      const ac = new AbortController();
      ac.signal.addEventListener('abort', () => s.release()); // runs before the big request's own abort
      const big = track(s.acquire({ permits: 2, signal: ac.signal }));
      const timedOut = Array.from({ length: 34 }, () => track(s.acquire({ timeout: 10 })));
      const next = track(s.acquire());
      clock.tick(10);
      ac.abort();
      await flush();
      expect(big.state).to.equal('rejected');
      expect(timedOut.every((t) => t.value === false)).to.equal(true);
      expect(next.value).to.equal(true);
      expect(s.value).to.equal(0);
      expect(waiterCount(s)).to.equal(0);
    });

    it(`${name}: a big request handed its permits in the same tick it is aborted holds them, and none are lost`, async () => {
      const s = new Kind(3);
      await s.acquire({ permits: 3 });
      const ac = new AbortController();
      const big = track(s.acquire({ permits: 3, signal: ac.signal }));
      const next = track(s.acquire());
      s.release(3);
      ac.abort();
      await flush();
      expect(big.value, 'the hand-off came before the abort').to.equal(true);
      expect(next.state).to.equal('pending');
      s.release(3);
      await flush();
      expect(next.value).to.equal(true);
      s.release();
      expect(s.value).to.equal(3);
    });

    for (const how of ['one signal', 'one deadline'] as const) {
      it(`${name}: 2,000 big requests giving up together (${how}) ahead of 1,000 others leave in time linear in their number`, async () => {
        const n = 2_000;
        const s = new Kind(2);
        await s.acquire({ permits: 2 });
        const ac = new AbortController();
        const timed = how === 'one deadline';
        const big = Array.from({ length: n }, () =>
          track(s.acquire({ permits: 2, ...(timed ? { timeout: 100 } : { signal: ac.signal }) })),
        );
        const small = Array.from({ length: n / 2 }, () => track(s.acquire()));
        const looks = queueLooks(() => (timed ? clock.tick(100) : ac.abort()));
        await flush();
        expect(looks, 'looks at the waiters in line').to.be.below(10 * n);
        expect(big.every((t) => t.state !== 'pending') && small.every((t) => t.state === 'pending')).to.equal(true);
        expect(waiterCount(s)).to.equal(n / 2);
        s.release(2);
        await flush();
        expect(small.filter((t) => t.value === true)).to.have.length(2);
      });
    }

    it(`${name}: a heavy request runs in its turn among a stream of light ones (no starvation)`, async () => {
      const s = new Kind(2);
      const ran: string[] = [];
      const light = async (label: string) => {
        for (let i = 0; i < 3; i++) {
          await s.acquire();
          ran.push(label);
          await new Promise((r) => setTimeout(r, 5));
          s.release();
        }
      };
      const heavy = (async () => {
        await new Promise((r) => setTimeout(r, 7));
        await s.acquire({ permits: 2 });
        ran.push('heavy');
        expect(s.value).to.equal(0);
        s.release(2);
      })();
      const all = Promise.all([light('a'), light('b'), heavy]);
      await clock.tickAsync(100);
      await all;
      expect(ran.indexOf('heavy'), 'served once the light holds of its time were given back').to.equal(4);
      expect(ran.filter((l) => l !== 'heavy')).to.have.length(6);
      expect(s.value).to.equal(2);
    });

    it(`${name}.tryAcquire(n) takes n permits only when they are free and nobody is queued`, async () => {
      const s = new Kind(3);
      expect(s.tryAcquire(2)).to.equal(true);
      expect(s.tryAcquire(2)).to.equal(false);
      expect(s.value, 'a failed tryAcquire takes nothing').to.equal(1);
      const queued = track(s.acquire({ permits: 2 }));
      expect(s.tryAcquire(1), 'one is free, but a request is queued').to.equal(false);
      s.release(2);
      await flush();
      expect(queued.value).to.equal(true);
      s.release(2);
      expect(s.tryAcquire(3)).to.equal(true);
      s.release(3);
    });

    it(`${name}.lock({ permits }) and tryLock(n) guards give back exactly their weight, once`, async () => {
      const s = new Kind(4);
      const guard = await s.lock({ permits: 3 });
      expect(s.value).to.equal(1);
      const tried = s.tryLock(1)!;
      expect(s.value).to.equal(0);
      expect(s.tryLock(1)).to.equal(undefined);
      guard.release();
      guard[Symbol.dispose]();
      expect(s.value).to.equal(3);
      tried.release();
      tried.release();
      expect(s.value).to.equal(4);
      {
        using _ = s.tryLock(4);
        expect(s.value).to.equal(0);
      }
      expect(s.value).to.equal(4);
    });

    it(`${name}.runExclusive(fn, { permits }) holds the weight while fn runs and gives it back however fn ends`, async () => {
      const s = new Kind(3);
      expect(await s.runExclusive(() => s.value, { permits: 2 })).to.equal(1);
      expect(s.value).to.equal(3);
      const boom = new Error('boom');
      const t = track(
        s.runExclusive(
          () => {
            throw boom;
          },
          { permits: 3 },
        ),
      );
      await flush();
      expect(t.reason).to.equal(boom);
      expect(s.value).to.equal(3);
    });

    it(`${name}: a weighted lock() or runExclusive() that times out names the weight and holds nothing`, async () => {
      const s = new Kind(2);
      await s.acquire();
      let ran = false;
      const guard = track(s.lock({ permits: 2, timeout: 20 }));
      const run = track(s.runExclusive(() => (ran = true), { permits: 2, timeout: 20 }));
      await clock.tickAsync(20);
      for (const [t, method] of [
        [guard, 'lock'],
        [run, 'runExclusive'],
      ] as const) {
        expect(t.reason).to.be.instanceOf(TimeoutError);
        expect((t.reason as Error).message).to.equal(`${name}.${method}() timed out after 20 ms waiting for 2 permits`);
      }
      expect(ran).to.equal(false);
      expect(s.value).to.equal(1);
      s.release();
    });

    it(`${name} shows the permits held back for a big request in util.inspect`, async () => {
      const s = new Kind(2);
      await s.acquire();
      const big = s.acquire({ permits: 2 });
      expect(inspect(s)).to.equal(`${name} { value: 1, waiters: 1 }`);
      s.release();
      await big;
      expect(inspect(s)).to.equal(`${name} { value: 0, waiters: 0 }`);
    });

    it(`${name}: options are read once, permits first, and { permits: 1 } is a plain acquire`, async () => {
      const s = new Kind(1);
      const reads: string[] = [];
      const options = {
        get permits() {
          reads.push('permits');
          return 1;
        },
        get timeout() {
          reads.push('timeout');
          return 10;
        },
        get signal() {
          reads.push('signal');
          return undefined;
        },
      };
      expect(await s.acquire(options)).to.equal(true);
      expect(reads).to.deep.equal(['permits', 'timeout', 'signal']);
      expect(await s.acquire({ permits: 1, timeout: 0 })).to.equal(false);
      s.release();
    });

    for (const [label, arg, type, message] of badWaitArguments.filter(([, a]) => typeof a === 'object' && a !== null)) {
      it(`${name}.acquire({ permits: 2, ...${label} }) rejects with the ${type.name} a plain acquire gives, taking nothing`, async () => {
        const s = new Kind(2);
        const options = { permits: 2, ...(arg as object) };
        const ts = [s.acquire(options), s.lock(options)].map((p) => track(p as Promise<unknown>));
        await flush();
        for (const t of ts) {
          expect(t.reason).to.be.instanceOf(type);
          expect((t.reason as Error).message).to.match(message);
        }
        expect(s.value).to.equal(2);
      });
    }

    for (const [label, permits, type, message] of badPermits) {
      it(`${name} refuses a weight that is ${label} with a ${type.name}, taking nothing`, async () => {
        const s = new Kind(2);
        const options = { permits: permits as number };
        let acquired: Promise<boolean> | undefined;
        expect(() => (acquired = s.acquire(options))).not.to.throw();
        const ts = [acquired!, s.lock(options), s.runExclusive(() => 1, options)].map((p) =>
          track(p as Promise<unknown>),
        );
        await flush();
        for (const t of ts) {
          expect(t.reason).to.be.instanceOf(type);
          expect((t.reason as Error).message).to.match(/^options\.permits /);
          expect((t.reason as Error).message).to.match(message);
        }
        expect(() => s.tryAcquire(permits as number)).to.throw(type, /^permits /);
        expect(() => s.tryLock(permits as number)).to.throw(type, message);
        expect(s.value).to.equal(2);
        expect(waiterCount(s)).to.equal(0);
      });
    }
  });
}

describe('Semaphore and BoundedSemaphore: weights above the initial value', () => {
  withFakeClock(() => {});

  it('BoundedSemaphore refuses a weight above its bound with a RangeError: it could never be served', async () => {
    const s = new BoundedSemaphore(3);
    const t = track(s.acquire({ permits: 4 }));
    await flush();
    expect(t.reason).to.be.instanceOf(RangeError);
    expect((t.reason as Error).message).to.equal(
      'options.permits must be at most the bound of the BoundedSemaphore, 3, got 4',
    );
    expect(() => s.tryAcquire(4)).to.throw(RangeError, /^permits must be at most the bound .* 3, got 4/);
    expect(s.tryAcquire(3)).to.equal(true);
    s.release(3);
  });

  it('Semaphore accepts a weight above its initial value and serves it once releases add enough', async () => {
    const s = new Semaphore(1);
    const t = track(s.acquire({ permits: 3 }));
    s.release(2);
    await flush();
    expect(t.value).to.equal(true);
    expect(s.value).to.equal(0);
  });
});
