import { expect } from 'chai';
import * as sinon from 'sinon';
import { Worker } from 'node:worker_threads';
import { inspect } from 'node:util';
import { Lock, SharedCondition, SharedEvent, SharedLock, TimeoutError } from '../../lib/index.js';
import { fakeClock, flush, recorder, track, waiterCount, withFakeClock } from '../helpers.js';
import { COUNTER, bufferBytes, layout } from '../workers/lock-layout.js';
import { type LockAgent, startLockAgent } from '../workers/lock-agents.js';
import { until, within } from '../workers/agents.js';
import { lockSuite } from '../lock-suite.js';
import { at, noRaces, on, wordsOf } from './races.js';

// On one thread, a SharedLock keeps every promise of the one-thread Lock (its queue: util.inspect's waiters).
lockSuite('SharedLock', () => {
  const lock = new SharedLock();
  return { lock, waiters: () => waiterCount(lock), from: SharedLock.from };
});

const realWaitAsync = Atomics.waitAsync;

/** Engine waiters pending on the words of a lock, counted by waking them (they re-arm by themselves). */
function engineWaiters(x: { buffer: SharedArrayBuffer; byteOffset: number }, bytes: number): number {
  const words = new Int32Array(x.buffer, x.byteOffset, bytes / 4);
  let n = 0;
  for (let i = 0; i < words.length; i++) n += Atomics.notify(words, i);
  return n;
}

describe('SharedLock: memory and arguments', () => {
  it('SharedLock: a new lock allocates its own buffer of SharedLock.BYTES bytes, free', () => {
    const lock = new SharedLock();
    expect(SharedLock.BYTES % 4).to.equal(0);
    expect(lock.buffer.byteLength).to.equal(SharedLock.BYTES);
    expect(lock.byteOffset).to.equal(0);
    expect(lock.locked()).to.equal(false);
    expect(String(lock)).to.equal('[object SharedLock]');
    expect(inspect(lock)).to.equal('SharedLock { locked: false, waiters: 0 }');
  });

  it('SharedLock: refuses a buffer and byteOffset exactly as SharedEvent does', () => {
    const buffer = new SharedArrayBuffer(SharedLock.BYTES + 8);
    for (const bad of [new ArrayBuffer(8), {}, null]) {
      expect(() => new SharedLock(bad as SharedArrayBuffer)).to.throw(TypeError, /SharedArrayBuffer.*COOP\/COEP/);
    }
    for (const bad of [2, -4, 1.5, NaN]) {
      expect(() => new SharedLock(buffer, bad)).to.throw(RangeError, /byteOffset must be a non-negative multiple of 4/);
    }
    expect(() => new SharedLock(buffer, 12)).to.throw(RangeError, /byteOffset 12 leaves no room for a lock/);
    expect(() => new SharedLock(buffer, '4' as unknown as number)).to.throw(TypeError, /byteOffset must be a number/);
    expect(new SharedLock(buffer, 8).byteOffset).to.equal(8);
    expect(() => new SharedEvent(buffer, 2)).to.throw(RangeError, /byteOffset must be a non-negative multiple of 4/);
  });

  it('SharedLock: two objects over the same words are one lock; locks at different offsets are independent', async () => {
    const buffer = new SharedArrayBuffer(2 * SharedLock.BYTES);
    const a = new SharedLock(buffer, 0);
    const b = new SharedLock(buffer, SharedLock.BYTES);
    const a2 = new SharedLock(buffer, 0);
    expect(await a.acquire()).to.equal(true);
    expect(a2.locked()).to.equal(true);
    expect(b.locked()).to.equal(false);
    const p = track(a2.acquire());
    await flush();
    expect(p.state).to.equal('pending');
    a.release(); // hands it to a2's waiter, through shared memory
    await until(() => p.state === 'fulfilled', 'the other object getting the lock');
    expect(a.locked()).to.equal(true);
    a2.release();
    expect(a.locked()).to.equal(false);
  });
});

describe('SharedLock on one thread', () => {
  let clock: ReturnType<typeof fakeClock>;
  withFakeClock((c) => (clock = c));

  it('SharedLock.acquire() takes a free lock at once and hands it on in FIFO order', async () => {
    const lock = new SharedLock();
    const { log, note } = recorder();
    expect(await lock.acquire()).to.equal(true);
    note('a', lock.acquire());
    note('b', lock.acquire(1_000));
    note('c', lock.acquire({ signal: new AbortController().signal }));
    await flush();
    expect(waiterCount(lock)).to.equal(3);
    for (let i = 0; i < 3; i++) {
      lock.release();
      await flush();
    }
    expect(log).to.deep.equal(['a:true', 'b:true', 'c:true']);
    lock.release();
    expect(lock.locked()).to.equal(false);
  });

  it('SharedLock.release() on a free lock throws an Error', () => {
    expect(() => new SharedLock().release()).to.throw(
      Error,
      /SharedLock\.release\(\) called on a lock that is not held/,
    );
  });

  it('SharedLock.acquire(ms) resolves false after the timeout and never holds the lock afterwards', async () => {
    const lock = new SharedLock();
    await lock.acquire();
    const t = track(lock.acquire(100));
    const next = track(lock.acquire());
    clock.tick(100);
    await flush();
    expect(t.value).to.equal(false);
    lock.release();
    await flush();
    expect(next.value).to.equal(true); // the timed-out waiter was skipped
    lock.release();
    expect(lock.locked()).to.equal(false);
    expect(await lock.acquire(0)).to.equal(true);
    expect(await lock.acquire(0)).to.equal(false);
    expect(await lock.acquire(-5)).to.equal(false);
    lock.release();
  });

  it('SharedLock.acquire({ signal }) rejects with the reason when aborted, and the next waiter gets the lock', async () => {
    const lock = new SharedLock();
    await lock.acquire();
    const ac = new AbortController();
    const p = lock.acquire({ signal: ac.signal });
    const next = track(lock.acquire());
    ac.abort(new Error('stop'));
    await p.catch((e: Error) => expect(e.message).to.equal('stop'));
    lock.release();
    await flush();
    expect(next.value).to.equal(true);
    lock.release();
    expect(
      await lock.acquire({ signal: AbortSignal.abort(new Error('already')) }).catch((e: Error) => e.message),
    ).to.equal('already');
  });

  it('SharedLock.acquire() rejects bad arguments with the same errors as Lock', async () => {
    const lock = new SharedLock();
    for (const bad of ['5', NaN, { timeout: 'x' }, { signal: {} }]) {
      const mine = await lock.acquire(bad as number).catch((e: Error) => `${e.name}: ${e.message}`);
      const theirs = await new Lock().acquire(bad as number).catch((e: Error) => `${e.name}: ${e.message}`);
      expect(mine).to.equal(theirs);
    }
    expect(lock.locked()).to.equal(false);
  });

  it('SharedLock.runExclusive() releases however fn ends, and rejects with TimeoutError when it cannot get the lock', async () => {
    const lock = new SharedLock();
    expect(await lock.runExclusive(() => 7)).to.equal(7);
    await lock
      .runExclusive(() => Promise.reject(new Error('boom')))
      .catch((e: Error) => expect(e.message).to.equal('boom'));
    expect(lock.locked()).to.equal(false);
    await lock.acquire();
    const p = lock.runExclusive(() => 1, 50);
    clock.tick(50);
    const error = await p.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TimeoutError);
    expect((error as Error).message).to.match(/SharedLock\.runExclusive\(\) timed out after 50 ms/);
    lock.release();
    await lock.runExclusive(null as never).catch((e: Error) => expect(e).to.be.instanceOf(TypeError));
  });

  it('SharedLock: 10,000 timed-out waits leave no engine waiter, timer or queued waiter behind', async () => {
    const lock = new SharedLock();
    await lock.acquire();
    for (let batch = 0; batch < 10; batch++) {
      const waits = Array.from({ length: 1_000 }, () => lock.acquire(1));
      clock.tick(1);
      expect((await Promise.all(waits)).every((v) => v === false)).to.equal(true);
    }
    expect(waiterCount(lock)).to.equal(0);
    expect(clock.countTimers()).to.equal(0);
    expect(engineWaiters(lock, SharedLock.BYTES)).to.equal(0);
    lock.release();
    expect(lock.locked()).to.equal(false);
  });
});

