/**
 * The behaviour every event promises, written once as a function of a factory and run against `Event`
 * and `SharedEvent` (with and without `Atomics.waitAsync`). The fake clock is installed before each test
 * and removed after it; every test ends with nothing pending, and the teardown checks that no timer is
 * left behind.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import type { WaitOptions } from '../lib/index.js';
import { abortListeners, withFakeClock, flush, recorder, settle, track, waiterCount } from './helpers.js';

/** Arguments every wait-like method refuses, with the error each must reject with. */
export const badWaitArguments: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['NaN', NaN, RangeError, /timeout.*NaN/],
  ['a string', '100', TypeError, /timeout must be a number.*string "100"/],
  ['null', null, TypeError, /options object.*null/],
  ['a boolean', true, TypeError, /options object.*boolean true/],
  ['a bigint', 10n, TypeError, /options object.*bigint 10/],
  ['options.timeout NaN', { timeout: NaN }, RangeError, /options\.timeout.*NaN/],
  ['options.timeout a string', { timeout: '1' }, TypeError, /options\.timeout must be a number/],
  ['options.signal not a signal', { signal: {} }, TypeError, /options\.signal must be an AbortSignal/],
  ['options.signal null', { signal: null }, TypeError, /options\.signal must be an AbortSignal, got null/],
  ['a symbol', Symbol('s'), TypeError, /options object.*got symbol/],
  ['a function', () => 1, TypeError, /options object.*got function/],
  ['a long string', 'x'.repeat(50), TypeError, /got string "x{20}…"$/],
  ['options.timeout an object', { timeout: new Date(0) }, TypeError, /options\.timeout .*got Date object/],
];

export interface EventLike {
  isSet(): boolean;
  set(): void;
  clear(): void;
  wait(): Promise<true>;
  wait(timeout: number): Promise<boolean>;
  wait(options: WaitOptions): Promise<boolean>;
}

export interface SuiteOptions {
  /** The name `util.inspect` shows. */
  inspectName: string;
  /**
   * Whether the implementation polls with a timer while it has waiters. Such a pending wait holds a
   * timer, and the tests that move the fake clock by 2^31 ms and more (tens of millions of polls) run
   * only where it does not: the deadline code they test is the same for both.
   */
  polls: boolean;
  /** The class's `from(value)`, for a shared event: the tests of an event rebuilt from its clone run. */
  from?: (value: unknown) => EventLike;
}

