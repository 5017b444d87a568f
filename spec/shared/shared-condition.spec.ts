import { expect } from 'chai';
import * as sinon from 'sinon';
import { inspect } from 'node:util';
import { Condition, Lock, SharedCondition, SharedLock } from '../../lib/index.js';
import { fakeClock, flush, track, waiterCount } from '../helpers.js';
import {
  RING_COUNT,
  RING_SIZE,
  RING_TAKEN,
  SEEN_AT,
  bufferBytes,
  consumeWith,
  layout,
} from '../workers/lock-layout.js';
import { type LockAgent, startLockAgent } from '../workers/lock-agents.js';
import { until, within } from '../workers/agents.js';
import { lockSuite } from '../lock-suite.js';
import { at, noRaces, on, wordsOf } from './races.js';

lockSuite('SharedCondition', () => {
  const lock = new SharedLock();
  return { lock: new SharedCondition(lock), waiters: () => waiterCount(lock), from: SharedCondition.from };
});

const realWaitAsync = Atomics.waitAsync;

/** Engine waiters pending on the words of a condition, counted by waking them (they re-arm). */
function engineWaiters(x: { buffer: SharedArrayBuffer; byteOffset: number }): number {
  const words = new Int32Array(x.buffer, x.byteOffset, SharedCondition.BYTES / 4);
  let n = 0;
  for (let i = 0; i < words.length; i++) n += Atomics.notify(words, i);
  return n;
}

describe('SharedCondition on one thread', () => {
  it('SharedCondition: a new condition has its own buffer of SharedCondition.BYTES bytes and refuses a lock that is not a SharedLock', () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    expect(SharedCondition.BYTES % 4).to.equal(0);
    expect(cond.buffer.byteLength).to.equal(SharedCondition.BYTES);
    expect(cond.byteOffset).to.equal(0);
    expect(String(cond)).to.equal('[object SharedCondition]');
    expect(inspect(cond)).to.equal('SharedCondition { locked: false, waiters: 0 }');
    for (const bad of [new Lock(), {}, undefined]) {
      expect(() => new SharedCondition(bad as unknown as SharedLock)).to.throw(TypeError, /lock must be a SharedLock/);
    }
    expect(() => new SharedCondition(lock, new SharedArrayBuffer(8))).to.throw(RangeError, /no room for a condition/);
  });

  it("SharedCondition: wait, waitFor, waitSync, notify and notifyAll without the lock held fail as Condition's do", async () => {
    const cond = new SharedCondition(new SharedLock());
    const theirs = new Condition();
    const msg = async (p: () => unknown) => {
      try {
        await p();
        return 'ok';
      } catch (e) {
        return (e as Error).message.replace('SharedCondition', 'Condition');
      }
    };
    expect(await msg(() => cond.wait())).to.equal(await msg(() => theirs.wait()));
    expect(await msg(() => cond.waitFor(() => true))).to.equal(await msg(() => theirs.waitFor(() => true)));
    expect(() => cond.notify()).to.throw(Error, /SharedCondition\.notify\(\) needs the lock held/);
    expect(() => cond.notifyAll()).to.throw(Error, /SharedCondition\.notifyAll\(\) needs the lock held/);
    expect(() => cond.waitSync()).to.throw(Error, /SharedCondition\.waitSync\(\) needs the lock held/);
    await cond.acquire();
    expect(() => cond.notify(-1)).to.throw(RangeError);
    expect(() => cond.waitSync('1' as unknown as number)).to.throw(TypeError, /timeout must be a number/);
    expect(cond.waitSync(0)).to.equal(false);
    expect(cond.locked()).to.equal(true);
    cond.release();
  });

  it('SharedCondition.notify(n) wakes exactly n waiters in FIFO order, each holding the lock again when it settles', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    const order: number[] = [];
    const waits = [0, 1, 2, 3].map(async (i) => {
      await cond.acquire();
      await cond.wait();
      order.push(i);
      expect(cond.locked()).to.equal(true);
      cond.release();
    });
    await until(() => waiterCount(cond) === 4, 'four waiters');
    await cond.acquire();
    cond.notify(2);
    cond.release();
    await until(() => order.length === 2, 'two woken');
    await flush();
    expect(order).to.deep.equal([0, 1]);
    await cond.acquire();
    cond.notifyAll();
    cond.release();
    await Promise.all(waits);
    expect(order).to.deep.equal([0, 1, 2, 3]);
    expect(waiterCount(cond)).to.equal(0);
    expect(engineWaiters(cond)).to.equal(0);
    expect(lock.locked()).to.equal(false);
  });

  it('SharedCondition: a notified waiter that times out passes its notification on; a timed-out one is not counted', async () => {
    const cond = new SharedCondition(new SharedLock());
    await cond.acquire();
    const a = track(
      cond.wait(30).then((v) => {
        cond.release(); // a holds the lock again when it settles: let b have it
        return v;
      }),
    );
    await cond.acquire();
    const b = track(cond.wait());
    await cond.acquire();
    expect(await cond.wait(1)).to.equal(false); // timed out, lock held again, not waiting any more
    cond.notify(1); // to a: it cannot take the lock back before its timeout, as we hold it
    await new Promise((r) => setTimeout(r, 60));
    cond.release();
    await until(() => a.state === 'fulfilled' && b.state === 'fulfilled', 'both settled');
    expect(a.value).to.equal(false);
    expect(b.value).to.equal(true); // a passed its notification on
    expect(cond.locked()).to.equal(true); // b holds it
    cond.release();
  });

  it('SharedCondition.wait({ signal }) rejects with the reason after taking the lock back', async () => {
    const cond = new SharedCondition(new SharedLock());
    await cond.acquire();
    const ac = new AbortController();
    const p = cond.wait({ signal: ac.signal });
    ac.abort(new Error('stop'));
    expect(await p.catch((e: Error) => e.message)).to.equal('stop');
    expect(cond.locked()).to.equal(true);
    const t = await cond.waitFor(() => 0, 5);
    expect(t).to.equal(0);
    cond.release();
    expect(waiterCount(cond)).to.equal(0);
  });
});