describe('SharedLock: more threads than seats', () => {
  it('SharedLock: 40 lock objects over one lock (more than its 32 seats) all get it, one at a time', async () => {
    const first = new SharedLock();
    const locks = Array.from({ length: 40 }, () => new SharedLock(first.buffer));
    await first.acquire();
    let inside = 0;
    let most = 0;
    let done = 0;
    const runs = locks.map(async (lock) => {
      await lock.acquire();
      most = Math.max(most, ++inside);
      await new Promise((r) => setImmediate(r));
      inside--;
      done++;
      lock.release();
    });
    await new Promise((r) => setTimeout(r, 5));
    first.release();
    await until(() => done === 40, 'every object getting the lock');
    await Promise.all(runs);
    expect(most).to.equal(1);
    expect(first.locked()).to.equal(false);
    expect(engineWaiters(first, SharedLock.BYTES)).to.equal(0);
  });
});

describe('SharedLock.acquireSync on the main thread', () => {
  it('SharedLock.acquireSync() takes a free lock, and returns false when it stays held past the timeout', () => {
    const lock = new SharedLock();
    expect(lock.acquireSync()).to.equal(true);
    expect(lock.acquireSync(0)).to.equal(false);
    expect(lock.acquireSync(5)).to.equal(false);
    lock.release();
    expect(lock.acquireSync(0)).to.equal(true);
    lock.release();
    expect(() => lock.acquireSync('1' as unknown as number)).to.throw(TypeError, /timeout must be a number/);
    expect(() => lock.acquireSync(NaN)).to.throw(RangeError, /NaN/);
  });
});

function crossThread(noWaitAsync: boolean): void {
  describe(`SharedLock across threads${noWaitAsync ? ' (polling fallback)' : ''}`, () => {
    const workers = noWaitAsync ? 2 : 8;
    // A hand-off to a polling thread waits for its next poll (up to 32 ms), so the polling fallback
    // counts fewer.
    const n = noWaitAsync ? 200 : 20_000;
    let buffer: SharedArrayBuffer;
    let agents: LockAgent[];
    let lock: SharedLock;
    let data: Int32Array;
    before(async () => {
      if (noWaitAsync) delete (Atomics as { waitAsync?: unknown }).waitAsync;
      buffer = new SharedArrayBuffer(bufferBytes(0));
      lock = new SharedLock(buffer, layout.lock);
      data = new Int32Array(buffer, layout.data);
      agents = await Promise.all(Array.from({ length: workers }, () => startLockAgent(buffer, { noWaitAsync })));
    });
    after(async () => {
      Atomics.waitAsync = realWaitAsync;
      await Promise.all(agents.map((a) => a.terminate()));
    });

    it(`SharedLock: ${workers} workers and the main thread, ${n.toLocaleString('en')} increments each under the lock, count exactly`, async function () {
      this.timeout(45_000);
      data[COUNTER] = 0;
      const runs = agents.map((a, i) => a.call({ op: 'count', n, tasks: 3, sync: i % 2 === 0 }));
      const main = (async () => {
        for (let i = 0; i < n; i++) {
          if (i % 4 === 0) {
            await lock.runExclusive(() => {
              data[COUNTER] = data[COUNTER]! + 1;
            });
            continue;
          }
          // A timed-out acquire holds nothing: take the lock the plain way for this increment.
          if (!(await lock.acquire(i % 4 === 1 ? 1 : undefined))) await lock.acquire();
          const v = data[COUNTER]!;
          if (i % 3 === 0) await null;
          data[COUNTER] = v + 1;
          lock.release();
        }
      })();
      await within(Promise.all([...runs, main]), 40_000, 'the counting');
      expect(data[COUNTER]).to.equal((workers + 1) * n);
      expect(lock.locked()).to.equal(false);
    });

    it('SharedLock: a release on the main thread wakes a waiter in a worker, and back', async () => {
      await lock.acquire();
      const p = agents[0]!.call({ op: 'acquire' });
      await until(() => Atomics.load(new Int32Array(buffer), 0) >= 2, 'the worker in line');
      lock.release();
      expect(await within(p, 5_000, 'worker acquire')).to.equal(true);
      expect(lock.locked()).to.equal(true);
      const mine = lock.acquire();
      await agents[0]!.call({ op: 'release' });
      expect(await within(mine, 5_000, 'main acquire')).to.equal(true);
      lock.release();
    });

    it('SharedLock.acquireSync() blocked without a timeout in a worker gets the lock when the main thread releases it', async () => {
      await lock.acquire();
      const p = agents[0]!.call({ op: 'acquireSync' });
      await until(() => Atomics.load(new Int32Array(buffer), 0) >= 2, 'the worker in line');
      lock.release();
      expect(await within(p, 5_000, 'worker acquireSync')).to.equal(true);
      await agents[0]!.call({ op: 'release' });
      expect(lock.locked()).to.equal(false);
    });

    it('SharedLock: timed-out and aborted waits in a worker hold nobody up', async () => {
      await lock.acquire();
      expect(await agents[0]!.call({ op: 'acquire', timeout: 20 })).to.equal(false);
      expect(await agents[0]!.call({ op: 'acquire', abortAfter: 5 })).to.equal('rejected: aborted in worker');
      if (!noWaitAsync) expect(await agents[1]!.call({ op: 'acquireSync', timeout: 20 })).to.equal(false);
      lock.release();
      expect(lock.locked()).to.equal(false);
      expect(await within(agents[1]!.call({ op: 'acquire', timeout: 5_000 }), 5_000, 'worker')).to.equal(true);
      await agents[1]!.call({ op: 'release' });
    });
  });
}

crossThread(false);
crossThread(true);

