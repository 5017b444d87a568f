/**
 * A timeout is elapsed time, whatever the wall clock does; and a wait times out by the clock that was in
 * force when it started, whatever fake timers are installed or removed afterwards.
 */
import { expect } from 'chai';
import { mock } from 'node:test';
import * as sinon from 'sinon';
import { Condition, Event, Lock, SharedEvent, TimeoutError } from '../../lib/index.js';
import { flush, track } from '../helpers.js';

const HOUR = 3_600_000;

/** A real-time bound: the promise's value, or 'still pending' once `ms` real milliseconds have passed. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still pending'> {
  let timer: ReturnType<typeof setTimeout>;
  const bound = new Promise<'still pending'>((resolve) => (timer = setTimeout(resolve, ms, 'still pending')));
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

describe('Timeouts on a monotonic clock', () => {
  let clock: sinon.SinonFakeTimers;
  afterEach(() => clock?.restore());

  it('a wall clock stepped back an hour lengthens no wait', async () => {
    clock = sinon.useFakeTimers(); // fakes Date and performance: setSystemTime steps only Date
    const e = new Event();
    const short = track(e.wait(300));
    const long = track(e.wait(1_000));
    clock.setSystemTime(Date.now() - HOUR);
    await clock.tickAsync(300);
    expect(short.value).to.equal(false);
    await clock.tickAsync(699);
    expect(long.state).to.equal('pending');
    await clock.tickAsync(1);
    expect(long.value).to.equal(false);
    expect(clock.countTimers()).to.equal(0);
  });

  it('a wall clock stepped forward an hour cuts no wait short', async () => {
    clock = sinon.useFakeTimers();
    const e = new Event();
    const short = track(e.wait(300));
    const long = track(e.wait(2_000));
    clock.setSystemTime(Date.now() + HOUR);
    await clock.tickAsync(300);
    expect([short.value, long.state]).to.deep.equal([false, 'pending']);
    await clock.tickAsync(1_699);
    expect(long.state).to.equal('pending');
    await clock.tickAsync(1);
    expect(long.value).to.equal(false);
  });

  it('Condition.waitFor() and Lock.acquire() measure their timeouts on the same clock', async () => {
    clock = sinon.useFakeTimers();
    const cond = new Condition();
    const lock = new Lock();
    await cond.acquire();
    await lock.acquire();
    const waitFor = track(cond.waitFor(() => false, 1_000));
    const acquire = track(lock.acquire(1_000));
    clock.setSystemTime(Date.now() - HOUR);
    await clock.tickAsync(999);
    expect([waitFor.state, acquire.state]).to.deep.equal(['pending', 'pending']);
    await clock.tickAsync(1);
    expect([waitFor.value, acquire.value]).to.deep.equal([false, false]);
    cond.release();
    lock.release();
  });

  it('with the real timers, a wait never reads the wall clock: a Date stepped back an hour changes nothing', async () => {
    const steps = sinon.stub(Date, 'now').callsFake(() => 1e12 - HOUR * steps.callCount);
    try {
      const start = performance.now();
      const result = await within(new Event().wait(30), 2_000);
      const elapsed = performance.now() - start;
      expect(result).to.equal(false);
      expect(elapsed).to.be.at.least(30);
    } finally {
      steps.restore();
    }
  });

  it('SharedEvent.waitSync() measures its timeout on the monotonic clock, not Date', () => {
    const steps = sinon.stub(Date, 'now').callsFake(() => 1e12 - 10_000 * steps.callCount);
    try {
      const start = performance.now();
      expect(new SharedEvent().waitSync(20)).to.equal(false);
      const elapsed = performance.now() - start;
      expect(elapsed).to.be.within(19, 2_000);
    } finally {
      steps.restore();
    }
  });
});

describe('Fake and real timers on one object', () => {
  it('a wait left pending under fake timers does not strand later real waits on the same event', async () => {
    const e = new Event();
    const clock = sinon.useFakeTimers();
    const fake = track(e.wait(100));
    clock.restore();
    expect(await within(e.wait(40), 2_000)).to.equal(false);
    expect(fake.state, 'its clock never moved').to.equal('pending');
    e.set();
    await flush();
    expect(fake.value).to.equal(true);
  });

  it('a real wait pending when fake timers are installed times out in real time', async () => {
    const e = new Event();
    const real = e.wait(40);
    const clock = sinon.useFakeTimers();
    try {
      const fake = track(e.wait(100));
      await clock.tickAsync(100);
      expect(fake.value).to.equal(false);
    } finally {
      clock.restore();
    }
    expect(await within(real, 2_000)).to.equal(false);
  });

  it('a real timed wait re-arming its timer after fake timers were installed stays on real time', async () => {
    const e = new Event();
    const first = e.wait(20);
    const second = e.wait(60);
    const clock = sinon.useFakeTimers();
    try {
      expect(await within(first, 2_000)).to.equal(false);
      expect(await within(second, 2_000)).to.equal(false);
    } finally {
      clock.restore();
    }
  });
});

describe('One event through real, fake and real timers again', () => {
  it('times out each wait on the clock in force when it started', async () => {
    const e = new Event();
    expect(await within(e.wait(5), 2_000)).to.equal(false);
    const clock = sinon.useFakeTimers();
    try {
      const fake = track(e.wait(100));
      await clock.tickAsync(100);
      expect(fake.value).to.equal(false);
    } finally {
      clock.restore();
    }
    expect(await within(e.wait(5), 2_000)).to.equal(false);
  });

  it('set() releases waits of every clock at once and leaves no timer on any of them', async () => {
    const e = new Event();
    const real = track(e.wait(60_000));
    const clock = sinon.useFakeTimers();
    try {
      const fake = track(e.wait(60_000));
      e.set();
      await flush();
      expect([real.value, fake.value]).to.deep.equal([true, true]);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      clock.restore();
    }
  });
});

/** The ways test runners install fake timers, each after this library was imported. */
const fakes: [string, () => { tick(ms: number): Promise<void>; restore(): void }][] = [
  ['sinon.useFakeTimers() with its defaults', () => sinonFake(sinon.useFakeTimers())],
  [
    'fake timers as vitest installs them (Date and timers, not performance)',
    () =>
      sinonFake(
        sinon.useFakeTimers({
          toFake: [
            'setTimeout',
            'clearTimeout',
            'setImmediate',
            'clearImmediate',
            'setInterval',
            'clearInterval',
            'Date',
          ],
        }),
      ),
  ],
  [
    'fake timers as jest modern timers install them (performance and hrtime too)',
    () =>
      sinonFake(
        sinon.useFakeTimers({
          toFake: [
            'setTimeout',
            'clearTimeout',
            'setImmediate',
            'clearImmediate',
            'setInterval',
            'clearInterval',
            'Date',
            'hrtime',
            'performance',
          ],
        }),
      ),
  ],
  ["node:test mock.timers with ['setTimeout', 'Date']", () => nodeMock(['setTimeout', 'Date'])],
  ["node:test mock.timers with ['setTimeout'] alone", () => nodeMock(['setTimeout'])],
];

