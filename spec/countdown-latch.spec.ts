/** CountdownLatch: opens once counted down to 0, and stays open; waits as every wait of the family does. */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { CountdownLatch } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { abortListeners, flush, recorder, track, waiterCount, withFakeClock } from './helpers.js';

const badCounts: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['a string', '2', TypeError, /must be a number, got string "2"/],
  ['null', null, TypeError, /must be a number, got null/],
  ['NaN', NaN, RangeError, /must be a whole number, .* got NaN/],
  ['a fraction', 1.5, RangeError, /must be a whole number, .* got 1\.5/],
  ['Infinity', Infinity, RangeError, /got Infinity/],
  ['negative', -1, RangeError, /got -1/],
  [
    '2^53, a whole number too large to count with',
    2 ** 53,
    RangeError,
    /must be at most 2\^53 - 1, got 9007199254740992/,
  ],
];

describe('CountdownLatch', () => {
  let clock!: sinon.SinonFakeTimers;
  withFakeClock((c) => (clock = c));

  it('CountdownLatch.wait() resolves once countDown() has been called count times, releasing waiters in order', async () => {
    const latch = new CountdownLatch(3);
    const { log, note } = recorder();
    note('a', latch.wait());
    note('b', latch.wait(1000));
    note('c', latch.wait({ signal: new AbortController().signal }));
    latch.countDown();
    latch.countDown();
    await flush();
    expect(log).to.deep.equal([]);
    expect(latch.count).to.equal(1);
    latch.countDown();
    await flush();
    expect(log).to.deep.equal(['a:true', 'b:true', 'c:true']);
    expect(latch.count).to.equal(0);
    expect(clock.countTimers()).to.equal(0);
  });

  it('CountdownLatch stays open once at 0, and a latch made with 0 is open from the start', async () => {
    const latch = new CountdownLatch(1);
    latch.countDown();
    expect(await latch.wait()).to.equal(true);
    expect(await latch.wait(0)).to.equal(true);
    expect(await new CountdownLatch(0).wait()).to.equal(true);
  });

  it('CountdownLatch.countDown(n) lowers the count by n', async () => {
    const latch = new CountdownLatch(5);
    const t = track(latch.wait());
    latch.countDown(4);
    expect(latch.count).to.equal(1);
    latch.countDown(1);
    await flush();
    expect(t.value).to.equal(true);
  });

  it('CountdownLatch.countDown() below 0 throws a RangeError and changes nothing', () => {
    const latch = new CountdownLatch(2);
    expect(() => latch.countDown(3)).to.throw(
      RangeError,
      'CountdownLatch.countDown(3) would take the count below 0: it is 2',
    );
    expect(latch.count).to.equal(2);
    latch.countDown(2);
    expect(() => latch.countDown()).to.throw(RangeError, /it is 0/);
    expect(latch.count).to.equal(0);
  });

  it('CountdownLatch.wait(ms) resolves false when the count does not reach 0 in time, and leaves at once', async () => {
    const latch = new CountdownLatch(1);
    const timed = track(latch.wait(100));
    const forever = track(latch.wait());
    await clock.tickAsync(100);
    expect(timed.value).to.equal(false);
    expect(waiterCount(latch)).to.equal(1);
    expect(await latch.wait(0)).to.equal(false);
    latch.countDown();
    await flush();
    expect(forever.value).to.equal(true);
  });

  it('CountdownLatch.wait() aborted rejects with signal.reason and leaves no listener', async () => {
    const latch = new CountdownLatch(1);
    const ac = new AbortController();
    const t = track(latch.wait({ signal: ac.signal, timeout: 1000 }));
    ac.abort('stop');
    await flush();
    expect(t.reason).to.equal('stop');
    expect(abortListeners(ac.signal)).to.equal(0);
    expect(clock.countTimers()).to.equal(0);
    expect(waiterCount(latch)).to.equal(0);
  });

  it('CountdownLatch shows its state in util.inspect and Object.prototype.toString', () => {
    const latch = new CountdownLatch(2);
    void latch.wait();
    expect(inspect(latch)).to.equal('CountdownLatch { count: 2, waiters: 1 }');
    latch.countDown(2);
    expect(inspect(latch)).to.equal('CountdownLatch { count: 0, waiters: 0 }');
    expect(Object.prototype.toString.call(latch)).to.equal('[object CountdownLatch]');
  });

  for (const [label, value, type, message] of badCounts) {
    it(`new CountdownLatch(${label}) throws a ${type.name} naming count, and countDown(${label}) one naming n`, () => {
      expect(() => new CountdownLatch(value as number)).to.throw(type, /^count /);
      expect(() => new CountdownLatch(value as number)).to.throw(type, message);
      const latch = new CountdownLatch(5);
      expect(() => latch.countDown(value as number)).to.throw(type, /^n /);
      expect(latch.count).to.equal(5);
    });
  }

  it('CountdownLatch.countDown(0) throws a RangeError: it counts down at least 1', () => {
    expect(() => new CountdownLatch(1).countDown(0)).to.throw(RangeError, /^n must be a whole number, 1 or more/);
  });

  for (const [label, arg, type, message] of badWaitArguments) {
    it(`CountdownLatch.wait(${label}) rejects with a ${type.name}, never throws`, async () => {
      const latch = new CountdownLatch(1);
      let p: Promise<boolean> | undefined;
      expect(() => (p = (latch.wait as (a: unknown) => Promise<boolean>)(arg))).not.to.throw();
      const t = track(p!);
      await flush();
      expect(t.reason).to.be.instanceOf(type);
      expect((t.reason as Error).message).to.match(message);
      expect(waiterCount(latch)).to.equal(0);
    });
  }
});