describe('SharedLock: faults', () => {
  it('SharedLock: a worker terminated while it waits (async or blocked in acquireSync) never blocks the lock', async () => {
    const buffer = new SharedArrayBuffer(bufferBytes(0));
    const lock = new SharedLock(buffer, layout.lock);
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => startLockAgent(buffer)));
    try {
      await lock.acquire();
      void a!.call({ op: 'acquire' }).catch(() => {});
      void b!.call({ op: 'acquireSync' }).catch(() => {});
      await until(() => engineWaiters(lock, SharedLock.BYTES) === 2, 'both workers waiting');
      const live = c!.call({ op: 'acquire', timeout: 10_000 });
      await a!.terminate();
      await b!.terminate();
      lock.release(); // the two dead tickets are skipped
      expect(await within(live, 10_000, 'the live waiter')).to.equal(true);
      await c!.call({ op: 'release' });
      expect(lock.locked()).to.equal(false);
    } finally {
      await Promise.all([a, b, c].map((x) => x!.terminate()));
    }
  });

  it('SharedLock and SharedCondition: after workers are terminated at random moments of their lock and condition operations, all 32 seats of each can be taken again', async () => {
    const buffer = new SharedArrayBuffer(bufferBytes(0));
    const lock = new SharedLock(buffer, layout.lock);
    const agents = await Promise.all(Array.from({ length: 6 }, () => startLockAgent(buffer)));
    await Promise.all(
      agents.map(async (a) => {
        await a.call({ op: 'churn' });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
        await a.terminate();
      }),
    );
    const words = new Int32Array(buffer);
    const lockSeats = () => Array.from(words.slice(2, 34));
    const condSeats = () =>
      Array.from(words.slice(layout.notEmpty / 4 + 1, layout.notEmpty / 4 + 65)).filter((_, i) => i % 2 === 0);
    // From here on, this thread alone: a fake clock drives its polls (1 s of them, past STALE).
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let done = false;
    const stop = new AbortController(); // lets this thread's waiters go, should the test fail
    const run = async (done: () => boolean, ticks = 400) => {
      for (let i = 0; i < ticks && !done(); i++) {
        clock.tick(32);
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    try {
      if (lock.locked()) lock.release(); // on behalf of a worker terminated holding it
      // 33 threads (one more than the seats) take the lock in turn, first held for 1 s.
      expect(lock.tryAcquire()).to.equal(true);
      let served = 0;
      for (let k = 0; k < 33; k++) void new SharedLock(buffer, layout.lock).runExclusive(() => served++);
      await run(() => false, 40);
      lock.release();
      await run(() => served === 33);
      expect(served).to.equal(33);
      // 33 threads wait on the condition, in a loop on the guarded state (a thread with no seat wakes
      // early and looks again), until every seat a terminated worker left RESERVED or FLIGHT, or WAITING
      // with nobody registered (no notify looks there), is taken for gone: a thread that finds every
      // seat taken does so once it has seen the seat unmoved for STALE (1 s). A seat left WAITING with
      // waiters registered is found by the notifyAll() below (its notify wakes nobody).
      const unseen = (v: number, counts: number) =>
        (v & 7) === 1 || (v & 7) === 6 || ((v & 7) === 2 && counts >>> 16 === 0);
      const at = layout.notEmpty / 4 + 1;
      const left = condSeats()
        .map((v, i) => [i, v] as const)
        .filter(([i, v]) => unseen(v, words[at + 2 * i + 1]!));
      const reclaimed = () => left.every(([i, v]) => condSeats()[i] !== v);
      let woken = 0;
      for (let k = 0; k < 33; k++) {
        const l = new SharedLock(buffer, layout.lock);
        const c = new SharedCondition(l, buffer, layout.notEmpty);
        void (async () => {
          await l.acquire();
          try {
            while (!done) await c.wait({ signal: stop.signal });
          } catch {
            // stopped: the test failed
          } finally {
            l.release();
          }
          woken++;
        })();
      }
      await run(reclaimed);
      expect(reclaimed(), 'the seats terminated workers left on the condition are free again').to.equal(true);
      let held = false;
      void lock.acquire().then(() => (held = true)); // in line with 33 others: it may poll too
      await run(() => held);
      expect(held).to.equal(true);
      done = true;
      new SharedCondition(lock, buffer, layout.notEmpty).notifyAll();
      lock.release();
      await run(() => woken === 33);
      expect(woken).to.equal(33);
      // Now 32 threads find a seat each, on the lock and on the condition.
      const ac = new AbortController();
      expect(lock.tryAcquire()).to.equal(true);
      const fresh = Array.from({ length: 32 }, () => new SharedLock(buffer, layout.lock));
      const settled: Promise<unknown>[] = fresh.map((l) => l.acquire({ signal: ac.signal }).catch(() => false));
      expect(lockSeats().map((v) => v & 7)).to.deep.equal(new Array(32).fill(2));
      ac.abort();
      lock.release();
      const again = new AbortController();
      expect(lock.tryAcquire()).to.equal(true);
      for (const l of fresh) {
        const c = new SharedCondition(l, buffer, layout.notEmpty);
        settled.push(c.wait({ signal: again.signal }).catch(() => l.release())); // the lock held again: let go
        expect(lock.tryAcquire()).to.equal(true); // the wait released it
      }
      expect(condSeats().map((v) => v & 7)).to.deep.equal(new Array(32).fill(2));
      again.abort();
      lock.release();
      let over = false;
      void Promise.all(settled).then(() => (over = true));
      await run(() => over);
      expect(over).to.equal(true);
      expect(lock.locked()).to.equal(false);
    } finally {
      clock.restore();
      stop.abort();
    }
  });

  it('SharedLock: a worker terminated while it holds the lock leaves it held, as any mutex would', async () => {
    const buffer = new SharedArrayBuffer(bufferBytes(0));
    const lock = new SharedLock(buffer, layout.lock);
    const a = await startLockAgent(buffer);
    expect(await a.call({ op: 'acquire' })).to.equal(true);
    await a.terminate();
    expect(lock.locked()).to.equal(true);
    expect(await lock.acquire(0)).to.equal(false);
  });
});

describe('SharedLock: fairness', () => {
  it('SharedLock: while 7 workers hammer the lock, a waiter on an eighth thread gets it within 7 hand-offs', async () => {
    const buffer = new SharedArrayBuffer(bufferBytes(0));
    const lock = new SharedLock(buffer, layout.lock);
    const data = new Int32Array(buffer, layout.data);
    const agents = await Promise.all(Array.from({ length: 7 }, () => startLockAgent(buffer)));
    try {
      const until = 1_000_000_000;
      const runs = agents.map((a) => a.call({ op: 'hammer', until }));
      await new Promise((r) => setTimeout(r, 50));
      let worst = 0;
      for (let round = 0; round < 50; round++) {
        const taken = lock.acquire(); // in line when acquire() returns
        const before = Atomics.load(data, COUNTER);
        await taken;
        const after = Atomics.load(data, COUNTER);
        lock.release();
        worst = Math.max(worst, after - before);
        await new Promise((r) => setImmediate(r));
      }
      Atomics.store(data, COUNTER, until);
      await within(Promise.all(runs), 10_000, 'the hammering workers');
      // Ahead of it at most: the holder, and one turn for each of the other 6 workers.
      expect(worst).to.be.at.most(7);
    } finally {
      await Promise.all(agents.map((a) => a.terminate()));
    }
  });
});

