import { expect } from 'chai';
import * as sinon from 'sinon';
import { mock } from 'node:test';
import { Event } from '../lib/index.js';
import { eventSuite } from './event-suite.js';
import { flush, track } from './helpers.js';

eventSuite('Event', () => new Event(), { inspectName: 'Event', polls: false });

describe('Event', () => {
  it('Event: timeouts follow Node mock.timers (setTimeout and Date mocked) enabled after import', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
    try {
      const e = new Event();
      const a = track(e.wait(100));
      const b = track(e.wait(250));
      mock.timers.tick(99);
      await flush();
      expect(a.state).to.equal('pending');
      mock.timers.tick(1);
      await flush();
      expect(a.value).to.equal(false);
      expect(b.state).to.equal('pending');
      mock.timers.tick(150);
      await flush();
      expect(b.value).to.equal(false);
    } finally {
      mock.timers.reset();
    }
  });

  it('Event: timeouts follow Node mock.timers with only setTimeout mocked', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const e = new Event();
      const a = track(e.wait(100));
      mock.timers.tick(100);
      await flush();
      expect(a.value).to.equal(false);
    } finally {
      mock.timers.reset();
    }
  });

  it('Event: a waiter released by set() frees its timer even while other waiters keep theirs', async () => {
    const clock = sinon.useFakeTimers();
    try {
      const a = new Event();
      const b = new Event();
      const pa = track(a.wait(50));
      const pb = track(b.wait(100));
      a.set();
      expect(clock.countTimers()).to.equal(1);
      await clock.tickAsync(100);
      expect(pa.value).to.equal(true);
      expect(pb.value).to.equal(false);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      clock.restore();
    }
  });

  it('Event: many timed waits released early do not pile up in the timer heap', async () => {
    const clock = sinon.useFakeTimers();
    try {
      const slow = new Event();
      const pending = track(slow.wait(1_000_000));
      const fast = new Event();
      for (let i = 0; i < 10_000; i++) {
        const p = fast.wait(500_000);
        fast.set();
        fast.clear();
        await p;
      }
      expect(clock.countTimers()).to.equal(1);
      await clock.tickAsync(1_000_000);
      expect(pending.value).to.equal(false);
    } finally {
      clock.restore();
    }
  });

  it('Event: its types say wait() is Promise<true> and wait(ms) is Promise<boolean>', () => {
    const e = new Event();
    e.set();
    const plain: Promise<true> = e.wait();
    // @ts-expect-error wait(ms) may resolve false
    const timed: Promise<true> = e.wait(5);
    // @ts-expect-error wait(options) may resolve false
    const withOptions: Promise<true> = e.wait({ timeout: 5 });
    const ok: Promise<boolean> = e.wait({ signal: new AbortController().signal });
    // @ts-expect-error the timeout is a number
    void e.wait('5');
    // @ts-expect-error unknown options are refused by the types
    void e.wait({ time: 5 });
    expect([plain, timed, withOptions, ok].every((p) => p instanceof Promise)).to.equal(true);
  });
});