describe('SharedCondition across threads', () => {
  let buffer: SharedArrayBuffer;
  let agents: LockAgent[];
  let lock: SharedLock;
  let notFull: SharedCondition;
  let notEmpty: SharedCondition;
  let data: Int32Array;
  const items = 100_000;
  before(async () => {
    buffer = new SharedArrayBuffer(bufferBytes(items));
    lock = new SharedLock(buffer, layout.lock);
    notFull = new SharedCondition(lock, buffer, layout.notFull);
    notEmpty = new SharedCondition(lock, buffer, layout.notEmpty);
    data = new Int32Array(buffer, layout.data);
    agents = await Promise.all(Array.from({ length: 4 }, () => startLockAgent(buffer)));
  });
  after(() => Promise.all(agents.map((a) => a.terminate())));

  it('SharedCondition.notify(n) wakes exactly min(n, waiting) waiters across threads', async () => {
    const waits = [
      agents[0]!.call({ op: 'wait', timeout: 10_000 }),
      agents[1]!.call({ op: 'wait', timeout: 10_000 }),
      agents[1]!.call({ op: 'wait', timeout: 10_000 }),
      agents[2]!.call({ op: 'waitSync', timeout: 10_000 }),
    ];
    await until(() => engineWaiters(notEmpty) >= 3, 'three threads waiting');
    await new Promise((r) => setTimeout(r, 50));
    const settled = waits.map((p) => track(p));
    await lock.acquire();
    notEmpty.notify(3);
    lock.release();
    await until(() => settled.filter((s) => s.state === 'fulfilled').length === 3, 'three woken');
    await new Promise((r) => setTimeout(r, 100));
    expect(settled.filter((s) => s.state === 'fulfilled').length).to.equal(3);
    await lock.acquire();
    notEmpty.notify(5); // one is waiting
    lock.release();
    expect((await within(Promise.all(waits), 10_000, 'all woken')).every((v) => v === true)).to.equal(true);
  });

  it(`SharedCondition: 2 producers and 2 consumers in workers plus a consumer on the main thread pass ${items.toLocaleString('en')} items through a ring in shared memory, each exactly once`, async function () {
    this.timeout(30_000);
    const consumers = [
      agents[0]!.call({ op: 'consume', items, sync: true }),
      agents[1]!.call({ op: 'consume', items, sync: false }),
      consumeWith(items, false, lock, notFull, notEmpty, data),
    ];
    const producers = [
      agents[2]!.call({ op: 'produce', from: 0, items: items / 2 }),
      agents[3]!.call({ op: 'produce', from: items / 2, items: items / 2 }),
    ];
    const taken = (await within(Promise.all([...producers, ...consumers]), 25_000, 'the items')).slice(2);
    expect((taken as number[]).reduce((a, b) => a + b, 0)).to.equal(items);
    expect(data[RING_TAKEN]).to.equal(items);
    expect(data[RING_COUNT]).to.equal(0);
    for (let i = 0; i < items; i++)
      if (data[SEEN_AT + i] !== 1) expect.fail(`item ${i} seen ${data[SEEN_AT + i]} times`);
    expect(RING_SIZE).to.be.greaterThan(0);
  });
});

describe('SharedCondition: faults and the polling fallback', () => {
  it('SharedCondition: a worker terminated while it waits (async or in waitSync) is not counted: notify(1) reaches a live waiter', async () => {
    const buffer = new SharedArrayBuffer(bufferBytes(0));
    const lock = new SharedLock(buffer, layout.lock);
    const notEmpty = new SharedCondition(lock, buffer, layout.notEmpty);
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => startLockAgent(buffer)));
    try {
      void a!.call({ op: 'wait' }).catch(() => {});
      void b!.call({ op: 'waitSync' }).catch(() => {});
      await until(() => engineWaiters(notEmpty) >= 2, 'both dead-to-be waiting');
      const live = c!.call({ op: 'wait', timeout: 10_000 });
      await until(() => engineWaiters(notEmpty) >= 3, 'the live one waiting');
      await a!.terminate();
      await b!.terminate();
      await lock.acquire();
      notEmpty.notify(1); // the two dead seats come first: skipped, the notification goes on
      lock.release();
      expect(await within(live, 10_000, 'the live waiter')).to.equal(true);
    } finally {
      await Promise.all([a, b, c].map((x) => x!.terminate()));
    }
  });

  it('SharedCondition: without Atomics.waitAsync, waiters in a worker poll and are notified', async () => {
    const buffer = new SharedArrayBuffer(bufferBytes(0));
    const lock = new SharedLock(buffer, layout.lock);
    const notEmpty = new SharedCondition(lock, buffer, layout.notEmpty);
    const agent = await startLockAgent(buffer, { noWaitAsync: true });
    try {
      const waits = [agent.call({ op: 'wait', timeout: 10_000 }), agent.call({ op: 'wait', timeout: 10_000 })];
      await until(() => Atomics.load(new Int32Array(buffer, layout.notEmpty + 8, 1), 0) >>> 16 === 2, 'two registered');
      await lock.acquire();
      notEmpty.notify(2);
      lock.release();
      expect(await within(Promise.all(waits), 10_000, 'the polling waiters')).to.deep.equal([true, true]);
      expect(await agent.call({ op: 'wait', timeout: 30 })).to.equal(false);
    } finally {
      await agent.terminate();
    }
  });
});