export function eventSuite(name: string, create: () => EventLike, options: SuiteOptions): void {
  describe(`${name}: the behaviour every event promises`, () => {
    let clock!: sinon.SinonFakeTimers;
    withFakeClock((c) => (clock = c));

    describe('set, clear, isSet', () => {
      it(`${name}: a new event is not set`, () => {
        expect(create().isSet()).to.equal(false);
      });

      it(`${name}.set() sets the flag and clear() clears it`, () => {
        const e = create();
        e.set();
        expect(e.isSet()).to.equal(true);
        e.set();
        expect(e.isSet()).to.equal(true);
        e.clear();
        expect(e.isSet()).to.equal(false);
        e.clear();
        expect(e.isSet()).to.equal(false);
      });

      it(`${name}.set and .clear work when passed as callbacks`, () => {
        const e = create();
        const { set, clear } = e;
        set();
        expect(e.isSet()).to.equal(true);
        clear();
        expect(e.isSet()).to.equal(false);
      });

      it(`${name}: Object.prototype.toString names it`, () => {
        expect(Object.prototype.toString.call(create())).to.equal(`[object ${options.inspectName}]`);
      });

      it(`${name} shows its state in util.inspect`, async () => {
        const e = create();
        expect(inspect(e)).to.equal(`${options.inspectName} { set: false, waiters: 0 }`);
        const a = e.wait();
        const b = e.wait(100);
        expect(inspect(e)).to.equal(`${options.inspectName} { set: false, waiters: 2 }`);
        e.set();
        expect(inspect(e)).to.equal(`${options.inspectName} { set: true, waiters: 0 }`);
        await Promise.all([a, b]);
      });
    });

    describe('wait', () => {
      it(`${name}.set() releases every pending waiter with true, in the order they called wait()`, async () => {
        const e = create();
        const { log, note } = recorder();
        note('a', e.wait());
        note('b', e.wait(1000));
        note('c', e.wait({ signal: new AbortController().signal }));
        note('d', e.wait({ timeout: 50, signal: new AbortController().signal }));
        note('e', e.wait({}));
        await flush();
        expect(log).to.deep.equal([]);
        e.set();
        await flush();
        expect(log).to.deep.equal(['a:true', 'b:true', 'c:true', 'd:true', 'e:true']);
        expect(waiterCount(e)).to.equal(0);
      });

      it(`${name}.set() on a set event does not release later waiters twice or change anything`, async () => {
        const e = create();
        e.set();
        const p = track(e.wait());
        e.set();
        await flush();
        expect(p).to.deep.equal({ state: 'fulfilled', value: true });
      });

      it(`${name}: a waiter pending at set() resolves true even if clear() follows at once`, async () => {
        const e = create();
        const before = track(e.wait());
        const timed = track(e.wait(10));
        e.set();
        e.clear();
        const after = track(e.wait());
        await flush();
        expect(before.state).to.equal('fulfilled');
        expect(before.value).to.equal(true);
        expect(timed.value).to.equal(true);
        expect(after.state, 'a wait that starts after clear() stays pending').to.equal('pending');
        clock.tick(1_000_000);
        await flush();
        expect(after.state).to.equal('pending');
        e.set();
        await flush();
        expect(after.value).to.equal(true);
      });

      it(`${name}.wait() on a set event resolves true at once, with no timer and no queue entry`, async () => {
        const e = create();
        e.set();
        const ps = [e.wait(), e.wait(1000), e.wait({ timeout: 5 }), e.wait({ signal: new AbortController().signal })];
        expect(clock.countTimers()).to.equal(0);
        expect(waiterCount(e)).to.equal(0);
        const results = ps.map(track);
        await flush();
        expect(results.map((r) => r.value)).to.deep.equal([true, true, true, true]);
      });

      it(`${name}.wait() without a timeout waits for ever${options.polls ? '' : ', holding no timer'}`, async () => {
        const e = create();
        const p = track(e.wait());
        const q = track(e.wait({ timeout: undefined }));
        const r = track(e.wait(Infinity));
        if (!options.polls) expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(options.polls ? 3_600_000 : 2 ** 40);
        expect([p.state, q.state, r.state]).to.deep.equal(['pending', 'pending', 'pending']);
        e.set();
        await flush();
        expect([p.value, q.value, r.value]).to.deep.equal([true, true, true]);
      });
    });

    describe('timeouts', () => {
      it(`${name}.wait(ms) resolves false when ms pass first, not a millisecond early`, async () => {
        const e = create();
        const p = track(e.wait(100));
        const q = track(e.wait({ timeout: 100 }));
        await clock.tickAsync(99);
        expect(p.state).to.equal('pending');
        await clock.tickAsync(1);
        expect(p).to.deep.equal({ state: 'fulfilled', value: false });
        expect(q).to.deep.equal({ state: 'fulfilled', value: false });
        expect(waiterCount(e)).to.equal(0);
      });

      it(`${name}.wait(ms) resolves true when set() comes first, and leaves no timer`, async () => {
        const e = create();
        const p = track(e.wait(100));
        await clock.tickAsync(50);
        e.set();
        await flush();
        expect(p.value).to.equal(true);
        expect(clock.countTimers()).to.equal(0);
      });

      it(`${name}: waiters with different timeouts time out each at its own deadline`, async () => {
        const e = create();
        const { log, note } = recorder();
        note('300', e.wait(300));
        note('100', e.wait(100));
        note('200', e.wait({ timeout: 200 }));
        note('none', e.wait());
        await clock.tickAsync(100);
        expect(log).to.deep.equal(['100:false']);
        await clock.tickAsync(100);
        expect(log).to.deep.equal(['100:false', '200:false']);
        await clock.tickAsync(100);
        expect(log).to.deep.equal(['100:false', '200:false', '300:false']);
        note('150', e.wait(150));
        await clock.tickAsync(149);
        expect(log).to.have.length(3);
        e.set();
        await flush();
        expect(log).to.deep.equal(['100:false', '200:false', '300:false', 'none:true', '150:true']);
      });

      it(`${name}: 200 waiters with shuffled timeouts time out in deadline order`, async () => {
        const e = create();
        const order: number[] = [];
        const timeouts = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 200) + 1);
        const waits = timeouts.map((t) => e.wait(t).then(() => order.push(t)));
        for (let ms = 0; ms < 200; ms++) await clock.tickAsync(1);
        await Promise.all(waits);
        expect(order).to.deep.equal([...timeouts].sort((a, b) => a - b));
      });

      it(`${name}.wait(0) and negative timeouts answer with the flag at once, with no timer`, async () => {
        const e = create();
        const ps = [e.wait(0), e.wait(-1), e.wait(-Infinity), e.wait({ timeout: 0 })].map(track);
        expect(clock.countTimers()).to.equal(0);
        expect(waiterCount(e)).to.equal(0);
        await flush();
        expect(ps.map((p) => p.value)).to.deep.equal([false, false, false, false]);
        e.set();
        const qs = [e.wait(0), e.wait(-5)].map(track);
        await flush();
        expect(qs.map((p) => p.value)).to.deep.equal([true, true]);
      });

      if (!options.polls) {
        it(`${name}.wait() with a timeout above 2^31-1 ms waits the full time`, async () => {
          const e = create();
          const big = 2 ** 31 + 10_000;
          const p = track(e.wait(big));
          await clock.tickAsync(2 ** 31 - 1);
          expect(p.state).to.equal('pending');
          await clock.tickAsync(big - (2 ** 31 - 1) - 1);
          expect(p.state).to.equal('pending');
          await clock.tickAsync(1);
          expect(p.value).to.equal(false);
        });
      }

      if (!options.polls) {
        it(`${name}.wait() with a huge timeout (1e300 ms) stays pending and is released by set()`, async () => {
          const e = create();
          const p = track(e.wait(1e300));
          await clock.tickAsync(2 ** 33);
          expect(p.state).to.equal('pending');
          e.set();
          await flush();
          expect(p.value).to.equal(true);
        });
      }

      it(`${name}: a timer firing after the wall clock stepped back still times the waiter out`, async () => {
        const e = create();
        const p = track(e.wait(100));
        clock.setSystemTime(Date.now() - 50_000);
        await clock.tickAsync(100);
        expect(p.value).to.equal(false);
      });
    });

    describe('timers called as browsers require', () => {
      it(`${name} calls setTimeout and clearTimeout on globalThis, as browsers require (else "Illegal invocation")`, async () => {
        const { setTimeout: set, clearTimeout: clear } = globalThis;
        const strict = <F extends (...args: never[]) => unknown>(f: F) =>
          function (this: unknown, ...args: Parameters<F>) {
            if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
            return f(...args);
          };
        globalThis.setTimeout = strict(set) as typeof set;
        globalThis.clearTimeout = strict(clear) as typeof clear;
        try {
          const e = create();
          const released = track(e.wait(100));
          const pending = track(e.wait());
          e.set();
          e.clear();
          const timedOut = track(e.wait(50));
          await clock.tickAsync(50);
          const plain = track(e.wait());
          e.set();
          await flush();
          expect([released.value, pending.value, timedOut.value, plain.value]).to.deep.equal([true, true, false, true]);
        } finally {
          globalThis.setTimeout = set;
          globalThis.clearTimeout = clear;
        }
      });
    });

    describe('abort', () => {
      it(`${name}.wait() with an already aborted signal rejects with signal.reason`, async () => {
        const e = create();
        const reason = new Error('stop');
        const signal = AbortSignal.abort(reason);
        const ps = [e.wait({ signal }), e.wait({ signal, timeout: 0 })].map(track);
        e.set();
        const q = track(e.wait({ signal }));
        await flush();
        expect(ps.map((p) => p.reason)).to.deep.equal([reason, reason]);
        expect(q.reason).to.equal(reason);
        expect(abortListeners(signal)).to.equal(0);
      });

      it(`${name}.wait() rejects with the same signal.reason object when aborted while waiting`, async () => {
        const e = create();
        const ac = new AbortController();
        const p = track(e.wait({ signal: ac.signal }));
        const q = track(e.wait({ signal: ac.signal, timeout: 1000 }));
        const other = track(e.wait());
        const reason = { why: 'shutdown' };
        ac.abort(reason);
        await flush();
        expect(p.reason).to.equal(reason);
        expect(q.reason).to.equal(reason);
        expect(other.state).to.equal('pending');
        expect(waiterCount(e)).to.equal(1);
        expect(abortListeners(ac.signal)).to.equal(0);
        e.set();
        await flush();
        expect(other.value).to.equal(true);
      });

      it(`${name}.wait() uses the default AbortError reason of abort()`, async () => {
        const e = create();
        const ac = new AbortController();
        const p = track(e.wait({ signal: ac.signal }));
        ac.abort();
        await flush();
        expect(p.reason).to.be.instanceOf(DOMException);
        expect((p.reason as DOMException).name).to.equal('AbortError');
        expect(p.reason).to.equal(ac.signal.reason);
      });

      it(`${name}: aborting after the wait settled does nothing`, async () => {
        const e = create();
        const ac = new AbortController();
        const timedOut = track(e.wait({ signal: ac.signal, timeout: 10 }));
        await clock.tickAsync(10);
        const released = track(e.wait({ signal: ac.signal }));
        e.set();
        await flush();
        expect(abortListeners(ac.signal)).to.equal(0);
        ac.abort();
        await flush();
        expect(timedOut).to.deep.equal({ state: 'fulfilled', value: false });
        expect(released).to.deep.equal({ state: 'fulfilled', value: true });
      });

      it(`${name}: a timed waiter aborted before its deadline leaves no timer`, async () => {
        const e = create();
        const ac = new AbortController();
        const p = track(e.wait({ signal: ac.signal, timeout: 10_000 }));
        ac.abort();
        await flush();
        expect(p.state).to.equal('rejected');
        expect(clock.countTimers()).to.equal(0);
        expect(waiterCount(e)).to.equal(0);
      });
    });

    describe('nothing leaks', () => {
      it(`${name}: a waiter that timed out or was aborted leaves the queue at once`, async () => {
        const e = create();
        const ac = new AbortController();
        const keep = e.wait();
        void e.wait(10);
        const aborted = e.wait({ signal: ac.signal }).catch(() => 'aborted');
        expect(waiterCount(e)).to.equal(3);
        await clock.tickAsync(10);
        expect(waiterCount(e)).to.equal(2);
        ac.abort();
        expect(waiterCount(e)).to.equal(1);
        expect(await aborted).to.equal('aborted');
        e.set();
        await keep;
      });

      it(`${name}: a long-lived signal reused for 100,000 sequential waits never holds more than one listener`, async () => {
        const e = create();
        const ac = new AbortController();
        let most = 0;
        for (let i = 0; i < 100_000; i++) {
          const p = e.wait({ signal: ac.signal, timeout: 1000 });
          most = Math.max(most, abortListeners(ac.signal));
          if (i % 2 === 0) {
            e.set();
            e.clear();
          } else {
            clock.tick(1000);
          }
          await p;
        }
        expect(most).to.equal(1);
        expect(abortListeners(ac.signal)).to.equal(0);
      });

      it(`${name}: 50,000 waiters sharing one signal hold one listener and all reject when it aborts`, async () => {
        const e = create();
        const ac = new AbortController();
        const warnings: Error[] = [];
        const onWarning = (w: Error) => warnings.push(w);
        process.on('warning', onWarning);
        try {
          const ps = Array.from({ length: 50_000 }, (_, i) =>
            e.wait(i % 2 ? { signal: ac.signal } : { signal: ac.signal, timeout: 60_000 }).catch((r: unknown) => r),
          );
          expect(abortListeners(ac.signal)).to.equal(1);
          const reason = new Error('shutdown');
          ac.abort(reason);
          const reasons = await Promise.all(ps);
          expect(reasons.every((r) => r === reason)).to.equal(true);
          expect(abortListeners(ac.signal)).to.equal(0);
          expect(waiterCount(e)).to.equal(0);
          await flush();
          expect(warnings).to.deep.equal([]);
        } finally {
          process.off('warning', onWarning);
        }
      });
    });

    const from = options.from;
    if (from !== undefined) {
      describe('posted as it is (from)', () => {
        it(`${name}.from(event) is the event itself`, () => {
          const e = create();
          expect(from(e)).to.equal(e);
        });

        it(`${name}.from(its structured clone) is the same event: each sees the other's set() and clear(), and wakes the other's waiters`, async () => {
          const e = create();
          const again = from(structuredClone(e));
          again.set();
          expect(e.isSet()).to.equal(true);
          e.clear();
          expect(again.isSet()).to.equal(false);
          const first = track(e.wait());
          const second = track(again.wait(60_000));
          again.set();
          expect(second.value).to.equal(undefined); // settles later, as a promise does
          await settle(clock, first);
          await flush();
          expect([first.value, second.value]).to.deep.equal([true, true]);
        });
      });
    }

    describe('bad input', () => {
      for (const [label, arg, type, message] of badWaitArguments) {
        it(`${name}.wait(${label}) rejects with a ${type.name} naming the argument, and never throws`, async () => {
          const e = create();
          let p: Promise<boolean> | undefined;
          expect(() => {
            p = (e.wait as (a: unknown) => Promise<boolean>)(arg);
          }).not.to.throw();
          const t = track(p!);
          await flush();
          expect(t.state).to.equal('rejected');
          expect(t.reason).to.be.instanceOf(type);
          expect((t.reason as Error).message).to.match(message);
          expect(waiterCount(e)).to.equal(0);
        });
      }

      it(`${name}.wait() rejects bad input even when the event is set`, async () => {
        const e = create();
        e.set();
        const t = track((e.wait as (a: unknown) => Promise<boolean>)('x'));
        await flush();
        expect(t.reason).to.be.instanceOf(TypeError);
      });
    });
  });
}
