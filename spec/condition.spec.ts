/** Condition, after the intent of CPython's ConditionTests (test_asyncio/test_locks.py). */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { Condition, Event, Lock } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { abortListeners, fakeClock, withFakeClock, flush, track, waiterCount } from './helpers.js';
import { within } from './workers/agents.js';
import { lockSuite } from './lock-suite.js';

lockSuite('Condition', () => {
  const lock = new Lock();
  return { lock: new Condition(lock), waiters: () => waiterCount(lock) };
});

/** Starts a task that takes the lock, waits on the condition as `wait` says, and records how it ends. */
function waiter(cond: Condition, log: string[], name: string, wait: (c: Condition) => Promise<unknown>) {
  return (async () => {
    await cond.acquire();
    try {
      const result = await wait(cond).catch((e: unknown) => `rejected:${String((e as Error).message ?? e)}`);
      log.push(`${name}:${String(result)}:${cond.locked() ? 'locked' : 'free'}`);
    } finally {
      cond.release();
    }
  })();
}

describe('Condition', () => {
  let clock!: sinon.SinonFakeTimers;
  withFakeClock((c) => (clock = c));

  it('Condition.lock() holds the lock the condition shares: wait() and notify() work inside using', async () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    const items: number[] = [];
    const consumer = (async () => {
      using _held = await cond.lock();
      await cond.waitFor(() => items.length > 0);
      expect(lock.locked()).to.equal(true);
      return items.shift();
    })();
    await flush();
    expect(lock.locked(), 'released while the consumer waits').to.equal(false);
    {
      using _held = await cond.lock();
      expect(lock.locked()).to.equal(true);
      items.push(7);
      cond.notify();
    }
    expect(await consumer).to.equal(7);
    expect(lock.locked()).to.equal(false);
  });

  it('Condition.wait() releases the lock while waiting and holds it again when it resolves', async () => {
    const cond = new Condition();
    const log: string[] = [];
    const task = waiter(cond, log, 'w', (c) => c.wait());
    await flush();
    expect(cond.locked(), 'released while waiting').to.equal(false);
    await cond.acquire();
    cond.notify();
    await flush();
    expect(log, 'cannot resume before the notifier releases the lock').to.deep.equal([]);
    cond.release();
    await task;
    expect(log).to.deep.equal(['w:true:locked']);
    expect(cond.locked()).to.equal(false);
  });

  it('Condition.wait(), waitFor(), notify() and notifyAll() need the lock held', async () => {
    const cond = new Condition();
    const w = track(cond.wait());
    const timed = track(cond.wait(10));
    const f = track(cond.waitFor(() => true));
    await flush();
    expect((w.reason as Error).message).to.match(/Condition\.wait\(\) needs the lock held/);
    expect((timed.reason as Error).message).to.match(/Condition\.wait\(\) needs the lock held/);
    expect((f.reason as Error).message).to.match(/Condition\.waitFor\(\) needs the lock held/);
    expect(() => cond.notify()).to.throw(Error, /Condition\.notify\(\) needs the lock held/);
    expect(() => cond.notifyAll()).to.throw(Error, /Condition\.notifyAll\(\) needs the lock held/);
  });

  it('Condition.notify(n) wakes the n longest-waiting waiters, in order, one lock holder at a time', async () => {
    const cond = new Condition();
    const log: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((n) => waiter(cond, log, n, (c) => c.wait()));
    await flush();
    expect(waiterCount(cond)).to.equal(4);
    await cond.acquire();
    cond.notify();
    cond.release();
    await flush();
    expect(log).to.deep.equal(['a:true:locked']);
    await cond.acquire();
    cond.notify(2);
    cond.release();
    await flush();
    expect(log).to.deep.equal(['a:true:locked', 'b:true:locked', 'c:true:locked']);
    await cond.acquire();
    cond.notify(0);
    cond.release();
    await flush();
    expect(log).to.have.length(3);
    await cond.acquire();
    cond.notify(5);
    cond.release();
    await Promise.all(tasks);
    expect(log).to.deep.equal(['a:true:locked', 'b:true:locked', 'c:true:locked', 'd:true:locked']);
  });

  it('Condition.notifyAll() wakes every waiter, in order', async () => {
    const cond = new Condition();
    const log: string[] = [];
    const tasks = ['a', 'b', 'c'].map((n) => waiter(cond, log, n, (c) => c.wait()));
    await flush();
    await cond.acquire();
    cond.notifyAll();
    cond.release();
    await Promise.all(tasks);
    expect(log).to.deep.equal(['a:true:locked', 'b:true:locked', 'c:true:locked']);
  });

  it('Condition.notify() with nobody waiting does nothing', async () => {
    const cond = new Condition();
    await cond.acquire();
    cond.notify();
    cond.notifyAll();
    const t = track(cond.wait(10));
    await clock.tickAsync(10);
    expect(t.value, 'an earlier notify is not remembered').to.equal(false);
    cond.release();
  });

  it('Condition.notify() refuses a negative, fractional or NaN count (RangeError) and a non-number (TypeError)', async () => {
    const cond = new Condition();
    await cond.acquire();
    for (const n of [-1, 1.5, NaN, -Infinity]) expect(() => cond.notify(n)).to.throw(RangeError, /n must be/);
    expect(() => cond.notify('1' as unknown as number)).to.throw(TypeError, /n must be a number/);
    cond.notify(Infinity);
    cond.release();
  });

  it('Condition.wait(ms) resolves false on timeout, with the lock held again', async () => {
    const cond = new Condition();
    const log: string[] = [];
    const task = waiter(cond, log, 'w', (c) => c.wait(100));
    await clock.tickAsync(99);
    expect(log).to.deep.equal([]);
    await clock.tickAsync(1);
    await task;
    expect(log).to.deep.equal(['w:false:locked']);
    expect(waiterCount(cond)).to.equal(0);
  });

  it('Condition.wait(ms) that times out while another task holds the lock waits for the lock before resolving', async () => {
    const cond = new Condition();
    const log: string[] = [];
    const task = waiter(cond, log, 'w', (c) => c.wait({ timeout: 50 }));
    await flush();
    await cond.acquire();
    await clock.tickAsync(100);
    expect(log).to.deep.equal([]);
    cond.release();
    await task;
    expect(log).to.deep.equal(['w:false:locked']);
  });

  it('Condition.wait(0) answers false at once and keeps the lock', async () => {
    const cond = new Condition();
    await cond.acquire();
    expect(await cond.wait(0)).to.equal(false);
    expect(cond.locked()).to.equal(true);
    cond.release();
  });

  it('Condition.wait() aborted re-acquires the lock before rejecting with signal.reason', async () => {
    const cond = new Condition();
    const ac = new AbortController();
    const log: string[] = [];
    const task = waiter(cond, log, 'w', (c) => c.wait({ signal: ac.signal, timeout: 1000 }));
    await flush();
    await cond.acquire();
    ac.abort(new Error('stop'));
    await flush();
    expect(log, 'still waiting for the lock').to.deep.equal([]);
    cond.release();
    await task;
    expect(log).to.deep.equal(['w:rejected:stop:locked']);
    expect(abortListeners(ac.signal)).to.equal(0);
  });

  it('Condition.wait() with an already aborted signal rejects at once and keeps the lock', async () => {
    const cond = new Condition();
    await cond.acquire();
    const reason = new Error('already');
    const t = track(cond.wait({ signal: AbortSignal.abort(reason) }));
    await flush();
    expect(t.reason).to.equal(reason);
    expect(cond.locked()).to.equal(true);
    cond.release();
  });

  it('Condition: a waiter notified and then aborted while re-acquiring passes its notification on', async () => {
    const cond = new Condition();
    const ac = new AbortController();
    const log: string[] = [];
    const a = waiter(cond, log, 'a', (c) => c.wait({ signal: ac.signal }));
    const b = waiter(cond, log, 'b', (c) => c.wait());
    await flush();
    await cond.acquire();
    cond.notify(1); // wakes a, which now waits for the lock
    ac.abort(new Error('stop')); // a gives up: b gets the notification
    cond.release();
    await Promise.all([a, b]);
    expect(log).to.deep.equal(['a:rejected:stop:locked', 'b:true:locked']);
  });

  it('Condition: a waiter notified and then timing out while re-acquiring passes its notification on', async () => {
    const cond = new Condition();
    const log: string[] = [];
    const a = waiter(cond, log, 'a', (c) => c.wait(100));
    const b = waiter(cond, log, 'b', (c) => c.wait());
    await flush();
    await cond.acquire();
    cond.notify(1);
    await clock.tickAsync(100); // a times out while the notifier still holds the lock
    cond.release();
    await Promise.all([a, b]);
    expect(log).to.deep.equal(['a:false:locked', 'b:true:locked']);
  });

  it('Condition: a waiter that times out while queued does not take a later notification', async () => {
    const cond = new Condition();
    const log: string[] = [];
    const a = waiter(cond, log, 'a', (c) => c.wait(10));
    const b = waiter(cond, log, 'b', (c) => c.wait());
    await clock.tickAsync(10);
    await a;
    await cond.acquire();
    cond.notify();
    cond.release();
    await b;
    expect(log).to.deep.equal(['a:false:locked', 'b:true:locked']);
  });

  describe('waitFor', () => {
    it('Condition.waitFor() evaluates the predicate under the lock and resolves with its truthy value', async () => {
      const cond = new Condition();
      const items: number[] = [];
      const seen: boolean[] = [];
      const log: string[] = [];
      const task = waiter(cond, log, 'w', (c) =>
        c.waitFor(() => {
          seen.push(c.locked());
          return items.length > 0 && items.shift();
        }),
      );
      await flush();
      for (const item of [0, 7]) {
        await cond.acquire();
        items.push(item);
        cond.notify();
        cond.release();
        await flush();
      }
      await task;
      expect(log).to.deep.equal(['w:7:locked']);
      expect(seen).to.deep.equal([true, true, true]);
    });

    it('Condition.waitFor() resolves at once when the predicate already holds', async () => {
      const cond = new Condition();
      await cond.acquire();
      expect(await cond.waitFor(() => 'ready')).to.equal('ready');
      expect(cond.locked()).to.equal(true);
      cond.release();
    });

    it('Condition.waitFor(predicate, ms) resolves with the falsy value on timeout, holding the lock', async () => {
      const cond = new Condition();
      const log: string[] = [];
      let calls = 0;
      const task = waiter(cond, log, 'w', (c) => c.waitFor(() => (calls++, 0), 100));
      await clock.tickAsync(60);
      await cond.acquire();
      cond.notify(); // a wake-up that does not make the predicate true
      cond.release();
      await clock.tickAsync(40);
      await task;
      expect(log).to.deep.equal(['w:0:locked']);
      expect(calls).to.equal(3);
    });

    it('Condition.waitFor() rejects with signal.reason when aborted, holding the lock', async () => {
      const cond = new Condition();
      const ac = new AbortController();
      const log: string[] = [];
      const task = waiter(cond, log, 'w', (c) => c.waitFor(() => false, { signal: ac.signal }));
      await flush();
      ac.abort(new Error('stop'));
      await task;
      expect(log).to.deep.equal(['w:rejected:stop:locked']);
    });

    it('Condition.waitFor() refuses a predicate that is not a function with a TypeError', async () => {
      const cond = new Condition();
      await cond.acquire();
      const t = track(cond.waitFor(true as unknown as () => boolean));
      await flush();
      expect(t.reason).to.be.instanceOf(TypeError);
      expect((t.reason as Error).message).to.match(/predicate must be a function, got boolean true/);
      cond.release();
    });

    for (const [label, arg, type, message] of badWaitArguments) {
      it(`Condition.waitFor(predicate, ${label}) rejects with a ${type.name}`, async () => {
        const cond = new Condition();
        await cond.acquire();
        const t = track(cond.waitFor(() => false, arg as number));
        await flush();
        expect(t.reason).to.be.instanceOf(type);
        expect((t.reason as Error).message).to.match(message);
        expect(cond.locked()).to.equal(true);
        cond.release();
      });
    }
  });

  for (const [label, arg, type, message] of badWaitArguments) {
    it(`Condition.wait(${label}) rejects with a ${type.name} and keeps the lock`, async () => {
      const cond = new Condition();
      await cond.acquire();
      const t = track((cond.wait as (a: unknown) => Promise<boolean>)(arg));
      await flush();
      expect(t.reason).to.be.instanceOf(type);
      expect((t.reason as Error).message).to.match(message);
      expect(cond.locked()).to.equal(true);
      cond.release();
    });
  }

  it('Condition: several conditions share one lock', async () => {
    const lock = new Lock();
    const a = new Condition(lock);
    const b = new Condition(lock);
    await a.acquire();
    expect(b.locked()).to.equal(true);
    expect(lock.locked()).to.equal(true);
    const t = track(b.wait());
    await flush();
    expect(lock.locked()).to.equal(false);
    await lock.acquire();
    a.notifyAll();
    await flush();
    expect(t.state, "notifying one condition does not wake the other's waiters").to.equal('pending');
    b.notify();
    lock.release();
    await flush();
    expect(t.value).to.equal(true);
    b.release();
  });

  it('Condition: a lock that is not a Lock is refused with a TypeError', () => {
    expect(() => new Condition({} as Lock)).to.throw(TypeError, /lock must be a Lock/);
  });

  it('Condition shows its state in util.inspect and Object.prototype.toString', async () => {
    const cond = new Condition();
    await cond.acquire();
    const p = cond.wait();
    expect(inspect(cond)).to.equal('Condition { locked: false, waiters: 1 }');
    expect(Object.prototype.toString.call(cond)).to.equal('[object Condition]');
    await cond.acquire();
    cond.notify();
    cond.release();
    await p;
    cond.release();
  });
});