describe('SharedCondition: the protocol, step by step (shared memory written as another thread would)', () => {
  const words = (c: SharedCondition) => new Int32Array(c.buffer, c.byteOffset, SharedCondition.BYTES / 4);
  const mySeat = (c: SharedCondition) => {
    const w = words(c);
    for (let i = 1; i < w.length; i += 2) if ((w[i]! & 7) === 2) return i;
    throw new Error('no seat');
  };

  it('SharedCondition.waitSync(ms) times out with false, not counted any more, the lock held again', () => {
    const lock = new SharedLock();
    const c2 = new SharedCondition(lock);
    lock.acquireSync();
    expect(c2.waitSync(5)).to.equal(false);
    expect(lock.locked()).to.equal(true);
    const seats = Array.from(words(c2)).slice(1, -1); // not the ticket counter, nor the kind word
    expect(seats.every((v) => v === 0)).to.equal(true);
    lock.release();
  });

  it('SharedCondition: a waiter giving up after its notification was given passes it on', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    await lock.acquire();
    const ac = new AbortController();
    const p = cond.wait({ signal: ac.signal });
    const w = words(cond);
    const seat = mySeat(cond);
    Atomics.store(w, seat + 1, 1); // as a notifier on another thread: registered 1 -> notified 1, not woken yet
    ac.abort(new Error('gave up'));
    await p.then(
      () => expect.fail('resolved'),
      (e: Error) => expect(e.message).to.equal('gave up'),
    ); // aborted first: passes it on (nobody else waits)
    expect(Atomics.load(w, seat + 1)).to.equal(0);
    lock.release();
  });

  it('SharedCondition: a waiter whose seat was taken for gone (DEAD) registers again and is notified', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    await lock.acquire();
    const p = track(cond.wait());
    const w = words(cond);
    const seat = mySeat(cond);
    Atomics.store(w, seat, (w[seat]! & ~7) | 5); // taken for gone, its waiter still registered there
    Atomics.notify(w, seat + 1);
    await until(
      () => (Atomics.load(w, mySeatOr(w)) & 7) === 2 && Atomics.load(w, mySeatOr(w) + 1) === 0x10000,
      'registered again',
    );
    await lock.acquire();
    cond.notify();
    lock.release();
    await until(() => p.state === 'fulfilled', 'notified');
    lock.release();
  });

  it('SharedCondition: a waiter notified in a seat then taken for gone (its notification taken back, to give on) wakes, true', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    await lock.acquire();
    const p = track(cond.wait());
    const w = words(cond);
    const seat = mySeat(cond);
    Atomics.store(w, seat + 1, 1); // notified
    Atomics.store(w, seat, (w[seat]! & ~7) | 6); // woken (FLIGHT)
    Atomics.store(w, seat, (w[seat]! & ~7) | 5); // then taken for gone...
    Atomics.store(w, seat + 1, 0); // ...its notification taken back
    Atomics.notify(w, seat + 1);
    await until(() => p.state === 'fulfilled', 'woken');
    expect(p.value).to.equal(true);
    lock.release();
    // Every seat free again (the ticket counter first, the kind word last, stay).
    expect(Array.from(w).every((v, i) => i === 0 || i === w.length - 1 || v === 0)).to.equal(true);
  });

  it('SharedCondition: waits of a thread that finds every seat taken end early, true, as after a notification', async () => {
    const lock = new SharedLock();
    const first = new SharedCondition(lock);
    const conds = Array.from({ length: 33 }, () => new SharedCondition(lock, first.buffer));
    const waits: Promise<boolean>[] = [];
    for (const c of conds) {
      await lock.acquire();
      waits.push(c.wait(10_000).then((v) => (lock.release(), v)));
    }
    const results = await within(Promise.race(waits), 10_000, 'the seatless waiter');
    expect(results).to.equal(true);
    await lock.acquire();
    first.notifyAll();
    lock.release();
    await within(Promise.all(waits), 10_000, 'every waiter');
  });
});

function mySeatOr(w: Int32Array): number {
  for (let i = 1; i < w.length; i += 2) if ((w[i]! & 7) === 2) return i;
  return 1;
}