void SharedCondition;

describe('SharedLock and SharedCondition: Node worker lifetime', () => {
  const boot = new URL('../workers/boot.mjs', import.meta.url);
  const start = (buffer: SharedArrayBuffer, kind: string) => {
    const worker = new Worker(boot, { workerData: { entry: '../fixtures/lock-lifetime.ts', buffer, kind } });
    const said: string[] = [];
    worker.on('message', (m: string) => said.push(m));
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    return { worker, said, exited };
  };

  it('SharedLock: a worker with a pending acquire() stays alive until it gets the lock, then exits by itself', async () => {
    const lock = new SharedLock(new SharedArrayBuffer(SharedLock.BYTES + SharedCondition.BYTES));
    await lock.acquire();
    const { said, exited } = start(lock.buffer, 'lock');
    await until(() => Atomics.load(new Int32Array(lock.buffer), 0) >= 2, 'the worker in line');
    await new Promise((r) => setTimeout(r, 200));
    expect(said).to.deep.equal([]);
    lock.release();
    expect(await within(exited, 10_000, 'the worker exiting')).to.equal(0);
    expect(said).to.deep.equal(['got the lock']);
    expect(lock.locked()).to.equal(false);
  });

  it('SharedCondition: a worker with a pending wait() stays alive until notified, then exits by itself', async () => {
    const buffer = new SharedArrayBuffer(SharedLock.BYTES + SharedCondition.BYTES);
    const lock = new SharedLock(buffer);
    const cond = new SharedCondition(lock, buffer, SharedLock.BYTES);
    const { said, exited } = start(buffer, 'condition');
    await until(() => said.length === 1 && !lock.locked(), 'the worker waiting');
    await new Promise((r) => setTimeout(r, 200));
    expect(said).to.deep.equal(['waiting']);
    await lock.acquire();
    cond.notify();
    lock.release();
    expect(await within(exited, 10_000, 'the worker exiting')).to.equal(0);
    expect(said).to.deep.equal(['waiting', 'notified: true']);
  });
});

describe('SharedLock: the protocol, step by step (shared memory written as another thread would)', () => {
  const lockWord = (lock: SharedLock) => new Int32Array(lock.buffer, lock.byteOffset, 2 + 32);
  /** The word index of the one published (WAITING) seat. */
  const publishedSeat = (lock: SharedLock) => {
    const w = lockWord(lock);
    for (let i = 2; i < w.length; i++) if ((w[i]! & 7) === 2) return i;
    throw new Error('no published seat');
  };

  it('SharedLock.release() with a thread counted but not yet published lets go of the lock, for that thread to take', () => {
    const lock = new SharedLock();
    const w = lockWord(lock);
    Atomics.store(w, 0, 1 | 2); // held, one thread counted (between counting itself and publishing)
    lock.release();
    expect(Atomics.load(w, 0)).to.equal(2); // free, still counted: that thread sees it free and takes it
    expect(lock.locked()).to.equal(false);
  });

  it('SharedLock: a waiter whose seat was taken for gone (DEAD) gets back in line and still gets the lock', async () => {
    const lock = new SharedLock();
    const other = new SharedLock(lock.buffer);
    await other.acquire();
    const p = track(lock.acquire());
    await flush();
    const w = lockWord(lock);
    const seat = publishedSeat(lock);
    const ticket = w[seat]! & ~7;
    // As a releaser that found no engine waiter would: grant, take back as dead, uncount.
    Atomics.store(w, seat, ticket | 5);
    Atomics.sub(w, 0, 2);
    Atomics.notify(w, seat);
    await until(() => (w[seat]! & 7) === 2 && (w[seat]! & ~7) !== ticket, 'back in line with a new ticket');
    other.release();
    await until(() => p.state === 'fulfilled', 'the lock');
    lock.release();
    expect(lock.locked()).to.equal(false);
  });

  it('SharedLock.acquireSync() with every seat taken tries the lock after 1 ms, then doubling the delay up to 32 ms, and gives up at its timeout', async () => {
    const first = new SharedLock();
    await first.acquire();
    const others = Array.from({ length: 32 }, () => new SharedLock(first.buffer));
    const waits = others.map((l) => l.acquire(10_000).then(() => l.release()));
    await flush();
    const w = lockWord(first);
    expect(Array.from(w.slice(2)).every((v) => (v & 7) === 2)).to.equal(true); // all 32 seats in line
    const sleeps = sinon.spy(Atomics, 'wait');
    try {
      // A timeout far beyond the 95 ms of the first seven delays: on a loaded machine each sleep may
      // overrun, and the last delay before the timeout is only what is left of it.
      expect(new SharedLock(first.buffer).acquireSync(600)).to.equal(false);
    } finally {
      sleeps.restore();
    }
    const delays = sleeps.args.map((args) => args[3] as number).filter((ms) => ms > 0); // not the probe of mayBlock()
    expect(delays.slice(0, 7)).to.deep.equal([1, 2, 4, 8, 16, 32, 32]);
    expect(Math.max(...delays)).to.equal(32);
    first.release();
    await within(Promise.all(waits), 10_000, 'the 32 waiters');
    expect(first.locked()).to.equal(false);
  });
});