function sinonFake(clock: sinon.SinonFakeTimers) {
  return { tick: async (ms: number) => void (await clock.tickAsync(ms)), restore: () => clock.restore() };
}

function nodeMock(apis: ('setTimeout' | 'Date')[]) {
  mock.timers.enable({ apis });
  return {
    async tick(ms: number) {
      mock.timers.tick(ms);
      await flush();
    },
    restore: () => mock.timers.reset(),
  };
}

describe('Fake timers installed after import drive every timeout exactly', () => {
  for (const [name, install] of fakes) {
    it(`${name}: tick 999 leaves waits pending, 1 more times them out`, async () => {
      const fake = install();
      try {
        const e = new Event();
        const lock = new Lock();
        const cond = new Condition();
        await lock.acquire();
        await cond.acquire();
        const wait = track(e.wait(1_000));
        const acquire = track(lock.acquire({ timeout: 1_000 }));
        const exclusive = track(lock.runExclusive(() => 1, 1_000));
        const waitFor = track(cond.waitFor(() => false, 1_000));
        await fake.tick(999);
        expect([wait, acquire, exclusive, waitFor].map((t) => t.state)).to.deep.equal([
          'pending',
          'pending',
          'pending',
          'pending',
        ]);
        await fake.tick(1);
        expect([wait.value, acquire.value, waitFor.value]).to.deep.equal([false, false, false]);
        expect(exclusive.reason).to.be.instanceOf(TimeoutError);
        expect((exclusive.reason as Error).message).to.match(/after 1000 ms/);
      } finally {
        fake.restore();
      }
    });
  }
});