describe('SharedCondition: races, the other thread stepping in between two steps of this one', () => {
  // Condition objects over one buffer are threads, each with its own lock object over one lock. Word 0
  // is the ticket counter; seat k is words 1 + 2k (state: RESERVED 1, WAITING 2, FLIGHT 6, DEAD 5) and
  // 2 + 2k (counts: registered << 16 | notified).
  const REG = 0x10000;
  afterEach(noRaces);

  /** n threads: each its own lock object and condition object, over one lock and one condition. */
  const threads = (n: number) => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    return Array.from({ length: n }, (_, i) => {
      const l = i === 0 ? lock : new SharedLock(lock.buffer);
      return { lock: l, cond: i === 0 ? cond : new SharedCondition(l, cond.buffer) };
    });
  };
  /** Seat k's state word, and its counts word next to it. */
  const seat = (k: number) => 1 + 2 * k;
  /** A thread's wait, the lock taken first and released once it settles (the outcome kept). */
  const waitOn = async (t: { lock: SharedLock; cond: SharedCondition }, arg?: number | { signal: AbortSignal }) => {
    await t.lock.acquire();
    try {
      return await t.cond.wait(arg);
    } finally {
      t.lock.release();
    }
  };
  /** Nothing left behind: no seat taken, no engine waiter, no waiter queued. */
  const expectClean = (...ts: { lock: SharedLock; cond: SharedCondition }[]) => {
    const w = wordsOf(ts[0]!.cond);
    expect(Array.from(w.slice(1, 65))).to.deep.equal(new Array(64).fill(0));
    expect(engineWaiters(ts[0]!.cond)).to.equal(0);
    for (const t of ts) expect(waiterCount(t.cond) + waiterCount(t.lock)).to.equal(0);
    expect(ts[0]!.lock.locked()).to.equal(false);
  };

  it('SharedCondition: a waiter whose thread found every seat taken is registered when a later waiter of its thread takes a seat: notify(2) wakes both', async () => {
    const [t] = threads(1);
    const w = wordsOf(t!.cond);
    for (let k = 0; k < 32; k++) w[seat(k)] = (8 * (k + 1)) | 1; // 32 threads taking their seats
    const first = track(waitOn(t!, 10_000)); // no seat: not registered
    await flush();
    w[seat(0)] = 0; // one of them leaves
    const second = track(waitOn(t!, 10_000)); // takes that seat
    await flush();
    await t!.lock.acquire();
    t!.cond.notify(2);
    t!.lock.release();
    await flush();
    expect([first.value, second.value]).to.deep.equal([true, true]);
    for (let k = 1; k < 32; k++) w[seat(k)] = 0;
    expectClean(t!);
  });

  /** Thread t's waiter, with a signal to give up with. */
  const giving = (t: { lock: SharedLock; cond: SharedCondition }) => {
    const ac = new AbortController();
    return { ac, wait: track(waitOn(t, { signal: ac.signal })) };
  };
  const FLIGHT = 6;
  const DEAD = 5;

  it('SharedCondition.waitSync(ms) on a thread whose earlier wait() takes the notification returns after its timeout with the lock, and that wait() gets the lock next', async () => {
    const [a, b] = threads(2);
    const early = track(waitOn(b!)); // a task of b's thread waits first
    await until(() => waiterCount(b!.cond) === 1, "b's async waiter");
    expect(b!.lock.acquireSync(0)).to.equal(true); // a later task of b's thread...
    // ...blocks in waitSync; meanwhile a takes the lock, notifies one waiter (b's first: the async one)
    // and releases.
    const notified = at(
      'wait',
      (array, index) => on(a!.cond, array, index, seat(0) + 1),
      (wait) => {
        expect(a!.lock.acquireSync(0)).to.equal(true);
        a!.cond.notify(1);
        a!.lock.release();
        return wait();
      },
    );
    // Blocking on the lock now could only be for ever: nobody else holds it.
    at(
      'wait',
      (array) => array.buffer === a!.lock.buffer,
      () => {
        throw new Error('waitSync blocked on the lock, held for a task of its own blocked thread');
      },
    );
    expect(b!.cond.waitSync(20)).to.equal(false);
    expect(notified.fired).to.equal(true);
    expect(b!.lock.locked()).to.equal(true);
    expect(early.state).to.equal('pending');
    b!.lock.release(); // to the async waiter, which takes the lock back once its thread runs
    await until(() => early.value === true, 'the async waiter');
    expectClean(a!, b!);
  });

  it('SharedCondition.wait(ms) notified by another thread before its deadline, the wake-up not delivered yet when the deadline is seen, resolves true', async () => {
    const clock = fakeClock();
    try {
      const [a, b] = threads(2);
      const p = track(waitOn(b!, 50));
      await flush();
      expect(waiterCount(b!.cond)).to.equal(1);
      expect(a!.lock.acquireSync(0)).to.equal(true); // another thread notifies (its wake-up: a job for later)
      a!.cond.notify(1);
      a!.lock.release();
      clock.tick(60); // b's thread was busy: its timer runs first
      await flush();
      expect(p.value).to.equal(true);
      expect(clock.countTimers()).to.equal(0);
      expectClean(a!, b!);
    } finally {
      clock.restore();
    }
  });

  it('SharedCondition: two notify(1) in a row to a thread that has not looked yet wake two of its waiters', async () => {
    const [a, b] = threads(2);
    const waits = [track(waitOn(b!)), track(waitOn(b!))];
    await until(() => waiterCount(b!.cond) === 2, 'two waiters');
    await a!.lock.acquire();
    a!.cond.notify(1);
    expect(Atomics.load(wordsOf(a!.cond), seat(0)) & 7).to.equal(FLIGHT); // woken, not looked yet
    a!.cond.notify(1);
    a!.lock.release();
    await until(() => waits.every((p) => p.value === true), 'both woken');
    expectClean(a!, b!);
  });

  it("SharedCondition.notify(1) racing the give-up of the oldest thread's only waiter wakes the next thread's waiter, and no other", async () => {
    const [a, b, c, d] = threads(4);
    const w = wordsOf(a!.cond);
    const bw = giving(b!);
    await flush();
    const cw = track(waitOn(c!));
    await flush();
    const dw = track(waitOn(d!));
    await until(() => waiterCount(d!.cond) === 1, 'three threads waiting');
    await a!.lock.acquire();
    let loads = 0;
    const raced = at(
      'load',
      (array, index) => on(a!.cond, array, index, seat(0) + 1) && ++loads === 2, // after the notifier chose b
      (real) => {
        bw.ac.abort(new Error('gave up'));
        return real();
      },
    );
    a!.cond.notify(1);
    expect(raced.fired).to.equal(true);
    expect(Atomics.load(w, seat(0))).to.equal(0); // b left
    a!.lock.release();
    await until(() => cw.state === 'fulfilled' && bw.wait.state === 'rejected', 'c woken, b settled');
    expect(cw.value).to.equal(true);
    expect(dw.state).to.equal('pending');
    await a!.lock.acquire();
    a!.cond.notify(1);
    a!.lock.release();
    await until(() => dw.value === true, 'd woken');
    expectClean(a!, b!, c!, d!);
  });

  it('SharedCondition.notify(1) racing the give-up of one of two waiters of a thread wakes the other', async () => {
    const [a, b] = threads(2);
    const first = giving(b!);
    await flush();
    const second = track(waitOn(b!));
    await until(() => waiterCount(b!.cond) === 2, 'two waiters');
    await a!.lock.acquire();
    const raced = at(
      'compareExchange',
      (array, index, expected, replacement) =>
        on(a!.cond, array, index, seat(0) + 1) && expected === 2 * REG && replacement === REG + 1,
      (real) => {
        first.ac.abort(new Error('gave up'));
        return real();
      },
    );
    a!.cond.notify(1);
    expect(raced.fired).to.equal(true);
    a!.lock.release();
    await until(() => second.value === true && first.wait.state === 'rejected', 'the other woken');
    expectClean(a!, b!);
  });

  for (const when of ['marks the thread woken', 'wakes the thread'] as const) {
    it(`SharedCondition.notify(1) racing the give-up of the notified waiter, just before the notifier ${when}, wakes the next thread's waiter, and no other`, async () => {
      const [a, b, c, d] = threads(4);
      const w = wordsOf(a!.cond);
      const bw = giving(b!);
      await flush();
      const cw = track(waitOn(c!));
      await flush();
      const dw = track(waitOn(d!));
      await until(() => waiterCount(d!.cond) === 1, 'three threads waiting');
      await a!.lock.acquire();
      const step = (real: () => unknown) => {
        bw.ac.abort(new Error('gave up')); // passes its notification on, then leaves its seat
        return real();
      };
      const raced =
        when === 'marks the thread woken'
          ? at(
              'compareExchange',
              (array, index, expected, replacement) =>
                on(a!.cond, array, index, seat(0)) && replacement === ((expected! & ~7) | FLIGHT),
              step,
            )
          : at('notify', (array, index) => on(a!.cond, array, index, seat(0) + 1), step);
      a!.cond.notify(1);
      expect(raced.fired).to.equal(true);
      expect(Atomics.load(w, seat(0))).to.equal(0); // b left its seat: not taken for gone
      a!.lock.release();
      await until(() => cw.state === 'fulfilled' && bw.wait.state === 'rejected', 'c woken, b settled');
      expect(cw.value).to.equal(true);
      expect(dw.state).to.equal('pending');
      await a!.lock.acquire();
      a!.cond.notify(1);
      a!.lock.release();
      await until(() => dw.value === true, 'd woken');
      expectClean(a!, b!, c!, d!);
    });
  }

  for (const when of ['re-arms', 'takes its notifications'] as const) {
    it(`SharedCondition: a second notify(1) landing while the woken thread ${when} wakes one more of its waiters`, async () => {
      const [a, b] = threads(2);
      const waits = [track(waitOn(b!)), track(waitOn(b!))];
      await until(() => waiterCount(b!.cond) === 2, 'two waiters');
      await a!.lock.acquire();
      const again = (real: () => unknown) => {
        a!.cond.notify(1);
        return real();
      };
      const raced =
        when === 're-arms'
          ? at('waitAsync', (array, index) => on(a!.cond, array, index, seat(0) + 1), again)
          : at(
              'compareExchange',
              (array, index, expected, replacement) =>
                on(a!.cond, array, index, seat(0) + 1) && expected === REG + 1 && replacement === REG,
              again,
            );
      a!.cond.notify(1);
      await until(() => raced.fired, 'the woken thread looking');
      a!.lock.release();
      await until(() => waits.every((p) => p.value === true), 'both woken');
      expectClean(a!, b!);
    });
  }

  it('SharedCondition: a thread taken for gone while it re-arms after a wake-up (the notifier found no engine waiter) wakes its notified waiter', async () => {
    const [a, b] = threads(2);
    const w = wordsOf(a!.cond);
    const p = track(waitOn(b!));
    await until(() => waiterCount(b!.cond) === 1, 'b waiting');
    const t = Atomics.load(w, seat(0)) & ~7;
    // A notifier on another thread gives b one notification, marks it woken, and notifies while b is
    // between two waits (a stray wake-up took its engine waiter): nobody woken, so it will take b for gone.
    Atomics.notify(w, seat(0) + 1);
    Atomics.store(w, seat(0) + 1, 1);
    Atomics.store(w, seat(0), t | FLIGHT);
    const raced = at(
      'compareExchange',
      (array, index, expected, replacement) =>
        on(a!.cond, array, index, seat(0)) && expected === (t | FLIGHT) && replacement === (t | 2),
      (real) => {
        Atomics.compareExchange(w, seat(0), t | FLIGHT, t | DEAD); // the notifier, just before b goes back to waiting
        Atomics.store(w, seat(0) + 1, 0); // and takes its notification back, to give it on
        return real();
      },
    );
    await until(() => raced.fired && p.value === true, 'b woken all the same');
    expectClean(a!, b!);
  });

  it('SharedCondition.notify(1) racing a waiter giving up: the notification lands just before it unregisters, and wakes its other waiter', async () => {
    const [a, b] = threads(2);
    const first = giving(b!);
    await flush();
    const second = track(waitOn(b!));
    await until(() => waiterCount(b!.cond) === 2, 'two waiters');
    await a!.lock.acquire();
    const raced = at(
      'compareExchange',
      (array, index, expected, replacement) =>
        on(a!.cond, array, index, seat(0) + 1) && expected === 2 * REG && replacement === REG,
      (real) => {
        a!.cond.notify(1);
        return real();
      },
    );
    first.ac.abort(new Error('gave up'));
    expect(raced.fired).to.equal(true);
    a!.lock.release();
    await until(() => second.value === true && first.wait.state === 'rejected', 'the other woken');
    expectClean(a!, b!);
  });

  it('SharedCondition: a waiter giving up after its thread was taken for gone passes nothing on (its notification went on already) and leaves the seat for the next thread', async () => {
    const [a, b, c, d, e] = threads(5);
    const w = wordsOf(a!.cond);
    const bw = giving(b!);
    await flush();
    const cw = track(waitOn(c!));
    await flush();
    const dw = track(waitOn(d!));
    await until(() => waiterCount(d!.cond) === 1, 'three threads waiting');
    await a!.lock.acquire();
    Atomics.notify(w, seat(0) + 1); // a stray wake-up: b is between two waits
    a!.cond.notify(1); // finds no engine waiter on b's seat: takes b for gone, gives the notification to c
    expect(Atomics.load(w, seat(0)) & 7).to.equal(DEAD);
    bw.ac.abort(new Error('gave up')); // before b looked at its seat
    a!.lock.release();
    await until(() => cw.value === true && bw.wait.state === 'rejected', 'c woken, b settled');
    expect(dw.state).to.equal('pending');
    const ew = track(waitOn(e!)); // the next thread to wait takes the dead seat
    await until(() => waiterCount(e!.cond) === 1, 'e waiting');
    expect(Atomics.load(w, seat(0)) & 7).to.equal(2);
    await a!.lock.acquire();
    a!.cond.notifyAll();
    a!.lock.release();
    await until(() => dw.value === true && ew.value === true, 'd and e woken');
    expectClean(a!, b!, c!, d!, e!);
  });

  it('SharedCondition: a stray wake-up of a waiting thread (a late notify of its seat) changes nothing: it waits on and is notified', async () => {
    const [a, b] = threads(2);
    const w = wordsOf(a!.cond);
    const p = track(waitOn(b!));
    await until(() => waiterCount(b!.cond) === 1, 'b waiting');
    const rearmed = at(
      'waitAsync',
      (array, index) => on(a!.cond, array, index, seat(0) + 1),
      (real) => real(),
    );
    Atomics.notify(w, seat(0) + 1);
    await until(() => rearmed.fired, 'b looking');
    await flush();
    expect(p.state).to.equal('pending');
    expect(Atomics.load(w, seat(0) + 1)).to.equal(REG);
    await a!.lock.acquire();
    a!.cond.notify(1);
    a!.lock.release();
    await until(() => p.value === true, 'b notified');
    expectClean(a!, b!);
  });

  for (const what of ['notifies', 'has a waiter give up'] as const) {
    it(`SharedCondition: a thread taken for gone, whose seat another thread took, that ${what} before it looked leaves the other thread's waiter registered: notify(1) wakes it`, async () => {
      const [a, b, e] = threads(3);
      const w = wordsOf(a!.cond);
      const bw = giving(b!);
      await until(() => waiterCount(b!.cond) === 1, 'b waiting');
      await a!.lock.acquire();
      Atomics.notify(w, seat(0) + 1); // a stray wake-up: b is between two waits
      a!.cond.notify(1); // finds no engine waiter on b's seat: takes b for gone
      expect(Atomics.load(w, seat(0)) & 7).to.equal(DEAD);
      a!.lock.release();
      expect(e!.lock.acquireSync(1_000)).to.equal(true);
      const ew = track(e!.cond.wait().finally(() => e!.lock.release())); // takes the dead seat
      expect(Atomics.load(w, seat(0) + 1)).to.equal(REG);
      if (what === 'notifies') {
        expect(b!.lock.acquireSync(1_000)).to.equal(true);
        b!.cond.notify(1); // e's is the only waiter registered
        b!.lock.release();
      } else {
        bw.ac.abort(new Error('gave up'));
        await a!.lock.acquire();
        a!.cond.notify(1);
        a!.lock.release();
      }
      await until(() => ew.state !== 'pending', 'e woken');
      expect(ew.value).to.equal(true);
      await a!.lock.acquire();
      a!.cond.notifyAll();
      a!.lock.release();
      await until(() => bw.wait.state !== 'pending', 'b settled');
      expectClean(a!, b!, e!);
    });
  }

  for (const then of ['takes its notifications', 'has its last waiter give up'] as const) {
    it(`SharedCondition: a thread that ${then}, counted for a waiter of a thread that lost that seat before it looked, passes the notification meant for that waiter on`, async () => {
      const [a, b, e] = threads(3);
      const w = wordsOf(a!.cond);
      const b1 = track(waitOn(b!));
      await until(() => waiterCount(b!.cond) === 1, 'b waiting');
      await a!.lock.acquire();
      Atomics.notify(w, seat(0) + 1); // a stray wake-up: b is between two waits
      a!.cond.notify(1); // finds no engine waiter on b's seat: takes b for gone
      a!.lock.release();
      expect(e!.lock.acquireSync(1_000)).to.equal(true);
      const ac = new AbortController();
      const e1 = track(e!.cond.wait({ signal: ac.signal }).finally(() => e!.lock.release())); // takes the dead seat
      expect(b!.lock.acquireSync(1_000)).to.equal(true);
      const b2 = track(b!.cond.wait().finally(() => b!.lock.release())); // registered in the seat b lost
      expect(Atomics.load(w, seat(0) + 1)).to.equal(2 * REG);
      // b, looking, finds its seat another's: it cannot tell which of its waiters were notified, so both
      // wake (true), as the waiters of a thread without a seat do.
      await until(() => b1.value === true && b2.value === true, "b's waiters woken");
      await a!.lock.acquire();
      if (then === 'takes its notifications') {
        a!.cond.notify(2); // both to e's seat (the oldest): one for e's waiter, one passed on to b's
      } else {
        a!.cond.notify(1); // to e's seat; e's waiter gives up before e looks, and e leaves
        ac.abort(new Error('gave up'));
      }
      a!.lock.release();
      await until(() => b1.state !== 'pending' && e1.state !== 'pending', 'the notified settled');
      expect(e1.state === 'fulfilled' ? e1.value : (e1.reason as Error).message).to.equal(
        then === 'takes its notifications' ? true : 'gave up',
      );
      expectClean(a!, b!, e!);
    });
  }

  describe('with fake timers', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => (clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })));
    afterEach(() => {
      const left = clock.countTimers();
      clock.restore();
      expect(left, 'timers left').to.equal(0);
    });
    /** Every seat but `free` taken by threads between taking their seats and publishing. */
    const fill = (cond: SharedCondition, ...free: number[]) => {
      const w = wordsOf(cond);
      for (let k = 0; k < 32; k++) if (!free.includes(k)) w[seat(k)] = (8 * (k + 1)) | 1;
    };
    const unfill = (cond: SharedCondition) => {
      const w = wordsOf(cond);
      for (let k = 0; k < 32; k++) if (w[seat(k)] === ((8 * (k + 1)) | 1)) w[seat(k)] = 0;
    };

    it('SharedCondition: waiters of a thread that finds every seat taken that give up reject with the reason and leave no timer', async () => {
      const [t] = threads(1);
      fill(t!.cond);
      const waits = [giving(t!), giving(t!)];
      await flush();
      expect(clock.countTimers()).to.equal(1); // one poll for the thread
      for (const x of waits) x.ac.abort(new Error('gave up'));
      await flush();
      expect(waits.map((x) => (x.wait.reason as Error).message)).to.deep.equal(['gave up', 'gave up']);
      unfill(t!.cond);
      expectClean(t!);
    });

    it('SharedCondition.waitSync() on a thread that finds every seat taken ends early, true, with the lock held again', () => {
      const [t] = threads(1);
      fill(t!.cond);
      const slept = at(
        'wait',
        (array) => array.buffer !== t!.cond.buffer && array.buffer !== t!.lock.buffer,
        () => 'timed-out',
      );
      t!.lock.acquireSync();
      expect(t!.cond.waitSync(10_000)).to.equal(true);
      expect(slept.fired).to.equal(true);
      expect(t!.lock.locked()).to.equal(true);
      t!.lock.release();
      unfill(t!.cond);
      expectClean(t!);
    });

    it('SharedCondition: a thread taking the seat of a thread found gone, before the notifier took its notification back, gives it on: the live waiter is woken', async () => {
      const [a, c, e] = threads(3);
      const w = wordsOf(a!.cond);
      // Seat 0: a terminated thread, waiting, one waiter registered; seat 1: c, live; every other seat taken.
      w[0] = 8;
      w[seat(0)] = 8 | 2;
      w[seat(0) + 1] = REG;
      fill(a!.cond, 0, 1);
      const cw = track(waitOn(c!));
      await until(() => waiterCount(c!.cond) === 1, 'c waiting');
      const ew = track(waitOn(e!)); // no seat: polls
      await flush();
      await a!.lock.acquire();
      const raced = at(
        'compareExchange',
        (array, index, expected, replacement) =>
          on(a!.cond, array, index, seat(0)) && expected === (8 | FLIGHT) && replacement === (8 | DEAD),
        (real) => {
          const seen = real();
          clock.tick(1); // e polls: takes the dead seat, finds the notification in it and gives it on
          return seen;
        },
      );
      a!.cond.notify(1);
      expect(raced.fired).to.equal(true);
      a!.lock.release();
      await until(() => cw.value === true, 'c woken');
      expect(ew.state).to.equal('pending'); // e waits, registered in the seat it took
      expect(Atomics.load(w, seat(0) + 1)).to.equal(REG);
      await a!.lock.acquire();
      a!.cond.notify(1);
      a!.lock.release();
      await until(() => ew.value === true, 'e woken');
      unfill(a!.cond);
      expectClean(a!, c!, e!);
    });

    it('SharedCondition: a seat left FLIGHT by a thread terminated after it was woken stops taking notifications once a notifier has seen it so for 1 s: they go to live waiters, and the seat is free again', async () => {
      const [a, b, c] = threads(3);
      const w = wordsOf(a!.cond);
      // Seat 0, the oldest: a thread terminated after a notify gave one of its three waiters a notification
      // and woke it, before it looked.
      w[0] = 8;
      w[seat(0)] = 8 | FLIGHT;
      w[seat(0) + 1] = 2 * REG + 1;
      const bw = [track(waitOn(b!)), track(waitOn(b!))];
      await until(() => waiterCount(b!.cond) === 2, 'b waiting');
      await a!.lock.acquire();
      a!.cond.notify(1); // the dead seat is the oldest with a waiter registered: it takes it (a live owner would look)
      a!.lock.release();
      clock.tick(1_000);
      await a!.lock.acquire();
      a!.cond.notify(1); // seen unmoved for 1 s: taken for gone, and what it took goes to b's waiters
      a!.lock.release();
      await until(() => bw.every((x) => x.value === true), "b's two waiters woken");
      expect(Atomics.load(w, seat(0)) & 7).to.equal(DEAD);
      const cw = track(waitOn(c!)); // the dead seat is free for the next thread
      await until(() => waiterCount(c!.cond) === 1, 'c waiting');
      expect(Atomics.load(w, seat(0)) & 7).to.equal(2);
      await a!.lock.acquire();
      a!.cond.notify(2);
      a!.lock.release();
      await until(() => cw.value === true, 'c woken');
      expectClean(a!, b!, c!);
    });

    it('SharedCondition: seats left RESERVED or FLIGHT by terminated threads are freed by a thread that finds every seat taken and sees them so for 1 s; notify(n) then wakes min(n, waiting) live waiters', async () => {
      const [a, e] = threads(2);
      const w = wordsOf(a!.cond);
      fill(a!.cond, 0); // 31 threads terminated between taking a seat and publishing it
      w[0] = 33 * 8;
      w[seat(0)] = 8 | FLIGHT; // and one after it was woken, before it looked
      w[seat(0) + 1] = REG + 1;
      let waits = 0;
      let done = false;
      // e waits in a loop on the guarded state: with no seat, each wait ends early.
      const ew = (async () => {
        await e!.lock.acquire();
        try {
          while (!done) {
            waits++;
            await e!.cond.wait();
          }
        } finally {
          e!.lock.release();
        }
      })();
      for (let ms = 0; ms < 990; ms += 32) {
        clock.tick(32);
        await flush();
      }
      expect(Array.from(w.slice(1, 65)).filter((v, i) => i % 2 === 0 && (v & 7) === DEAD).length).to.equal(0);
      clock.tick(64);
      await flush();
      const states = Array.from(w.slice(1, 65)).filter((_, i) => i % 2 === 0);
      expect(states.filter((v) => (v & 7) === 2).length).to.equal(1); // e has a seat, waits there
      expect(states.filter((v) => (v & 7) === DEAD).length).to.equal(31); // the others free for anyone
      const before = waits;
      const others = Array.from({ length: 31 }, () => {
        const l = new SharedLock(a!.lock.buffer);
        return { lock: l, cond: new SharedCondition(l, a!.cond.buffer) };
      });
      const ow = others.map((t) => track(waitOn(t)));
      await until(() => others.every((t) => waiterCount(t.cond) === 1), 'every other thread waiting');
      expect(Array.from(w.slice(1, 65)).filter((v, i) => i % 2 === 0 && (v & 7) === 2).length).to.equal(32);
      await a!.lock.acquire();
      done = true;
      a!.cond.notify(3); // e's, then the two oldest of the others
      a!.lock.release();
      await within(ew, 10_000, 'e');
      await until(() => ow.filter((x) => x.value === true).length === 2, 'two more woken');
      expect(waits).to.equal(before);
      await flush();
      expect(ow.filter((x) => x.state === 'pending').length).to.equal(29);
      await a!.lock.acquire();
      a!.cond.notifyAll();
      a!.lock.release();
      await until(() => ow.every((x) => x.value === true), 'every waiter woken');
      expectClean(a!, e!, ...others);
    });

    it('SharedCondition: a thread with no seat takes for gone no seat whose owner re-armed (FLIGHT, it answers) or moved just then (its owner left)', async () => {
      const [a, e] = threads(2);
      const w = wordsOf(a!.cond);
      fill(a!.cond, 0);
      w[0] = 33 * 8;
      w[seat(0)] = 8 | FLIGHT; // its owner woken, re-armed, about to go back to WAITING (slowly)
      w[seat(0) + 1] = REG + 1;
      w[seat(2)] = (3 * 8) | 2; // a thread terminated as it published, before it registered its waiter
      const owner = Atomics.waitAsync(w, seat(0) + 1, REG + 1);
      const left = at(
        'compareExchange',
        (array, index, _, replacement) => on(a!.cond, array, index, seat(1)) && (replacement! & 7) === DEAD,
        (real) => {
          Atomics.store(w, seat(1), 0); // its owner leaves the seat just as e takes it for gone
          return real();
        },
      );
      let done = false;
      const ew = (async () => {
        await e!.lock.acquire();
        try {
          while (!done) await e!.cond.wait();
        } finally {
          e!.lock.release();
        }
      })();
      for (let ms = 0; ms < 1_100; ms += 32) {
        clock.tick(32);
        await flush();
      }
      expect(left.fired).to.equal(true);
      expect(owner.async && (await owner.value)).to.equal('ok'); // answered: not taken for gone
      expect(Atomics.load(w, seat(0))).to.equal(8 | FLIGHT);
      expect(Atomics.load(w, seat(1)) & 7).to.equal(2); // e sat in the seat left
      expect(Atomics.load(w, seat(2)) & 7).to.equal(DEAD); // nobody answered there
      await a!.lock.acquire();
      done = true;
      a!.cond.notify(2); // the (slow) owner's waiter, then e's
      a!.lock.release();
      await within(ew, 10_000, 'e');
      w[seat(0)] = 0;
      w[seat(0) + 1] = 0;
      for (let k = 2; k < 32; k++) w[seat(k)] = 0; // the dead seats, freed
      expectClean(a!, e!);
    });

    it('SharedCondition: a woken thread that re-armed but has not looked for 1 s answers the notifier that would take it for gone, and keeps its turn', async () => {
      const [a, b] = threads(2);
      const w = wordsOf(a!.cond);
      const bw = [track(waitOn(b!)), track(waitOn(b!)), track(waitOn(b!))];
      await until(() => waiterCount(b!.cond) === 3, 'b waiting');
      await a!.lock.acquire();
      // b, woken by a's notify(1), re-arms; before it goes back to WAITING (it was descheduled for 1 s),
      // a notifies again and finds its seat FLIGHT, unmoved since it woke it.
      const probed = at(
        'waitAsync',
        (array, index) => on(a!.cond, array, index, seat(0) + 1),
        (real) => {
          const armed = real();
          clock.tick(1_000);
          expect(a!.lock.acquireSync(0)).to.equal(true);
          a!.cond.notify(1);
          a!.lock.release();
          expect(Atomics.load(w, seat(0)) & 7).to.equal(FLIGHT); // not taken for gone
          return armed;
        },
      );
      a!.cond.notify(1);
      a!.lock.release();
      await until(() => probed.fired && bw.filter((x) => x.value === true).length === 2, 'two of b woken');
      await flush();
      expect(bw[2]!.state).to.equal('pending');
      await a!.lock.acquire();
      a!.cond.notify(1);
      a!.lock.release();
      await until(() => bw[2]!.value === true, 'the third woken');
      expectClean(a!, b!);
    });

    for (const then of ['sits there again', 'sits elsewhere: another thread took the seat']) {
      it(`SharedCondition: a thread taken for gone as it takes a seat (a thread with no seat saw it RESERVED for 1 s) ${then}, and is notified`, async () => {
        const [a, b] = threads(2);
        const w = wordsOf(a!.cond);
        const raced = at(
          'waitAsync',
          (array, index) => on(a!.cond, array, index, seat(0) + 1),
          (real) => {
            const v = Atomics.load(w, seat(0));
            expect(v & 7).to.equal(1);
            Atomics.compareExchange(w, seat(0), v, (v & ~7) | DEAD); // as a thread with no seat, after 1 s
            if (then !== 'sits there again') Atomics.store(w, seat(0), (99 * 8) | 1); // that thread took the seat
            return real();
          },
        );
        const bw = track(waitOn(b!));
        await until(() => raced.fired && waiterCount(b!.cond) === 1, 'b waiting');
        const bSeat = then === 'sits there again' ? seat(0) : seat(1);
        expect(Atomics.load(w, bSeat) & 7).to.equal(2);
        expect(Atomics.load(w, bSeat + 1)).to.equal(REG);
        await a!.lock.acquire();
        a!.cond.notifyAll();
        a!.lock.release();
        await until(() => bw.value === true, 'b woken');
        if (then !== 'sits there again') Atomics.store(w, seat(0), 0); // the other thread leaves
        expectClean(a!, b!);
      });
    }

    it('SharedCondition: a woken thread taken for gone before it looked (a thread with no seat saw it FLIGHT for 1 s and took the seat) wakes its waiters, true', async () => {
      const [a, b, c] = threads(3);
      const w = wordsOf(a!.cond);
      const bw = track(waitOn(b!));
      await until(() => waiterCount(b!.cond) === 1, 'b waiting');
      await a!.lock.acquire();
      a!.cond.notify(1); // b's seat FLIGHT, b woken: it looks in a later job
      const v = Atomics.load(w, seat(0));
      expect(v & 7).to.equal(FLIGHT);
      // A thread with no seat, after 1 s: takes it for gone, takes its notification back, gives it on
      // (to nobody) and sits there.
      Atomics.compareExchange(w, seat(0), v, (v & ~7) | DEAD);
      Atomics.store(w, seat(0) + 1, 0);
      a!.lock.release();
      expect(c!.lock.acquireSync(0)).to.equal(true);
      const cw = track(c!.cond.wait().finally(() => c!.lock.release()));
      await until(() => bw.value === true, 'b woken all the same');
      expect(cw.state).to.equal('pending');
      await a!.lock.acquire();
      a!.cond.notify(1);
      a!.lock.release();
      await until(() => cw.value === true, 'c woken');
      expectClean(a!, b!, c!);
    });

    it('SharedCondition.waitSync() on a thread without Atomics.waitAsync wakes when another thread notifies it', () => {
      const [a, b] = threads(2);
      delete (Atomics as { waitAsync?: unknown }).waitAsync;
      try {
        const w = wordsOf(a!.cond);
        const notified = at(
          'wait',
          (array, index) => on(a!.cond, array, index, seat(0) + 1),
          () => {
            expect(Atomics.load(w, seat(0)) & 7).to.equal(3); // POLLING
            a!.lock.acquireSync();
            a!.cond.notify(1);
            a!.lock.release();
            return 'ok';
          },
        );
        b!.lock.acquireSync();
        expect(b!.cond.waitSync(10_000)).to.equal(true);
        expect(notified.fired).to.equal(true);
        expect(b!.lock.locked()).to.equal(true);
        b!.lock.release();
      } finally {
        Atomics.waitAsync = realWaitAsync;
      }
      expectClean(a!, b!);
    });
  });
});
