/**
 * The behaviour every barrier promises, after the intent of CPython's BarrierTests
 * (test_asyncio/test_locks.py and lock_tests.py), written once as a function of a factory and run
 * against `Barrier` and `SharedBarrier` (on one thread): rounds, arrival indices, timeouts and aborts
 * that break it, reset() and abort(). The fake clock is installed before each test and removed after it.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { BrokenBarrierError, type WaitOptions } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { abortListeners, flush, settle, track, type Tracked, withFakeClock } from './helpers.js';

/** What the suite calls on a barrier. */
export interface BarrierLike {
  readonly parties: number;
  readonly waiting: number;
  readonly broken: boolean;
  wait(arg?: number | WaitOptions): Promise<number>;
  reset(): void;
  abort(): void;
}

const isBroken = (t: Tracked<number>, why?: RegExp) => {
  expect(t.state).to.equal('rejected');
  expect(t.reason).to.be.instanceOf(BrokenBarrierError);
  expect((t.reason as Error).name).to.equal('BrokenBarrierError');
  if (why !== undefined) expect((t.reason as Error).message).to.match(why);
};

/** Runs the suite against the barriers `create(parties)` makes; `name` is their class's name. */
export function barrierSuite(
  name: string,
  create: (parties: number) => BarrierLike,
  /** The class's `from(value)`, for a shared barrier: the tests of a barrier rebuilt from its clone run. */
  from?: (value: unknown) => BarrierLike,
): void {
  describe(`${name}: the behaviour every barrier promises`, () => {
    let clock!: sinon.SinonFakeTimers;
    withFakeClock((c) => (clock = c));

    describe('construction and state', () => {
      for (const [label, parties, type, message] of [
        ['0', 0, RangeError, /parties must be a whole number, 1 or more, got 0/],
        ['-1', -1, RangeError, /parties must be a whole number, 1 or more, got -1/],
        ['1.5', 1.5, RangeError, /got 1\.5/],
        ['NaN', NaN, RangeError, /got NaN/],
        ['Infinity', Infinity, RangeError, /got Infinity/],
        ['a string', '3', TypeError, /parties must be a number, got string "3"/],
        ['undefined', undefined, TypeError, /parties must be a number, got undefined/],
      ] as const) {
        it(`new ${name}(${label}) throws a ${type.name} naming parties`, () => {
          expect(() => create(parties as number)).to.throw(type, message);
        });
      }

      it(`${name}: parties, waiting and broken describe it, as util.inspect and toString do`, async () => {
        const b = create(3);
        expect([b.parties, b.waiting, b.broken]).to.deep.equal([3, 0, false]);
        expect(inspect(b)).to.equal(`${name} { parties: 3, waiting: 0, broken: false }`);
        const first = b.wait();
        expect(b.waiting).to.equal(1);
        expect(inspect(b)).to.equal(`${name} { parties: 3, waiting: 1, broken: false }`);
        expect(Object.prototype.toString.call(b)).to.equal(`[object ${name}]`);
        b.abort();
        expect(inspect(b)).to.equal(`${name} { parties: 3, waiting: 0, broken: true }`);
        await first.catch(() => {});
      });
    });

    describe('rounds', () => {
      it(`${name}(1).wait() passes at once with index 0, every time`, async () => {
        const b = create(1);
        expect(await b.wait()).to.equal(0);
        expect(await b.wait(0)).to.equal(0);
        expect(await b.wait({ timeout: -1, signal: new AbortController().signal })).to.equal(0);
        expect(b.waiting).to.equal(0);
      });

      it(`${name}.wait() waits for every party, then releases them all with their arrival index`, async () => {
        const b = create(3);
        const ps: Tracked<number>[] = [];
        ps.push(track(b.wait()));
        ps.push(track(b.wait(1000)));
        await flush();
        expect(ps.map((p) => p.state)).to.deep.equal(['pending', 'pending']);
        expect(b.waiting).to.equal(2);
        ps.push(track(b.wait({ signal: new AbortController().signal })));
        expect(b.waiting).to.equal(0);
        await flush();
        expect(ps.map((p) => p.value)).to.deep.equal([0, 1, 2]);
        expect(b.broken).to.equal(false);
      });

      it(`${name}: tasks arriving just after a round is released start the next round`, async () => {
        const b = create(2);
        const round1 = [track(b.wait()), track(b.wait())];
        const early = track(b.wait()); // the round above is released, its promises not yet settled
        expect(b.waiting).to.equal(1);
        await flush();
        expect(round1.map((p) => p.value)).to.deep.equal([0, 1]);
        expect(early.state).to.equal('pending');
        const late = track(b.wait());
        await flush();
        expect([early.value, late.value]).to.deep.equal([0, 1]);
      });

      it(`${name}: workers meeting between rounds never run ahead of the slowest`, async () => {
        const b = create(3);
        const log: string[] = [];
        const indices: number[][] = [[], [], [], []];
        const worker = async (id: number) => {
          for (let round = 0; round < 4; round++) {
            await new Promise((r) => setTimeout(r, (id + 1) * 10 + round));
            log.push(`${round}`);
            indices[round]!.push(await b.wait());
          }
        };
        const all = Promise.all([worker(0), worker(1), worker(2)]);
        await clock.tickAsync(1000);
        await all;
        expect(log.join('')).to.equal('000111222333');
        for (const round of indices) expect([...round].sort()).to.deep.equal([0, 1, 2]);
      });

      it(`${name}: the parties of a round resume in the order they arrived, the last one last`, async () => {
        const b = create(3);
        const order: number[] = [];
        const ps = [b.wait(), b.wait(), b.wait()].map((p) => p.then((i) => order.push(i)));
        await Promise.all(ps);
        expect(order).to.deep.equal([0, 1, 2]);
      });

      it(`${name}: a timed or signalled waiter of a completed round leaves no timer and no listener`, async () => {
        const b = create(2);
        const ac = new AbortController();
        const first = b.wait({ timeout: 1000, signal: ac.signal });
        expect(clock.countTimers()).to.equal(1);
        expect(await b.wait()).to.equal(1);
        expect(await first).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
        expect(abortListeners(ac.signal)).to.equal(0);
        ac.abort();
        await clock.tickAsync(2000);
        expect(b.broken).to.equal(false);
      });
    });

    describe('timeouts break it', () => {
      it(`${name}.wait(ms) that times out breaks the barrier: it and every other waiter reject`, async () => {
        const b = create(3);
        const other = track(b.wait());
        const timed = track(b.wait(100));
        await clock.tickAsync(99);
        expect(timed.state).to.equal('pending');
        await clock.tickAsync(1);
        isBroken(timed, /broke before all 3 parties arrived \(a waiter timed out\)/);
        isBroken(other, /a waiter timed out/);
        expect(b.broken).to.equal(true);
        expect(b.waiting).to.equal(0);
        const later = track(b.wait());
        await flush();
        isBroken(later, /the barrier is broken \(a waiter timed out\); reset\(\) it first/);
      });

      it(`${name}: waiters timing out at the same moment all reject, and no timer is left`, async () => {
        const b = create(4);
        const ps = [b.wait(50), b.wait(50), b.wait()].map(track);
        await clock.tickAsync(50);
        for (const p of ps) isBroken(p, /a waiter timed out/);
        expect(clock.countTimers()).to.equal(0);
      });

      it(`${name}.wait(0) completes the round when it is the last party`, async () => {
        const b = create(2);
        const first = track(b.wait());
        const last = track(b.wait(0));
        await flush();
        expect([first.value, last.value]).to.deep.equal([0, 1]);
        expect(b.broken).to.equal(false);
      });

      it(`${name}.wait(0) or a negative timeout breaks the barrier at once when others are still to come`, async () => {
        const b = create(3);
        const waiting = track(b.wait());
        const now = track(b.wait(0));
        expect([b.broken, b.waiting], 'broken before any promise settles').to.deep.equal([true, 0]);
        const alone = create(2);
        const negative = track(alone.wait({ timeout: -5 }));
        expect(alone.broken).to.equal(true);
        await flush();
        isBroken(waiting, /a waiter timed out/);
        isBroken(now, /a waiter timed out/);
        isBroken(negative, /a waiter timed out/);
      });
    });

    describe('aborts break it', () => {
      it(`${name}.wait() aborted rejects with signal.reason, and the others of its round with BrokenBarrierError`, async () => {
        const b = create(3);
        const ac = new AbortController();
        const other = track(b.wait());
        const aborted = track(b.wait({ signal: ac.signal, timeout: 1000 }));
        const reason = new Error('stop');
        ac.abort(reason);
        await flush();
        expect(aborted.reason).to.equal(reason);
        isBroken(other, /a waiter was aborted/);
        expect(b.broken).to.equal(true);
        expect(abortListeners(ac.signal)).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
      });

      it(`${name}: of two waiters sharing an aborted signal, the first rejects with its reason, the other as broken`, async () => {
        const b = create(3);
        const ac = new AbortController();
        const ps = [b.wait({ signal: ac.signal }), b.wait({ signal: ac.signal })].map(track);
        ac.abort('stop');
        await flush();
        expect(ps[0]!.reason).to.equal('stop');
        isBroken(ps[1]!, /a waiter was aborted/);
        expect(abortListeners(ac.signal)).to.equal(0);
      });

      it(`${name}.wait() with an already aborted signal rejects with its reason without arriving or breaking anything`, async () => {
        const b = create(2);
        const first = track(b.wait());
        const reason = new Error('already');
        const refused = track(b.wait({ signal: AbortSignal.abort(reason) }));
        await flush();
        expect(refused.reason).to.equal(reason);
        expect([b.waiting, b.broken]).to.deep.equal([1, false]);
        const second = track(b.wait());
        await flush();
        expect([first.value, second.value]).to.deep.equal([0, 1]);
      });

      for (const [label, arg, type, message] of badWaitArguments) {
        it(`${name}.wait(${label}) rejects with a ${type.name} without arriving or breaking anything`, async () => {
          const b = create(2);
          const first = track(b.wait());
          const t = track((b.wait as (a: unknown) => Promise<number>)(arg));
          await flush();
          expect(t.reason).to.be.instanceOf(type);
          expect((t.reason as Error).message).to.match(message);
          expect([b.waiting, b.broken]).to.deep.equal([1, false]);
          b.reset();
          await flush();
          isBroken(first);
        });
      }
    });

    if (from !== undefined) {
      describe('posted as it is (from)', () => {
        it(`${name}.from(barrier) is the barrier itself`, () => {
          const b = create(2);
          expect(from(b)).to.equal(b);
        });

        it(`${name}.from(its structured clone) is the same barrier: a task waiting through one is seen and released through the other`, async () => {
          const b = create(2);
          const again = from(structuredClone(b));
          expect(again.parties).to.equal(2);
          const first = track(b.wait());
          expect(again.waiting).to.equal(1);
          expect(await again.wait()).to.equal(1);
          await settle(clock, first);
          expect(first.value).to.equal(0);
        });
      });
    }

    describe('reset and abort', () => {
      it(`${name}.reset() rejects the waiting tasks and the barrier is usable at once, indices from 0`, async () => {
        const b = create(3);
        const old = [b.wait(), b.wait(500)].map(track);
        b.reset();
        expect([b.waiting, b.broken]).to.deep.equal([0, false]);
        const fresh = [b.wait(), b.wait(), b.wait()].map(track);
        await flush();
        for (const p of old) isBroken(p, /reset\(\) was called/);
        expect(fresh.map((p) => p.value)).to.deep.equal([0, 1, 2]);
        expect(clock.countTimers()).to.equal(0);
      });

      it(`${name}.reset() repairs a broken barrier`, async () => {
        const b = create(2);
        b.abort();
        expect(b.broken).to.equal(true);
        b.reset();
        expect(b.broken).to.equal(false);
        expect(await Promise.all([b.wait(), b.wait()])).to.deep.equal([0, 1]);
      });

      it(`${name}.abort() breaks it: waiting and later wait() calls reject until reset()`, async () => {
        const b = create(3);
        const waiting = track(b.wait());
        b.abort();
        const later = track(b.wait(1000));
        await flush();
        isBroken(waiting, /broke before all 3 parties arrived \(abort\(\) was called\)/);
        isBroken(later, /the barrier is broken \(abort\(\) was called\)/);
        expect(b.waiting).to.equal(0);
      });

      it(`${name}: a task that fails calls abort() so the others do not wait for ever`, async () => {
        const b = create(3);
        const results: string[] = [];
        const task = async (fails: boolean) => {
          try {
            if (fails) throw new Error('step failed');
            await b.wait();
            results.push('passed');
          } catch (error) {
            if (fails) b.abort();
            results.push((error as Error).name);
          }
        };
        await Promise.all([task(false), task(false), task(true)]);
        expect(results.sort()).to.deep.equal(['BrokenBarrierError', 'BrokenBarrierError', 'Error']);
      });

      it(`${name}: a waiter reports why its own round broke, even when the barrier broke again since`, async () => {
        const b = create(2);
        const first = track(b.wait());
        b.reset();
        const second = track(b.wait());
        b.abort();
        await flush();
        isBroken(first, /reset\(\) was called/);
        isBroken(second, /abort\(\) was called/);
      });
    });
  });
}
