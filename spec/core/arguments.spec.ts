/**
 * What callers pass is read once, before the primitive looks at its own state, and a bad argument is
 * refused with an error that names it and shows its value.
 */
import { expect } from 'chai';
import { BoundedSemaphore, Condition, Event, Lock, SharedEvent } from '../../lib/index.js';
import { flush, track } from '../helpers.js';

describe('Options read through getters', () => {
  it('Lock.acquire(): a getter that takes the free lock leaves one holder, the caller queued', async () => {
    const lock = new Lock();
    let taken: Promise<boolean> | undefined;
    const options = {
      get timeout() {
        taken = lock.acquire();
        return 1_000_000;
      },
    };
    const mine = track(lock.acquire(options));
    await flush();
    expect(await taken).to.equal(true);
    expect(mine.state, 'the lock has one holder').to.equal('pending');
    lock.release();
    await flush();
    expect(mine.value).to.equal(true);
    lock.release();
    expect(lock.locked()).to.equal(false);
  });

  it('Event.wait(): a getter that sets the event makes the wait resolve true, not wait for ever', async () => {
    const e = new Event();
    const t = track(
      e.wait({
        get signal() {
          e.set();
          return undefined;
        },
      }),
    );
    await flush();
    expect(t.value).to.equal(true);
  });

  it('Condition.wait(): a getter that releases the lock makes the wait reject, never throw', async () => {
    const cond = new Condition();
    await cond.acquire();
    let result: Promise<boolean> | undefined;
    expect(() => {
      result = cond.wait({
        get timeout() {
          cond.release();
          return 100;
        },
      });
    }).not.to.throw();
    const t = track(result!);
    await flush();
    expect(t.state).to.equal('rejected');
    expect(String(t.reason)).to.match(/needs the lock held/);
    expect(cond.locked()).to.equal(false);
  });

  it('Condition.wait(): a getter that notifies another waiter still leaves the lock released while this one waits', async () => {
    const cond = new Condition();
    const log: string[] = [];
    await cond.acquire();
    const a = cond.wait().then((v) => {
      log.push(`A ${v}`);
      cond.release();
    });
    await cond.acquire();
    const b = cond
      .wait({
        get timeout() {
          cond.notify();
          return 50;
        },
      })
      .then((v) => {
        log.push(`B ${v}`);
        cond.release();
      });
    await flush();
    expect(log).to.deep.equal(['A true']);
    await cond.acquire();
    cond.notify();
    cond.release();
    await Promise.all([a, b]);
    expect(log).to.deep.equal(['A true', 'B true']);
    expect(cond.locked()).to.equal(false);
  });

  it('Condition.wait(): a getter that starts another wait (releasing the lock) makes this call reject, not release again', async () => {
    const cond = new Condition();
    await cond.acquire();
    const inner: Promise<boolean>[] = [];
    const outer = track(
      cond.wait({
        get timeout() {
          inner.push(cond.wait()); // queues and releases the lock
          return 1_000;
        },
      }),
    );
    await flush();
    expect(String(outer.reason)).to.match(/needs the lock held/);
    expect(cond.locked()).to.equal(false);
    await cond.acquire();
    cond.notify();
    cond.release();
    expect(await inner[0]).to.equal(true);
    cond.release();
  });

  it('SharedEvent.wait(): a getter that sets and clears the event strands no waiter', async () => {
    const e = new SharedEvent();
    const a = e.wait();
    const b = track(
      e.wait({
        get timeout() {
          e.set();
          e.clear();
          return 10_000;
        },
      }),
    );
    expect(await a).to.equal(true);
    e.set();
    await flush();
    expect(b.value).to.equal(true);
  });

  it('Event.wait({}) waits for ever, like wait()', async () => {
    const e = new Event();
    const t = track(e.wait({}));
    await flush();
    expect(t.state).to.equal('pending');
    e.set();
    await flush();
    expect(t.value).to.equal(true);
  });

  it('each option is read exactly once', async () => {
    const e = new Event();
    const reads: string[] = [];
    const c = new AbortController();
    await e.wait({
      get timeout() {
        reads.push('timeout');
        return 0;
      },
      get signal() {
        reads.push('signal');
        return c.signal;
      },
    });
    expect(reads.sort()).to.deep.equal(['signal', 'timeout']);
  });
});

describe('Arguments that are not options', () => {
  for (const [name, value, shown] of [
    ['a Number object', new Number(5), /got Number object/],
    ['an array', [100], /got Array object/],
    ['a Date', new Date(0), /got Date object/],
    ['a Map', new Map([['timeout', 1]]), /got Map object/],
  ] as const) {
    it(`wait(${name}) rejects with a TypeError naming what was passed, instead of waiting for ever`, async () => {
      for (const p of [new Event().wait(value as never), new Lock().acquire(value as never)]) {
        const t = track(p);
        await flush();
        expect(t.reason).to.be.instanceOf(TypeError);
        expect(String(t.reason)).to.match(shown);
      }
    });
  }
});

describe('Error messages show the value', () => {
  it('Lock.runExclusive(fn, 0) on a held lock rejects with a TimeoutError "after 0 ms"', async () => {
    const lock = new Lock();
    await lock.acquire();
    const error = await lock.runExclusive(() => 1, 0).catch((e: unknown) => e);
    expect(String(error)).to.match(/timed out after 0 ms/);
    lock.release();
  });

  it('Lock.runExclusive() reads a timeout given as options once', async () => {
    const lock = new Lock();
    await lock.acquire();
    let reads = 0;
    const options = {
      get timeout() {
        return reads++ === 0 ? 0 : 1_000_000;
      },
    };
    const error = await lock.runExclusive(() => 1, options).catch((e: unknown) => e);
    expect(String(error)).to.match(/after 0 ms/);
    expect(reads).to.equal(1);
    lock.release();
  });

  it('Condition.notify() shows the bad count', async () => {
    const cond = new Condition();
    await cond.acquire();
    expect(() => cond.notify(-1)).to.throw(RangeError, /n must be a whole number.*got -1$/);
    expect(() => cond.notify(1.5)).to.throw(RangeError, /got 1\.5$/);
    expect(() => cond.notify(NaN)).to.throw(RangeError, /got NaN$/);
    expect(() => cond.notify('2' as never)).to.throw(TypeError, /n must be a number, got string "2"$/);
    cond.release();
  });

  it('counts past 2^53 - 1, where n - 1 === n, are a RangeError', () => {
    expect(() => new BoundedSemaphore(2 ** 60)).to.throw(
      RangeError,
      /value must be at most 2\^53 - 1, got 1152921504606847000/,
    );
    expect(String(new BoundedSemaphore(-0).value)).to.equal('0');
  });

  it('new SharedEvent() shows the bad byteOffset', () => {
    const buffer = new SharedArrayBuffer(8);
    expect(() => new SharedEvent(buffer, 3)).to.throw(RangeError, /got 3$/);
    expect(() => new SharedEvent(buffer, -4)).to.throw(RangeError, /got -4$/);
  });

  it('new SharedEvent() refuses an object that only calls itself a SharedArrayBuffer with a TypeError', () => {
    const fake = { [Symbol.toStringTag]: 'SharedArrayBuffer', byteLength: 8 };
    expect(() => new SharedEvent(fake as never)).to.throw(TypeError, /buffer must be a SharedArrayBuffer/);
  });
});