describe('SharedLock: races, the other thread stepping in between two steps of this one', () => {
  // Lock objects over one buffer are threads; the lock word is word 0, the ticket counter word 1, the
  // seats words 2 to 33 (state bits: RESERVED 1, WAITING 2, GRANTED 4, DEAD 5).
  const LOCKED = 1;
  const ONE = 2;
  const SEAT = 2;
  afterEach(noRaces);

  /** The ticket taken as a thread publishes its seat (SEAT, taken: RESERVED), after it counted itself. */
  const publishing = (x: SharedLock, array: Int32Array, index: number) =>
    on(x, array, index, 1) && (Atomics.load(wordsOf(x), SEAT) & 7) === 1;

  /** Three lock objects over one lock (three threads). */
  const threads = () => {
    const a = new SharedLock();
    return [a, new SharedLock(a.buffer), new SharedLock(a.buffer)] as const;
  };
  /** Nothing left behind: the lock free, no seat taken, no engine waiter. */
  const expectClean = (lock: SharedLock) => {
    expect(lock.locked()).to.equal(false);
    expect(Array.from(wordsOf(lock).slice(0, 34)).filter((_, i) => i !== 1)).to.deep.equal(new Array(33).fill(0));
    expect(engineWaiters(lock, SharedLock.BYTES)).to.equal(0);
  };

  it('SharedLock.release() that read the lock word just before a thread counted itself lets go, and that thread takes the lock as it publishes', async () => {
    const [a, b] = threads();
    const w = wordsOf(a);
    await a.acquire();
    // b has counted itself and is about to publish its seat; a's release read the word before b counted.
    at(
      'add',
      (array, index) => publishing(a, array, index),
      (real) => {
        at(
          'load',
          (array, index) => on(a, array, index, 0),
          () => LOCKED,
        );
        a.release();
        return real();
      },
    );
    const p = track(b.acquire());
    await flush();
    expect(p.value).to.equal(true);
    expect(Atomics.load(w, 0)).to.equal(LOCKED); // held by b, nobody counted
    b.release();
    expectClean(a);
  });

  it('SharedLock.release() letting go for a counted thread, as a third thread gets in line, hands the lock to the one in line; the counted thread is next', async () => {
    const [a, b, c] = threads();
    const order: string[] = [];
    let cDone: Promise<void> | undefined;
    await a.acquire();
    // b has counted itself, not published; a releases, and c gets in line just before a lets go.
    at(
      'add',
      (array, index) => publishing(a, array, index),
      (real) => {
        at(
          'compareExchange',
          (array, index, expected, replacement) =>
            on(a, array, index, 0) && expected === (LOCKED | ONE) && replacement === ONE,
          (letGo) => {
            cDone = c.acquire().then(() => (order.push('c'), c.release()));
            return letGo();
          },
        );
        a.release();
        return real();
      },
    );
    const bDone = b.acquire().then(() => (order.push('b'), b.release()));
    await within(Promise.all([cDone, bDone]), 10_000, 'both threads');
    expect(order).to.deep.equal(['c', 'b']);
    expectClean(a);
  });

  it('SharedLock.release() that let go just as the counted thread published takes the lock back and hands it to that thread', async () => {
    const [a, b] = threads();
    await a.acquire();
    // b publishes its seat; a's release looked at the seats just before, and lets go just after.
    at(
      'compareExchange',
      (array, index, _, value) => on(a, array, index, SEAT) && (value! & 7) === 2,
      (real) => {
        const done = real();
        at(
          'load',
          (array, index) => on(a, array, index, SEAT),
          () => 1 /* RESERVED, not published yet */,
        );
        a.release();
        return done;
      },
    );
    const p = track(b.acquire());
    await until(() => p.state === 'fulfilled', 'b getting the lock');
    expect(p.value).to.equal(true);
    expect(b.locked()).to.equal(true);
    b.release();
    expectClean(a);
  });

  it('SharedLock.acquire() that finds the lock free but loses it to another thread in that instant waits in line and gets it next', async () => {
    const [a, b] = threads();
    let bGot: Promise<boolean> | undefined;
    at(
      'compareExchange',
      (array, index, expected, replacement) => on(a, array, index, 0) && expected === 0 && replacement === LOCKED,
      (real) => {
        bGot = b.acquire();
        return real();
      },
    );
    const p = track(a.acquire());
    expect(await bGot).to.equal(true);
    await flush();
    expect(p.state).to.equal('pending');
    b.release();
    await until(() => p.state === 'fulfilled', 'a getting the lock');
    a.release();
    expectClean(a);
  });

  it('SharedLock.release() hands the lock to the oldest thread in line when a newer one publishes on an earlier seat as it looks', async () => {
    const [a, b, c] = threads();
    const x = new SharedLock(a.buffer);
    const w = wordsOf(a);
    const order: string[] = [];
    await a.acquire();
    const ac = new AbortController();
    const xGot = x.acquire({ signal: ac.signal }).catch(() => 'gave up'); // sits first
    const bGot = b.acquire().then(() => (order.push('b'), b.release()));
    await flush();
    ac.abort();
    expect(await xGot).to.equal('gave up');
    expect(Atomics.load(w, SEAT)).to.equal(0); // the first seat free again, b in line on the second
    let cGot: Promise<void> | undefined;
    // a's release has read the ticket counter and the count (b alone in line); c sits on the first seat
    // and publishes just before a looks at it.
    const stepped = at(
      'load',
      (array, index) => on(a, array, index, SEAT),
      (real) => {
        cGot = c.acquire().then(() => void (order.push('c'), c.release()));
        return real();
      },
    );
    a.release();
    expect(stepped.fired).to.equal(true);
    await within(Promise.all([bGot, cGot]), 10_000, 'b and c getting the lock');
    expect(order).to.deep.equal(['b', 'c']);
    expectClean(a);
  });

  it('SharedLock.release() racing the withdrawal of the oldest thread in line (its waiter aborted) hands the lock to the next thread', async () => {
    const [a, b, c] = threads();
    const w = wordsOf(a);
    await a.acquire();
    const ac = new AbortController();
    const bGot = track(b.acquire({ signal: ac.signal }));
    const cGot = track(c.acquire());
    await flush();
    const bSeat = SEAT; // b sat first
    at(
      'compareExchange',
      (array, index, expected, replacement) => on(a, array, index, bSeat) && replacement === ((expected! & ~7) | 4),
      (real) => {
        ac.abort(new Error('gave up'));
        return real();
      },
    );
    a.release();
    expect(Atomics.load(w, bSeat)).to.equal(0); // b left its seat
    await until(() => cGot.state === 'fulfilled' && bGot.state === 'rejected', 'c getting the lock');
    expect((bGot.reason as Error).message).to.equal('gave up');
    c.release();
    expectClean(a);
  });

  it('SharedLock: a waiter handed the lock while it re-arms after a stray wake-up is taken for gone, gets back in line and still gets the lock', async () => {
    const [a, b] = threads();
    const w = wordsOf(a);
    await a.acquire();
    const p = track(b.acquire());
    await flush();
    // A late notify (meant for the seat's previous owner) wakes b; a releases just before b re-arms,
    // and finds no engine waiter on b's seat.
    const released = at(
      'waitAsync',
      (array, index) => on(a, array, index, SEAT),
      (real) => {
        a.release();
        expect(Atomics.load(w, SEAT) & 7).to.equal(5); // DEAD: taken for gone
        return real();
      },
    );
    Atomics.notify(w, SEAT);
    await until(() => p.state === 'fulfilled', 'b getting the lock');
    expect(released.fired).to.equal(true);
    expect(Atomics.load(w, 0)).to.equal(LOCKED);
    b.release();
    expectClean(a);
  });

  it('SharedLock: a thread that publishes as the lock is let go, and loses it to another thread in that instant, stays in line and gets it next', async () => {
    const [a, b, c] = threads();
    const order: string[] = [];
    let cDone: Promise<void> | undefined;
    await a.acquire();
    at(
      'add',
      (array, index) => publishing(a, array, index),
      (real) => {
        a.release(); // b counted, not published: a lets go for b to take
        at(
          'compareExchange',
          (array, index, expected, replacement) => on(a, array, index, 0) && expected === ONE && replacement === LOCKED,
          (take) => {
            cDone = c.acquire().then(() => (order.push('c'), c.release())); // takes the free lock first
            return take();
          },
        );
        return real();
      },
    );
    const bDone = b.acquire().then(() => (order.push('b'), b.release()));
    await within(Promise.all([cDone, bDone]), 10_000, 'both threads');
    expect(order).to.deep.equal(['c', 'b']);
    expectClean(a);
  });

  it('SharedLock: a thread taken for gone whose seat another thread took meanwhile sits elsewhere, gets back in line and gets the lock', async () => {
    const [a, b, c] = threads();
    const w = wordsOf(a);
    const order: string[] = [];
    await a.acquire();
    const bDone = b.acquire().then(() => (order.push('b'), b.release()));
    await flush();
    Atomics.notify(w, SEAT); // a stray wake-up: b is between two waits
    a.release(); // finds no engine waiter on b's seat: takes b for gone, and lets go
    expect(Atomics.load(w, SEAT) & 7).to.equal(5);
    expect(a.acquireSync(0)).to.equal(true);
    const cDone = c.acquire().then(() => (order.push('c'), c.release())); // takes the dead seat
    await flush();
    await until(() => (Atomics.load(w, SEAT + 1) & 7) === 2, 'b back in line, in another seat');
    a.release();
    await within(Promise.all([bDone, cDone]), 10_000, 'both threads');
    expect(order).to.deep.equal(['c', 'b']);
    expectClean(a);
  });

  it('SharedLock: a waiter giving up just as the lock is handed to its thread passes the lock on to the next thread', async () => {
    const [a, b, c] = threads();
    await a.acquire();
    const ac = new AbortController();
    const bGot = track(b.acquire({ signal: ac.signal }));
    await flush();
    const cGot = track(c.acquire());
    await flush();
    a.release(); // grants b's seat and wakes b
    ac.abort(new Error('gave up')); // before b looked
    await until(() => cGot.value === true && bGot.state === 'rejected', 'c getting the lock');
    expect((bGot.reason as Error).message).to.equal('gave up');
    c.release();
    expectClean(a);
  });

  it('SharedLock.release() from a thread taken for gone, whose seat another thread took before it looked, hands the lock to that thread', async () => {
    const [a, b, c] = threads();
    const w = wordsOf(a);
    const order: string[] = [];
    await a.acquire();
    const bDone = b.acquire().then(() => (order.push('b'), b.release()));
    await flush();
    Atomics.notify(w, SEAT); // a stray wake-up: b is between two waits
    a.release(); // finds no engine waiter on b's seat: takes b for gone, and lets go
    expect(a.acquireSync(0)).to.equal(true);
    const cDone = c.acquire().then(() => (order.push('c'), c.release())); // takes the dead seat
    expect(Atomics.load(w, SEAT) & 7).to.equal(2);
    b.release(); // any thread may release: b's, before it looked at its seat
    await within(Promise.all([bDone, cDone]), 10_000, 'both threads');
    expect(order).to.deep.equal(['c', 'b']);
    expectClean(a);
  });

  for (const then of [
    'holds on',
    'lets go for its count',
    'lets go as it uncounts',
    'lets go, and a third thread takes the seat',
  ] as const) {
    it(`SharedLock: a thread taken for gone (a thread with no seat saw its seat RESERVED for 1 s) as it publishes, counted, while the holder ${then}, loses nothing and gets the lock in turn`, async () => {
      const [a, b, c] = threads();
      const w = wordsOf(a);
      const order: string[] = [];
      let cDone: Promise<unknown> | undefined;
      await a.acquire();
      const raced = at(
        'add',
        (array, index) => publishing(a, array, index),
        (real) => {
          const v = Atomics.load(w, SEAT);
          Atomics.compareExchange(w, SEAT, v, (v & ~7) | 5); // as a thread with no seat, after 1 s
          if (then === 'lets go as it uncounts') {
            at(
              'compareExchange',
              (array, index, expected, replacement) =>
                on(a, array, index, 0) && expected === (LOCKED | ONE) && replacement === LOCKED,
              (uncount) => {
                a.release(); // b is counted, not published: a lets go for it
                return uncount();
              },
            );
          } else if (then !== 'holds on') a.release(); // b is counted, not published: a lets go for it
          if (then === 'lets go, and a third thread takes the seat') {
            expect(c.acquireSync(0)).to.equal(true);
            cDone = c.acquire().then(() => (order.push('c'), c.release())); // sits on the dead seat
            expect(Atomics.load(w, SEAT) & 7).to.equal(2);
          }
          return real();
        },
      );
      const bDone = b.acquire().then(() => (order.push('b'), b.release()));
      await flush();
      expect(raced.fired).to.equal(true);
      // In line: b again, at the back (holds on); nobody, b holding the lock (lets go); c then b (a third).
      const took = then === 'lets go for its count' || then === 'lets go as it uncounts';
      expect(Atomics.load(w, 0) >>> 1).to.equal(then === 'holds on' ? 1 : took ? 0 : 2);
      if (took)
        expect(order).to.deep.equal(['b']); // it took the free lock
      else if (then === 'holds on') a.release();
      else c.release();
      await within(Promise.all([bDone, cDone]), 10_000, 'every thread');
      expect(order).to.deep.equal(then === 'lets go, and a third thread takes the seat' ? ['c', 'b'] : ['b']);
      expectClean(a);
    });
  }

  it('SharedLock.release() from the holder frees a seat it sees left GRANTED by a thread terminated after it was woken, and hands the lock on', async () => {
    const [a, b] = threads();
    const w = wordsOf(a);
    w[0] = LOCKED; // held on behalf of the terminated thread, then by a
    w[1] = 8;
    w[SEAT] = 8 | 4; // granted to a thread terminated before it claimed
    const p = track(b.acquire());
    await flush();
    expect(Atomics.load(w, SEAT + 1) & 7).to.equal(2); // b in line, behind the dead seat
    a.release();
    expect(Atomics.load(w, SEAT)).to.equal(8 | 5); // DEAD: free for anyone
    await until(() => p.value === true, 'b getting the lock');
    b.release();
    w[SEAT] = 0;
    expectClean(a);
  });

  describe('with a fake clock', () => {
    let clock: ReturnType<typeof fakeClock>;
    withFakeClock((c) => (clock = c));

    it('SharedLock.acquire(ms) handed the lock by another thread before its deadline, the wake-up not delivered yet when the deadline is seen, resolves true', async () => {
      const [a, b] = threads();
      await a.acquire();
      const p = track(b.acquire(50));
      await flush();
      a.release(); // another thread: grants b's seat and wakes its engine waiter (a job for later)
      clock.tick(60); // b's thread was busy: its timer runs first
      await flush();
      expect(p.value).to.equal(true);
      expect(b.locked()).to.equal(true);
      b.release();
      expectClean(a);
    });
  });

  describe('acquireSync', () => {
    it('SharedLock.acquireSync() takes the lock released by its holder just as this thread sits down', () => {
      const [a, d] = threads();
      const w = wordsOf(a);
      w[0] = LOCKED; // held by another thread
      const released = at(
        'compareExchange',
        (array, index, expected, replacement) =>
          on(a, array, index, SEAT) && expected === 0 && (replacement! & 7) === 1,
        (real) => {
          const seen = real();
          Atomics.store(w, 0, 0); // the holder releases, nobody in line
          return seen;
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(released.fired).to.equal(true);
      expect(Atomics.load(w, 0)).to.equal(LOCKED);
      d.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() woken by the grant of another thread takes the lock', () => {
      const [a, d] = threads();
      const w = wordsOf(a);
      w[0] = LOCKED;
      const granted = at(
        'wait',
        (array, index) => on(a, array, index, SEAT),
        () => {
          // Another thread releases: grants this thread's seat, uncounts it and wakes it.
          Atomics.store(w, SEAT, (Atomics.load(w, SEAT) & ~7) | 4);
          Atomics.sub(w, 0, ONE);
          return 'ok';
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(granted.fired).to.equal(true);
      expect(Atomics.load(w, 0)).to.equal(LOCKED);
      d.release();
      expectClean(a);
    });

    it('SharedLock.release() that finds nobody waiting on the seat it granted, as that thread claims the grant in acquireSync(), leaves the lock with that thread', async () => {
      const [a, b] = threads();
      const w = wordsOf(a);
      await a.acquire();
      const p = track(b.acquire()); // b in line, its seat published, its engine waiter armed
      await flush();
      let claimed = false;
      // A stray wake-up: b re-arms; just before it does (no engine waiter on its seat), a releases, and
      // b's thread claims the grant in acquireSync() between a's notify (nobody woken) and a's look.
      const raced = at(
        'waitAsync',
        (array, index) => on(a, array, index, SEAT),
        (real) => {
          at(
            'notify',
            (array, index) => on(a, array, index, SEAT),
            (notify) => {
              const woken = notify();
              claimed = b.acquireSync(10_000);
              return woken;
            },
          );
          a.release();
          expect(Atomics.load(w, SEAT) & 7).to.not.equal(5); // not taken for gone
          return real();
        },
      );
      Atomics.notify(w, SEAT);
      await until(() => raced.fired, 'the race');
      expect(claimed).to.equal(true);
      expect(Atomics.load(w, 0) & LOCKED).to.equal(LOCKED); // b holds it
      b.release(); // to b's own waiter, next in line
      await until(() => p.state === 'fulfilled', "b's async waiter getting the lock");
      b.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() whose seat is granted and taken for gone as it publishes takes the freed lock, and the count stays exact', () => {
      const [a, d] = threads();
      const w = wordsOf(a);
      w[0] = LOCKED; // held by a
      // d (no engine waiter: blocking) publishes its seat; before it reads the lock word again, a releases:
      // grants d's seat, wakes nobody, takes the grant back as DEAD and lets go.
      const released = at(
        'compareExchange',
        (array, index, _, value) => on(a, array, index, SEAT) && (value! & 7) === 2,
        (real) => {
          const done = real();
          a.release();
          expect(Atomics.load(w, SEAT) & 7).to.equal(5);
          expect(Atomics.load(w, 0)).to.equal(0);
          return done;
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(released.fired).to.equal(true);
      expect(Atomics.load(w, 0)).to.equal(LOCKED); // held by d, nobody counted
      d.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() whose seat is taken for gone as it publishes, then used and left by other threads, sits again and takes the freed lock', () => {
      const [a, d, c] = threads();
      const x = new SharedLock(a.buffer);
      const w = wordsOf(a);
      w[0] = LOCKED; // held by a
      const raced = at(
        'compareExchange',
        (array, index, _, value) => on(a, array, index, SEAT) && (value! & 7) === 2,
        (real) => {
          const done = real();
          a.release(); // takes d's seat for gone and lets go
          expect(x.acquireSync(0)).to.equal(true);
          const ac = new AbortController();
          void c.acquire({ signal: ac.signal }).catch(() => {}); // c sits on the dead seat...
          expect(Atomics.load(w, SEAT) & 7).to.equal(2);
          ac.abort(); // ...and leaves it
          x.release();
          expect(Array.from(w.slice(0, 3))).to.deep.equal([0, Atomics.load(w, 1), 0]);
          return done;
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(raced.fired).to.equal(true);
      expect(Atomics.load(w, 0)).to.equal(LOCKED);
      d.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() taken for gone between two waits publishes again and gets the lock', async () => {
      const [a, d] = threads();
      const w = wordsOf(a);
      await a.acquire();
      const missed = at(
        'wait',
        (array, index) => on(a, array, index, SEAT),
        () => {
          a.release(); // finds no waiter on the seat: takes it for gone, lets go
          expect(Atomics.load(w, SEAT) & 7).to.equal(5);
          return 'timed-out';
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(missed.fired).to.equal(true);
      expect(Atomics.load(w, 0)).to.equal(LOCKED);
      d.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() that times out while its thread has async waiters leaves them in line', async () => {
      const [a, d] = threads();
      await a.acquire();
      const p = track(d.acquire());
      await flush();
      expect(d.acquireSync(1)).to.equal(false);
      a.release();
      await until(() => p.value === true, 'the async waiter getting the lock');
      d.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() that moves to a new seat and times out leaves the async waiters of its thread watching it: a grant there wakes them', async () => {
      const [holder, x, y] = threads();
      const w = wordsOf(holder);
      await holder.acquire();
      // Each of x and y passes the lock on once it has it.
      const xTurn = track(x.acquire().then(() => x.release())); // x in line on SEAT, its engine waiter armed
      await flush();
      // The grant to x's seat finds nobody (as if x's thread were gone): taken for gone, and y sits there.
      at(
        'notify',
        (array, index) => on(holder, array, index, SEAT),
        () => 0,
      );
      holder.release();
      noRaces();
      expect(Atomics.load(w, SEAT) & 7).to.equal(5);
      expect(holder.locked(), 'the grant taken back, the lock free').to.equal(false);
      await holder.acquire();
      const yTurn = track(y.acquire().then(() => y.release()));
      await flush();
      expect(x.acquireSync(5)).to.equal(false); // finds its seat taken, sits on another, times out
      holder.release(); // to the first of x and y in line
      await until(() => yTurn.state === 'fulfilled', 'y getting the lock');
      await until(() => xTurn.state === 'fulfilled', "x's async waiter getting the lock");
      expectClean(holder);
    });
  });

  describe('without Atomics.waitAsync (the polling fallback)', () => {
    let clock: ReturnType<typeof fakeClock>;
    withFakeClock((c) => (clock = c));
    beforeEach(() => delete (Atomics as { waitAsync?: unknown }).waitAsync);
    afterEach(() => (Atomics.waitAsync = realWaitAsync));

    it('SharedLock: a thread without Atomics.waitAsync polls its seat and gets the lock handed to it', async () => {
      const [a, d] = threads();
      await a.acquire();
      const p = track(d.acquire());
      expect(Atomics.load(wordsOf(a), SEAT) & 7).to.equal(3); // POLLING
      clock.tick(1);
      await flush();
      expect(p.state).to.equal('pending');
      a.release(); // to the polling seat
      clock.tick(2);
      await flush();
      expect(p.value).to.equal(true);
      expect(clock.countTimers()).to.equal(0);
      d.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() handed the lock on a thread without Atomics.waitAsync puts its async waiters back in line', async () => {
      const [a, d] = threads();
      await a.acquire();
      const p = track(d.acquire());
      at(
        'wait',
        (array, index) => on(a, array, index, SEAT),
        () => {
          a.release(); // hands the lock to the polling seat
          return 'ok';
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(Atomics.load(wordsOf(a), SEAT) & 7).to.equal(3); // in line again, for the async waiter
      d.release();
      await flush();
      expect(p.value).to.equal(true);
      expect(clock.countTimers()).to.equal(0);
      d.release();
      expectClean(a);
    });

    it('SharedLock: a thread served with more waiters queued polls for its next grant from 1 ms again, not at the 32 ms it had reached', async () => {
      const [a, d] = threads();
      await a.acquire();
      const first = track(d.acquire());
      const second = track(d.acquire());
      clock.tick(1 + 2 + 4 + 8 + 16 + 32); // six polls with nothing granted: it polls every 32 ms now
      await flush();
      a.release();
      clock.tick(32); // its next poll claims the grant, and it gets in line again for its second waiter
      await flush();
      expect(first.value).to.equal(true);
      const before = clock.now;
      clock.next();
      expect(clock.now - before, 'the first poll of the new wait').to.equal(1);
      d.release(); // to its own second waiter
      await flush();
      expect(second.value).to.equal(true);
      d.release();
      expectClean(a);
    });
  });

  describe('with every seat taken', () => {
    let clock: ReturnType<typeof fakeClock>;
    withFakeClock((c) => (clock = c));
    /** 32 threads, each between taking its seat and publishing it. */
    const fill = (lock: SharedLock) => {
      const w = wordsOf(lock);
      for (let i = 0; i < 32; i++) w[SEAT + i] = (8 * (i + 1)) | 1;
      return Array.from(w.slice(SEAT, SEAT + 32));
    };

    it('SharedLock.acquire() on a thread that finds every seat taken polls, and takes the lock when it comes free', async () => {
      const [a, d] = threads();
      await a.acquire();
      const seats = fill(a);
      const p = track(d.acquire());
      const q = track(d.acquire()); // the same thread: one poll for both
      expect(clock.countTimers()).to.equal(1);
      clock.tick(1);
      await flush();
      expect(p.state).to.equal('pending'); // still held: polls again later
      a.release();
      expect(a.locked()).to.equal(false);
      clock.tick(2);
      await flush();
      expect(p.value).to.equal(true);
      expect(Array.from(wordsOf(a).slice(SEAT, SEAT + 32))).to.deep.equal(seats); // took no seat
      expect(q.state).to.equal('pending');
      d.release();
      clock.tick(4);
      await flush();
      expect(q.value).to.equal(true);
      expect(clock.countTimers()).to.equal(0);
      d.release();
      expect(a.locked()).to.equal(false);
    });

    it('SharedLock: a seat left GRANTED by a thread terminated after it was woken is freed by a thread that finds every seat taken and takes the lock free; the next thread in line sits there', async () => {
      const [a, d, e] = threads();
      const w = wordsOf(a);
      await a.acquire();
      fill(a);
      w[SEAT] = 8 | 4; // granted to a thread terminated before it claimed; `a` releases on its behalf
      const p = track(d.acquire()); // no seat: polls
      a.release();
      clock.tick(1);
      await flush();
      expect(p.value).to.equal(true);
      expect(w[SEAT]! & 7).to.equal(5); // DEAD: free for anyone
      const ac = new AbortController();
      const q = track(e.acquire({ signal: ac.signal }));
      expect(w[SEAT]! & 7).to.equal(2); // e in line on it, not polling
      expect(clock.countTimers()).to.equal(0);
      ac.abort();
      await flush();
      expect(q.state).to.equal('rejected');
      d.release();
      expect(a.locked()).to.equal(false);
    });

    it('SharedLock: seats left RESERVED by threads terminated partway through a lock operation are freed by a thread that finds every seat taken and sees them so for 1 s; all 32 can be taken again', async () => {
      const [a, d] = threads();
      const w = wordsOf(a);
      await a.acquire();
      const left = fill(a); // 32 threads terminated between taking a seat and publishing it
      const ac = new AbortController();
      const p = track(d.acquire({ signal: ac.signal })); // no seat: polls
      for (let ms = 0; ms < 990; ms += 32) {
        clock.tick(32);
        await flush();
      }
      expect(Array.from(w.slice(SEAT, SEAT + 32))).to.deep.equal(left); // not yet: a live thread may be that slow
      clock.tick(64);
      await flush();
      const seats = Array.from(w.slice(SEAT, SEAT + 32));
      expect(seats.filter((v) => (v & 7) === 2).length).to.equal(1); // d in line
      expect(seats.filter((v) => (v & 7) === 5).length).to.equal(31); // the others free (DEAD) for anyone
      expect(clock.countTimers()).to.equal(0); // d polls no more
      const others = Array.from({ length: 31 }, () => new SharedLock(a.buffer));
      const waits = others.map((l) => track(l.acquire({ signal: ac.signal })));
      expect(Array.from(w.slice(SEAT, SEAT + 32)).every((v) => (v & 7) === 2)).to.equal(true); // 32 in line
      expect(clock.countTimers()).to.equal(0);
      ac.abort();
      await flush();
      expect([p, ...waits].every((x) => x.state === 'rejected')).to.equal(true);
      a.release();
      expectClean(a);
    });

    it('SharedLock.acquireSync() with every seat taken that takes the lock free frees a seat left GRANTED by a terminated thread', () => {
      const [a, d] = threads();
      const w = wordsOf(a);
      w[0] = LOCKED; // held on behalf of the terminated thread
      fill(a);
      w[SEAT + 5] = (8 * 6) | 4;
      at(
        'wait',
        (array) => array.buffer !== a.buffer,
        () => {
          Atomics.store(w, 0, 0); // released on its behalf while this thread sleeps
          return 'timed-out';
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(w[SEAT + 5]).to.equal((8 * 6) | 5);
      d.release();
    });

    it('SharedLock.acquireSync() with every seat taken takes the lock when it comes free between its tries', () => {
      const [a, d] = threads();
      const w = wordsOf(a);
      w[0] = LOCKED; // held by another thread
      const seats = fill(a);
      expect(d.acquireSync(0)).to.equal(false);
      const slept = at(
        'wait',
        (array) => array.buffer !== a.buffer,
        () => {
          Atomics.store(w, 0, 0); // the holder releases while this thread sleeps
          return 'timed-out';
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(slept.fired).to.equal(true);
      expect(Atomics.load(w, 0)).to.equal(LOCKED);
      expect(Array.from(w.slice(SEAT, SEAT + 32))).to.deep.equal(seats);
      d.release();
      expect(a.locked()).to.equal(false);
    });
  });
});