describe('Producer/consumer', () => {
  it('Condition: 3 producers and 3 consumers pass 100,000 items through a bounded queue, each consumed once', async () => {
    const lock = new Lock();
    const notEmpty = new Condition(lock);
    const notFull = new Condition(lock);
    const queue: number[] = [];
    const CAPACITY = 16;
    const ITEMS = 100_000;
    const consumed = new Uint8Array(ITEMS);
    let produced = 0;
    let closed = false;

    const producer = async (id: number) => {
      for (let item = id; item < ITEMS; item += 3) {
        await lock.acquire();
        try {
          await notFull.waitFor(() => queue.length < CAPACITY);
          queue.push(item);
          produced++;
          notEmpty.notify();
        } finally {
          lock.release();
        }
      }
    };
    const consumer = async () => {
      for (;;) {
        await lock.acquire();
        try {
          if (!(await notEmpty.waitFor(() => queue.length > 0 || closed)) || queue.length === 0) return;
          consumed[queue.shift()!]!++;
          notFull.notify();
        } finally {
          lock.release();
        }
      }
    };

    const consumers = [consumer(), consumer(), consumer()];
    await within(Promise.all([0, 1, 2].map(producer)), 60_000, 'the producers');
    await lock.acquire();
    closed = true;
    notEmpty.notifyAll();
    lock.release();
    await within(Promise.all(consumers), 60_000, 'the consumers');
    expect(produced).to.equal(ITEMS);
    expect(queue).to.deep.equal([]);
    expect(consumed.every((n) => n === 1)).to.equal(true);
  });

  it('Event: the same hand-off written with set() / wait() / clear() loses a wake-up (why Condition exists)', async () => {
    const clock = fakeClock();
    try {
      const ready = new Event();
      const queue: string[] = [];
      const taken: string[] = [];
      const consumer = (async () => {
        for (;;) {
          if (!(await ready.wait(1000))) return 'gave up';
          ready.clear(); // the producer can produce between wait() resolving and this clear()
          taken.push(queue.shift()!);
        }
      })();
      queue.push('first');
      ready.set();
      queue.push('second'); // before the consumer ran: set() on a set event does nothing
      ready.set();
      await flush();
      expect(taken).to.deep.equal(['first']);
      await clock.tickAsync(1000);
      expect(await consumer).to.equal('gave up');
      expect(queue, 'an item was left behind with nobody told').to.deep.equal(['second']);
    } finally {
      clock.restore();
    }
  });
});
