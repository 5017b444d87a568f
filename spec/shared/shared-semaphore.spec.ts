import { expect } from 'chai';
import * as sinon from 'sinon';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SharedLock, SharedSemaphore, TimeoutError } from '../../lib/index.js';
import { fakeClock, flush, recorder, track, waiterCount, withFakeClock } from '../helpers.js';
import { lockSuite } from '../lock-suite.js';
import { until, within } from '../workers/agents.js';
import {
  AHEAD,
  ENTRIES,
  INSIDE,
  MAIN_MINE,
  MAIN_SEAT,
  OVERTAKES,
  enter,
  leave,
  MOST,
  type SemaphoreAgent,
  semaphoreBytes,
  semaphoreLayout,
  startSemaphoreAgent,
} from '../workers/semaphore-layout.js';
import { at, noRaces, on } from './races.js';

// On one thread, a SharedSemaphore(1) keeps every promise of a lock (its queue: util.inspect's waiters).
lockSuite('SharedSemaphore(1)', () => {
  const lock = new SharedSemaphore(1);
  return { lock, waiters: () => waiterCount(lock), from: SharedSemaphore.from };
});

const realWaitAsync = Atomics.waitAsync;

/** The state word of a semaphore: bits 25..30 count the threads in line. */
const counted = (s: SharedSemaphore) => (Atomics.load(new Int32Array(s.buffer, s.byteOffset, 1), 0) >>> 25) & 63;

describe('SharedSemaphore: memory and arguments', () => {
  it('SharedSemaphore: a new semaphore allocates its own buffer of SharedSemaphore.BYTES bytes, with value permits', () => {
    const s = new SharedSemaphore(3);
    expect(SharedSemaphore.BYTES % 4).to.equal(0);
    expect(s.buffer.byteLength).to.equal(SharedSemaphore.BYTES);
    expect(s.byteOffset).to.equal(0);
    expect(s.value).to.equal(3);
    expect(new SharedSemaphore().value).to.equal(1);
    expect(new SharedSemaphore(0).locked()).to.equal(true);
    expect(new SharedSemaphore(33_554_431).value).to.equal(33_554_431);
    expect(String(s)).to.equal('[object SharedSemaphore]');
    expect(inspect(s)).to.equal('SharedSemaphore { value: 3, waiters: 0 }');
  });

  for (const [label, bad, type, message] of [
    ['a string', '3', TypeError, /^value must be a number, got string "3"/],
    ['NaN', NaN, RangeError, /^value must be a whole number, 0 or more, got NaN/],
    ['-1', -1, RangeError, /^value must be a whole number, 0 or more, got -1/],
    ['1.5', 1.5, RangeError, /^value must be a whole number, 0 or more, got 1.5/],
    ['Infinity', Infinity, RangeError, /^value must be a whole number, 0 or more, got Infinity/],
    ['2 ** 25', 2 ** 25, RangeError, /^value must be at most 33554431, got 33554432/],
  ] as const) {
    it(`new SharedSemaphore(${label}) throws a ${type.name} naming value and showing it`, () => {
      expect(() => new SharedSemaphore(bad as number)).to.throw(type, message);
    });
  }

  it('SharedSemaphore: refuses memory that holds another kind of primitive, in any thread (its kind word)', () => {
    const lock = new SharedLock();
    const words = new Int32Array(lock.buffer);
    const kind = words[SharedLock.BYTES / 4 - 1];
    const semaphoreOverLock = new SharedArrayBuffer(SharedSemaphore.BYTES);
    new Int32Array(semaphoreOverLock)[SharedSemaphore.BYTES / 4 - 1] = kind!; // a lock's kind word, as another thread left it
    expect(() => new SharedSemaphore(1, semaphoreOverLock)).to.throw(
      TypeError,
      /SharedSemaphore at byteOffset 0 would overlap a SharedLock/,
    );
    // A lock whose kind word would fall on a semaphore's, as another thread left it.
    const semaphore = new SharedSemaphore(2);
    const offset = SharedSemaphore.BYTES - SharedLock.BYTES;
    expect(() => new SharedLock(structuredClone(semaphore).buffer, offset)).to.throw(
      TypeError,
      new RegExp(`SharedLock at byteOffset ${offset}`),
    );
  });

  it('SharedSemaphore: refuses a buffer and byteOffset as SharedLock does, and words overlapping another primitive', () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES + 8);
    expect(() => new SharedSemaphore(1, new ArrayBuffer(8) as unknown as SharedArrayBuffer)).to.throw(
      TypeError,
      /SharedArrayBuffer/,
    );
    expect(() => new SharedSemaphore(1, buffer, 2)).to.throw(
      RangeError,
      /byteOffset must be a non-negative multiple of 4, got 2/,
    );
    expect(() => new SharedSemaphore(1, buffer, 12)).to.throw(
      RangeError,
      /byteOffset 12 leaves no room for a semaphore/,
    );
    const lock = new SharedLock(buffer, 0);
    expect(() => new SharedSemaphore(1, buffer, 8)).to.throw(
      TypeError,
      /SharedSemaphore at byteOffset 8 overlaps a SharedLock/,
    );
    void lock;
  });

  it('SharedSemaphore: a second object over the same memory joins it as it is: its value does not reset the permits', async () => {
    const buffer = new SharedArrayBuffer(2 * SharedSemaphore.BYTES);
    const a = new SharedSemaphore(3, buffer, SharedSemaphore.BYTES);
    expect(await a.acquire()).to.equal(true);
    expect(await a.acquire()).to.equal(true);
    const b = new SharedSemaphore(3, buffer, SharedSemaphore.BYTES);
    expect(b.value).to.equal(1);
    expect(new SharedSemaphore(10, buffer, SharedSemaphore.BYTES).value).to.equal(1);
    expect(b.tryAcquire()).to.equal(true);
    expect(a.value).to.equal(0);
    a.release(3);
    expect(b.value).to.equal(3);
    // A semaphore at 0 is a semaphore too: not fresh memory.
    expect(await b.acquire(0)).to.equal(true);
    expect(await b.acquire(0)).to.equal(true);
    expect(await b.acquire(0)).to.equal(true);
    expect(new SharedSemaphore(5, buffer, SharedSemaphore.BYTES).value).to.equal(0);
    // Fresh memory beside it takes its own value.
    expect(new SharedSemaphore(2, buffer, 0).value).to.equal(2);
    expect(() => new SharedSemaphore(-1, buffer, 0)).to.throw(RangeError, /^value /);
  });

  for (const [label, bad, type, message] of [
    ['a string', '2', TypeError, /^n must be a number, got string "2"/],
    ['0', 0, RangeError, /^n must be a whole number, 1 or more, got 0/],
    ['-1', -1, RangeError, /^n must be a whole number, 1 or more, got -1/],
    ['1.5', 1.5, RangeError, /^n must be a whole number, 1 or more, got 1.5/],
    ['NaN', NaN, RangeError, /^n must be a whole number, 1 or more, got NaN/],
  ] as const) {
    it(`SharedSemaphore.release(${label}) throws a ${type.name} naming n and changes nothing`, () => {
      const s = new SharedSemaphore(2);
      expect(() => s.release(bad as number)).to.throw(type, message);
      expect(s.value).to.equal(2);
    });
  }

  it('SharedSemaphore.release(n) that would make more than 33,554,431 permits free throws a RangeError and changes nothing', () => {
    const s = new SharedSemaphore(33_554_430);
    expect(() => s.release(2)).to.throw(
      RangeError,
      /^SharedSemaphore\.release\(2\) would make more than 33554431 permits free \(33554430 free now\)/,
    );
    expect(s.value).to.equal(33_554_430);
    s.release();
    expect(s.value).to.equal(33_554_431);
    expect(() => s.release()).to.throw(RangeError, /release\(1\)/);
  });
});

describe('SharedSemaphore: posted as it is (structured clone, from)', () => {
  it('SharedSemaphore: a structured clone keeps exactly buffer and byteOffset, the same memory', () => {
    const s = new SharedSemaphore(3);
    expect(Object.getOwnPropertyNames(s)).to.deep.equal(['buffer', 'byteOffset']);
    const clone = structuredClone(s) as unknown as Record<string, unknown>;
    expect(Object.keys(clone)).to.deep.equal(['buffer', 'byteOffset']);
    expect(new SharedSemaphore(0, clone.buffer as SharedArrayBuffer).value).to.equal(3);
  });

  it('SharedSemaphore.from(a clone) is the same semaphore, its permits as they are; from(an object of this thread) is that object', async () => {
    const buffer = new SharedArrayBuffer(2 * SharedSemaphore.BYTES);
    const s = new SharedSemaphore(3, buffer, SharedSemaphore.BYTES);
    await s.acquire();
    const again = SharedSemaphore.from(structuredClone(s));
    expect(again).not.to.equal(s);
    expect(again.byteOffset).to.equal(SharedSemaphore.BYTES);
    expect(again.value).to.equal(2);
    expect(again.tryAcquire()).to.equal(true);
    expect(s.value).to.equal(1);
    s.release(2);
    expect(again.value).to.equal(3);
    expect(SharedSemaphore.from(s)).to.equal(s);
    expect(SharedSemaphore.from({ buffer, byteOffset: SharedSemaphore.BYTES })).to.equal(s); // this thread's live one
  });

  it('SharedSemaphore.from() refuses what is not a semaphore with a TypeError naming what is wrong, and SharedLock.from() refuses a semaphore', () => {
    const lock = new SharedLock();
    expect(() => SharedSemaphore.from(structuredClone(lock))).to.throw(
      TypeError,
      /^SharedSemaphore\.from\(\): value is a SharedLock, not a SharedSemaphore/,
    );
    expect(() => SharedSemaphore.from(3)).to.throw(
      TypeError,
      /^SharedSemaphore\.from\(\): value must be a SharedSemaphore .* got 3/,
    );
    expect(() => SharedSemaphore.from({ buffer: new ArrayBuffer(4) })).to.throw(
      TypeError,
      /value\.buffer must be a SharedArrayBuffer/,
    );
    expect(() =>
      SharedSemaphore.from({ buffer: new SharedArrayBuffer(SharedSemaphore.BYTES), byteOffset: 0 }),
    ).to.throw(TypeError, /value is not a SharedSemaphore: its memory .* holds none/);
    expect(() => SharedLock.from(structuredClone(new SharedSemaphore()))).to.throw(
      TypeError,
      /^SharedLock\.from\(\): value is a SharedSemaphore, not a SharedLock/,
    );
  });
});

describe('SharedSemaphore: several objects over one semaphore (as several threads would be)', () => {
  it('SharedSemaphore: release(n) spreads its permits over the waiting threads, oldest first', async () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES);
    const [x, y, z] = [0, 1, 2].map(() => new SharedSemaphore(0, buffer)) as [
      SharedSemaphore,
      SharedSemaphore,
      SharedSemaphore,
    ];
    const { log, note } = recorder();
    note('y1', y.acquire());
    note('x1', x.acquire());
    note('y2', y.acquire());
    note('z1', z.acquire());
    x.release(2); // y's thread first, then x's
    await until(() => log.length === 2, 'two waiters served');
    expect(log).to.have.members(['y1:true', 'x1:true']); // x's own waiter is served without a wake-up
    log.sort();
    x.release(); // z was in line before y came back with its second waiter
    await until(() => log.length === 3, 'z served');
    expect(log).to.deep.equal(['x1:true', 'y1:true', 'z1:true']);
    x.release(2);
    await until(() => log.length === 4, 'y served again');
    expect(log).to.deep.equal(['x1:true', 'y1:true', 'z1:true', 'y2:true']);
    expect(x.value).to.equal(1);
  });
});

describe('SharedSemaphore on one thread', () => {
  let clock: ReturnType<typeof fakeClock>;
  withFakeClock((c) => (clock = c));

  it('SharedSemaphore.acquire() takes permits at once while there are any, then queues (value never below 0)', async () => {
    const s = new SharedSemaphore(3);
    const { log, note } = recorder();
    for (const label of ['a', 'b', 'c', 'd']) note(label, s.acquire());
    expect(s.value).to.equal(0);
    expect(s.locked()).to.equal(true);
    expect(waiterCount(s)).to.equal(1);
    await flush();
    expect(log).to.deep.equal(['a:true', 'b:true', 'c:true']);
    s.release();
    expect(s.value, 'the permit went to d').to.equal(0);
    await flush();
    expect(log).to.deep.equal(['a:true', 'b:true', 'c:true', 'd:true']);
    s.release(3);
    expect(s.value).to.equal(3);
    expect(s.locked()).to.equal(false);
    expect(counted(s)).to.equal(0);
  });

  it('SharedSemaphore.release(n) hands permits to up to n waiters in FIFO order; the rest become free', async () => {
    const s = new SharedSemaphore(2);
    await s.acquire();
    await s.acquire();
    const { log, note } = recorder();
    note('a', s.acquire());
    note('b', s.acquire(1000));
    note('c', s.acquire({ signal: new AbortController().signal }));
    s.release(2);
    expect(s.value).to.equal(0);
    await flush();
    expect(log).to.deep.equal(['a:true', 'b:true']);
    s.release(4);
    await flush();
    expect(log).to.deep.equal(['a:true', 'b:true', 'c:true']);
    expect(s.value).to.equal(3);
  });

  it('SharedSemaphore: a timed-out waiter never absorbs a permit: the next waiter, then the free count, gets it', async () => {
    const s = new SharedSemaphore(1);
    await s.acquire();
    const t = track(s.acquire(100));
    const next = track(s.acquire());
    clock.tick(100);
    await flush();
    expect(t.value).to.equal(false);
    s.release();
    await flush();
    expect(next.value).to.equal(true);
    s.release();
    expect(s.value).to.equal(1);
    await s.acquire();
    const alone = track(new SharedSemaphore(0, s.buffer).acquire(50)); // another thread, alone in line
    await flush();
    expect(counted(s)).to.equal(1);
    clock.tick(50);
    await flush();
    expect(alone.value).to.equal(false);
    expect(counted(s)).to.equal(0);
    s.release();
    expect(s.value).to.equal(1);
  });

  it('SharedSemaphore: a waiter aborted after a permit was handed to its thread passes it on; none is lost', async () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES);
    const holder = new SharedSemaphore(1, buffer);
    const other = new SharedSemaphore(1, buffer); // another thread
    await holder.acquire();
    const ac = new AbortController();
    const aborted = other.acquire({ signal: ac.signal });
    holder.release(); // granted to the other thread, not yet woken
    expect(holder.value).to.equal(0);
    ac.abort(new Error('stop'));
    expect(await aborted.catch((e: Error) => e.message)).to.equal('stop');
    expect(holder.value, 'passed on').to.equal(1);
    expect(counted(holder)).to.equal(0);
  });

  it('SharedSemaphore: a timed wait handed a permit before its deadline, its wake-up not delivered yet, resolves true', async () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES);
    const holder = new SharedSemaphore(1, buffer);
    const other = new SharedSemaphore(1, buffer);
    await holder.acquire();
    const p = track(other.acquire(100));
    holder.release();
    clock.tick(100); // the deadline runs before the engine's wake-up
    await flush();
    expect(p.value).to.equal(true);
    other.release();
    expect(holder.value).to.equal(1);
  });

  it('SharedSemaphore.runExclusive() and lock() give the permit back however fn ends, and reject with TimeoutError in time', async () => {
    const s = new SharedSemaphore(2);
    expect(await s.runExclusive(() => s.value)).to.equal(1);
    expect(await s.runExclusive(() => Promise.reject(new Error('boom'))).catch((e: Error) => e.message)).to.equal(
      'boom',
    );
    expect(s.value).to.equal(2);
    const a = await s.lock();
    const b = await s.lock(10);
    const late = s.lock(10).catch((e: unknown) => e);
    clock.tick(10);
    expect(await late).to.be.instanceOf(TimeoutError);
    a.release();
    b.release();
    b.release();
    expect(s.value).to.equal(2);
    const guard = s.tryLock();
    expect(guard).not.to.equal(undefined);
    expect(s.value).to.equal(1);
    guard!.release();
    expect(s.value).to.equal(2);
  });

  it('SharedSemaphore.acquireSync() takes a free permit on the main thread, and returns false at its timeout', () => {
    const s = new SharedSemaphore(1);
    expect(s.acquireSync()).to.equal(true);
    expect(s.acquireSync(0)).to.equal(false);
    clock.uninstall(); // acquireSync blocks on the engine's own clock
    expect(s.acquireSync(5)).to.equal(false);
    expect(counted(s)).to.equal(0);
    s.release();
    expect(s.acquireSync(5)).to.equal(true);
    expect(() => s.acquireSync('1' as unknown as number)).to.throw(TypeError, /timeout must be a number/);
    expect(() => s.acquireSync(NaN)).to.throw(RangeError, /NaN/);
  });
});

function crossThread(noWaitAsync: boolean): void {
  describe(`SharedSemaphore across threads${noWaitAsync ? ' (polling fallback)' : ''}`, () => {
    const workers = noWaitAsync ? 2 : 8;
    // A hand-off to a polling thread waits for its next poll (up to 32 ms), so the polling fallback
    // enters fewer times.
    const n = noWaitAsync ? 200 : 20_000;
    let buffer: SharedArrayBuffer;
    let agents: SemaphoreAgent[];
    let semaphore: SharedSemaphore;
    let data: Int32Array;
    before(async () => {
      if (noWaitAsync) delete (Atomics as { waitAsync?: unknown }).waitAsync;
      buffer = new SharedArrayBuffer(semaphoreBytes);
      semaphore = new SharedSemaphore(3, buffer, semaphoreLayout.semaphore);
      data = new Int32Array(buffer, semaphoreLayout.data);
      agents = await Promise.all(Array.from({ length: workers }, () => startSemaphoreAgent(buffer, { noWaitAsync })));
    });
    after(async () => {
      Atomics.waitAsync = realWaitAsync;
      await Promise.all(agents.map((a) => a.terminate()));
    });

    it(`SharedSemaphore(3): ${workers} workers and the main thread, ${n.toLocaleString('en')} entries each, never more than 3 inside, counts exact`, async function () {
      this.timeout(60_000);
      const runs = agents.map((a, i) => a.call({ op: 'count', n, tasks: 3, sync: i % 2 === 0 }));
      const main = (async () => {
        const task = async (k: number) => {
          for (let i = k; i < n; i += 2) {
            if (i % 4 === 0) {
              await semaphore.runExclusive(() => {
                enter(data);
                leave(data);
              });
              continue;
            }
            // A timed-out acquire holds nothing: take a permit the plain way for this entry.
            if (!(await semaphore.acquire(i % 4 === 1 ? 1 : undefined))) await semaphore.acquire();
            enter(data);
            if (i % 3 === 0) await null;
            leave(data);
            semaphore.release();
          }
        };
        await Promise.all([task(0), task(1)]);
      })();
      await within(Promise.all([...runs, main]), 55_000, 'the counting');
      expect(data[ENTRIES]).to.equal((workers + 1) * n);
      expect(data[MOST]).to.be.at.most(3);
      expect(data[MOST], 'more than one inside at once: permits, not a lock').to.be.at.least(2);
      expect(data[INSIDE]).to.equal(0);
      expect(semaphore.value).to.equal(3);
      expect(counted(semaphore)).to.equal(0);
    });

    it('SharedSemaphore: a release on the main thread wakes a waiter in a worker, and back', async () => {
      await semaphore.acquire();
      await semaphore.acquire();
      await semaphore.acquire();
      const p = agents[0]!.call({ op: 'acquire' });
      await until(() => counted(semaphore) === 1, 'the worker in line');
      semaphore.release();
      expect(await within(p, 5_000, 'worker acquire')).to.equal(true);
      expect(semaphore.value).to.equal(0);
      const mine = semaphore.acquire();
      await agents[0]!.call({ op: 'release' });
      expect(await within(mine, 5_000, 'main acquire')).to.equal(true);
      semaphore.release(3);
      expect(semaphore.value).to.equal(3);
    });

    it('SharedSemaphore.acquireSync() blocked without a timeout in a worker gets the permit the main thread releases', async () => {
      await semaphore.acquire();
      await semaphore.acquire();
      await semaphore.acquire();
      const p = agents[0]!.call({ op: 'acquireSync' });
      await until(() => counted(semaphore) === 1, 'the worker in line');
      semaphore.release();
      expect(await within(p, 5_000, 'worker acquireSync')).to.equal(true);
      await agents[0]!.call({ op: 'release', n: 3 });
      expect(semaphore.value).to.equal(3);
    });

    it('SharedSemaphore: timed-out and aborted waits in a worker hold nobody up and absorb no permit', async () => {
      await semaphore.acquire();
      await semaphore.acquire();
      await semaphore.acquire();
      expect(await agents[0]!.call({ op: 'acquire', timeout: 20 })).to.equal(false);
      expect(await agents[0]!.call({ op: 'acquire', abortAfter: 5 })).to.equal('rejected: aborted in worker');
      if (!noWaitAsync) expect(await agents[1]!.call({ op: 'acquireSync', timeout: 20 })).to.equal(false);
      expect(counted(semaphore)).to.equal(0);
      semaphore.release(3);
      expect(semaphore.value).to.equal(3);
      expect(await within(agents[1]!.call({ op: 'acquire', timeout: 5_000 }), 5_000, 'worker')).to.equal(true);
      expect(semaphore.value).to.equal(2);
      await agents[1]!.call({ op: 'release' });
      expect(semaphore.value).to.equal(3);
    });
  });
}

crossThread(false);
crossThread(true);

describe('SharedSemaphore: built again in another thread', () => {
  it('SharedSemaphore posted in a message: rebuilt with from() in a worker, the permits are shared both ways', async () => {
    const semaphore = new SharedSemaphore(2, new SharedArrayBuffer(semaphoreBytes), semaphoreLayout.semaphore);
    const agent = await startSemaphoreAgent(semaphore.buffer);
    try {
      await semaphore.acquire();
      expect(await agent.call({ op: 'adopt', semaphore })).to.equal(1);
      expect(await agent.call({ op: 'acquire', timeout: 0 })).to.equal(true);
      const waiting = agent.call({ op: 'acquire', timeout: 10_000 });
      await until(() => counted(semaphore) === 1, 'the worker in line');
      semaphore.release();
      expect(await within(waiting, 10_000, 'the worker')).to.equal(true);
      await agent.call({ op: 'release', n: 2 });
      expect(semaphore.value).to.equal(2);
    } finally {
      await agent.terminate();
    }
  });

  it('SharedSemaphore: a worker building new SharedSemaphore(3, buffer, offset) over a semaphore in use joins it, its permits as they are', async () => {
    const buffer = new SharedArrayBuffer(semaphoreBytes);
    const semaphore = new SharedSemaphore(3, buffer, semaphoreLayout.semaphore);
    await semaphore.acquire();
    await semaphore.acquire();
    const agent = await startSemaphoreAgent(buffer); // it builds one at start
    try {
      expect(await agent.call({ op: 'value' })).to.equal(1);
      expect(await agent.call({ op: 'build', value: 7 })).to.equal(1);
      expect(await agent.call({ op: 'acquire', timeout: 0 })).to.equal(true);
      expect(semaphore.value).to.equal(0);
      expect(await agent.call({ op: 'acquire', timeout: 0 })).to.equal(false);
      semaphore.release(2);
      await agent.call({ op: 'release' });
      expect(semaphore.value).to.equal(3);
    } finally {
      await agent.terminate();
    }
  });

  it('SharedSemaphore: a worker building first over fresh memory sets the value; the main thread then joins it', async () => {
    const buffer = new SharedArrayBuffer(semaphoreBytes);
    const agent = await startSemaphoreAgent(buffer); // new SharedSemaphore(3, ...) in the worker
    try {
      expect(new SharedSemaphore(10, buffer, semaphoreLayout.semaphore).value).to.equal(3);
    } finally {
      await agent.terminate();
    }
  });
});

describe('SharedSemaphore: faults', () => {
  it('SharedSemaphore: workers terminated while they wait (async or blocked in acquireSync) hold nobody up and absorb no permit', async () => {
    const buffer = new SharedArrayBuffer(semaphoreBytes);
    const semaphore = new SharedSemaphore(1, buffer, semaphoreLayout.semaphore);
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => startSemaphoreAgent(buffer)));
    try {
      await semaphore.acquire();
      void a!.call({ op: 'acquire' }).catch(() => {});
      void b!.call({ op: 'acquireSync' }).catch(() => {});
      await until(() => counted(semaphore) === 2, 'both workers in line');
      const live = c!.call({ op: 'acquire', timeout: 10_000 });
      await until(() => counted(semaphore) === 3, 'the live worker in line');
      await a!.terminate();
      await b!.terminate();
      semaphore.release(); // the two dead seats are skipped
      expect(await within(live, 10_000, 'the live waiter')).to.equal(true);
      await c!.call({ op: 'release' });
      expect(semaphore.value).to.equal(1);
      expect(counted(semaphore)).to.equal(0);
    } finally {
      await Promise.all([a, b, c].map((x) => x!.terminate()));
    }
  });

  it('SharedSemaphore: workers terminated at random moments while they wait hold nobody up; the others finish, and the line is empty after', async function () {
    this.timeout(180_000);
    const buffer = new SharedArrayBuffer(semaphoreBytes);
    // 6 permits: a doomed worker terminated in the instant it holds one keeps it (as with any semaphore);
    // each holds at most one, so at least 2 stay for the others.
    const semaphore = new SharedSemaphore(6, buffer, semaphoreLayout.semaphore);
    const data = new Int32Array(buffer, semaphoreLayout.data);
    const agents = await Promise.all(Array.from({ length: 8 }, () => startSemaphoreAgent(buffer)));
    try {
      const doomed = agents.slice(0, 4);
      const survivors = agents.slice(4);
      for (const a of doomed) void a.call({ op: 'churn' }).catch(() => {});
      const runs = survivors.map((a, i) => a.call({ op: 'count', n: 5_000, tasks: 3, sync: i % 2 === 0 }));
      for (const a of doomed) {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 40));
        await a.terminate();
      }
      // Slow on a loaded machine, but never stuck: fail only when no entry is made for 10 s, with the words.
      let finished = false;
      void Promise.all(runs).then(() => (finished = true));
      for (let seen = -1, still = 0; !finished; await new Promise((r) => setTimeout(r, 200))) {
        const entries = Atomics.load(data, ENTRIES);
        still = entries === seen ? still + 200 : 0;
        seen = entries;
        if (still >= 10_000) {
          const w = new Int32Array(buffer, semaphoreLayout.semaphore, SharedSemaphore.BYTES / 4);
          const seats = Array.from(w.slice(2, 34))
            .filter((v) => v !== 0)
            .map((v) => `${v >>> 3}:${v & 7}`);
          const states = await Promise.all(survivors.map((x) => x.call({ op: 'inspect' })));
          throw new Error(`stuck at ${entries} entries: state ${w[0]}, seats ${seats.join(' ')}; ${states.join(', ')}`);
        }
      }
      await Promise.all(runs);
      expect(data[INSIDE]).to.equal(0);
      expect(counted(semaphore), 'no terminated thread left counted in line').to.equal(0);
      // A doomed worker handed a permit in the instant before the engine dropped its waiters keeps it in
      // a GRANTED seat; one terminated holding a permit keeps it too. Each held at most one.
      const words = new Int32Array(buffer, semaphoreLayout.semaphore, SharedSemaphore.BYTES / 4);
      const granted = words.slice(2).filter((v) => (v & 7) === 4).length;
      expect(6 - semaphore.value, 'permits missing').to.be.at.least(granted);
      expect(6 - semaphore.value, 'permits missing').to.be.at.most(4);
      // Whatever is free goes round: the main thread takes every free permit.
      const free = semaphore.value;
      for (let i = 0; i < free; i++) expect(semaphore.tryAcquire()).to.equal(true);
      expect(semaphore.tryAcquire()).to.equal(false);
      semaphore.release(free);
    } finally {
      await Promise.all(agents.map((a) => a.terminate()));
    }
  });
});

describe('SharedSemaphore: fairness', () => {
  it('SharedSemaphore(3): while 7 workers hammer it, a waiter on an eighth thread is never overtaken, and others enter at most once each while it waits', async function () {
    this.timeout(30_000);
    const buffer = new SharedArrayBuffer(semaphoreBytes);
    const semaphore = new SharedSemaphore(3, buffer, semaphoreLayout.semaphore);
    const data = new Int32Array(buffer, semaphoreLayout.data);
    const words = new Int32Array(buffer, semaphoreLayout.semaphore, SharedSemaphore.BYTES / 4);
    const agents = await Promise.all(Array.from({ length: 7 }, () => startSemaphoreAgent(buffer)));
    try {
      const until = 1_000_000_000;
      const runs = agents.map((a) => a.call({ op: 'hammer', until }));
      await new Promise((r) => setTimeout(r, 50));
      let worst = 0;
      let rounds = 0;
      for (let round = 0; round < 200 && rounds < 50; round++) {
        const tickets = Atomics.load(words, 1);
        const taken = semaphore.acquire(); // in line when acquire() returns, unless it took one free
        const mine = Atomics.load(words, 1);
        // Our seat: the one published with the only ticket given during acquire() (else skip the round).
        const seat = mine - tickets === 8 ? words.indexOf((mine & ~7) | 2, 2) : -1;
        if (seat > 0) {
          Atomics.store(data, AHEAD, 0);
          Atomics.store(data, MAIN_MINE, (mine & ~7) | 2);
          Atomics.store(data, MAIN_SEAT, seat);
        }
        await taken;
        Atomics.store(data, MAIN_SEAT, 0);
        if (seat > 0) {
          rounds++;
          worst = Math.max(worst, Atomics.load(data, AHEAD));
        }
        semaphore.release();
        await new Promise((r) => setImmediate(r));
      }
      Atomics.store(data, ENTRIES, until);
      await within(Promise.all(runs), 10_000, 'the hammering workers');
      expect(rounds, 'rounds where the main thread waited in line').to.be.at.least(20);
      expect(data[OVERTAKES], 'entries of acquires begun after it was in line, before it').to.equal(0);
      // Served while it waited: at most one hand-off to each of the 7 other threads, and the entries of
      // up to 3 permits taken free just before it got in line.
      expect(worst).to.be.at.most(10);
    } finally {
      await Promise.all(agents.map((a) => a.terminate()));
    }
  });
});

describe('SharedSemaphore: races, another thread stepping in between two steps of this one', () => {
  afterEach(noRaces);

  /** Word index of the first seat of a semaphore at byteOffset 0. */
  const SEAT0 = 2;

  it('SharedSemaphore: a waiter aborted between the grant to its thread and the notify passes the permit on to the next thread', async () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES);
    const holder = new SharedSemaphore(1, buffer);
    const a = new SharedSemaphore(1, buffer);
    const b = new SharedSemaphore(1, buffer);
    await holder.acquire();
    const ac = new AbortController();
    const aborted = a.acquire({ signal: ac.signal }).catch((e: Error) => e.message);
    const next = track(b.acquire());
    await flush();
    // a sits at the first seat: abort its waiter just before the releaser notifies it.
    const rule = at(
      'notify',
      (array, index) => on(holder, array, index, SEAT0),
      (real) => {
        ac.abort(new Error('gave up'));
        return real();
      },
    );
    holder.release();
    expect(rule.fired).to.equal(true);
    expect(await aborted).to.equal('gave up');
    await until(() => next.state === 'fulfilled', 'the next thread getting the permit');
    expect(next.value).to.equal(true);
    expect(holder.value).to.equal(0);
    b.release();
    expect(holder.value).to.equal(1);
    expect(counted(holder)).to.equal(0);
  });

  it('SharedSemaphore: two releases crossing, one granting the seat of the other’s thread as it hands that seat its own permit, lose no permit', async () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES);
    const mine = new SharedSemaphore(2, buffer);
    const other = new SharedSemaphore(2, buffer); // another thread
    await mine.acquire();
    await other.acquire();
    const waiter = track(mine.acquire());
    await flush();
    // This thread's release finds its own seat the oldest; just after it read the seat, the other
    // thread's release grants that seat.
    const rule = at(
      'load',
      (array, index) => on(mine, array, index, SEAT0),
      (real) => {
        const seen = real();
        other.release();
        return seen;
      },
    );
    mine.release();
    expect(rule.fired).to.equal(true);
    await until(() => waiter.state === 'fulfilled', 'the waiter');
    expect(mine.value, 'one permit with the waiter, the other free').to.equal(1);
    mine.release();
    expect(mine.value).to.equal(2);
    expect(counted(mine)).to.equal(0);
  });

  it('SharedSemaphore: a permit released after a grant, before the granted thread runs, goes to that thread’s next waiter, never to a newcomer', async () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES);
    const holder = new SharedSemaphore(2, buffer);
    const a = new SharedSemaphore(2, buffer); // a thread with two waiters in line
    const b = new SharedSemaphore(2, buffer); // a newcomer on another thread
    await holder.acquire();
    await holder.acquire();
    const { log, note } = recorder();
    note('a1', a.acquire());
    note('a2', a.acquire());
    await flush();
    // The first release grants a's seat; just after its notify, before a's thread runs, a second permit
    // is released and b tries for one.
    let newcomer: boolean | undefined;
    const rule = at(
      'notify',
      (array, index) => on(holder, array, index, SEAT0),
      (real) => {
        const woken = real();
        holder.release();
        newcomer = b.tryAcquire();
        return woken;
      },
    );
    holder.release();
    expect(rule.fired).to.equal(true);
    expect(newcomer, 'a newcomer took a permit while a waiter of a was queued').to.equal(false);
    expect(holder.value).to.equal(0);
    const late = track(b.acquire()); // in line now, behind a
    await until(() => log.length === 2, 'both waiters of a');
    expect(log).to.deep.equal(['a1:true', 'a2:true']);
    expect(late.state).to.equal('pending');
    a.release();
    await until(() => late.state === 'fulfilled', 'b, in turn');
    a.release();
    b.release();
    expect(holder.value).to.equal(2);
    expect(counted(holder)).to.equal(0);
  });

  it('SharedSemaphore.release() finding a thread counted but not yet published lets the permit go, and that thread, publishing, takes it', async () => {
    const buffer = new SharedArrayBuffer(SharedSemaphore.BYTES);
    const holder = new SharedSemaphore(1, buffer);
    const late = new SharedSemaphore(1, buffer);
    await holder.acquire();
    // The other thread counts itself, then, before it publishes its seat, the holder releases.
    const rule = at(
      'store',
      (array, index) => on(late, array, index, SEAT0),
      (real) => {
        holder.release(); // finds it counted but no seat: lets the permit go
        expect(holder.value).to.equal(1);
        return real();
      },
    );
    const p = track(late.acquire());
    expect(rule.fired).to.equal(true);
    await until(() => p.state === 'fulfilled', 'the late thread');
    expect(p.value).to.equal(true);
    expect(holder.value).to.equal(0);
    expect(counted(holder)).to.equal(0);
    late.release();
    expect(holder.value).to.equal(1);
  });
});

describe('SharedSemaphore: the protocol, step by step (shared memory written as another thread would)', () => {
  afterEach(noRaces);
  const SEAT0 = 2;
  const STATE = 0;
  const MAX = 33_554_431;
  const ONE = 1 << 25;
  const wordsOf = (s: SharedSemaphore) => new Int32Array(s.buffer, s.byteOffset, SharedSemaphore.BYTES / 4);
  /** 32 threads, each between taking its seat and publishing it (uncounted): every seat taken. */
  const fill = (s: SharedSemaphore) => {
    const w = wordsOf(s);
    for (let i = 0; i < 32; i++) w[SEAT0 + i] = (8 * (i + 1)) | 1;
    return Array.from(w.slice(SEAT0, SEAT0 + 32));
  };

  describe('with every seat taken', () => {
    let clock: ReturnType<typeof fakeClock>;
    withFakeClock((c) => (clock = c));

    it('SharedSemaphore.acquire() on a thread that finds every seat taken polls, takes a permit when one comes free, and a timed-out waiter there leaves nothing behind', async () => {
      const a = new SharedSemaphore(1);
      const d = new SharedSemaphore(1, a.buffer); // another thread
      await a.acquire();
      const seats = fill(a);
      const p = track(d.acquire());
      const q = track(d.acquire()); // the same thread: one poll for both
      expect(clock.countTimers()).to.equal(1);
      clock.tick(1);
      await flush();
      expect(p.state).to.equal('pending');
      a.release(); // nobody counted: the permit is free, for the poll to take
      expect(a.value).to.equal(1);
      clock.tick(2);
      await flush();
      expect(p.value).to.equal(true);
      expect(Array.from(wordsOf(a).slice(SEAT0, SEAT0 + 32))).to.deep.equal(seats); // took no seat
      d.release();
      clock.tick(4);
      await flush();
      expect(q.value).to.equal(true);
      const late = track(d.acquire(10)); // no seat, and no permit: it times out, polling
      clock.tick(10);
      await flush();
      expect(late.value).to.equal(false);
      expect(clock.countTimers()).to.equal(0);
      d.release();
      expect(a.value).to.equal(1);
    });

    it('SharedSemaphore.acquireSync() with every seat taken tries for a permit after 1 ms, doubling to 32 ms, gives up at its timeout, and takes one that comes free between tries', () => {
      clock.uninstall(); // acquireSync sleeps on the engine's own clock
      const a = new SharedSemaphore(0);
      const d = new SharedSemaphore(0, a.buffer);
      fill(a);
      const sleeps = sinon.spy(Atomics, 'wait');
      try {
        expect(d.acquireSync(150)).to.equal(false);
      } finally {
        sleeps.restore();
      }
      const delays = sleeps.args.map((args) => args[3] as number).filter((ms) => ms > 0); // not mayBlock()'s probe
      expect(delays.slice(0, 7)).to.deep.equal([1, 2, 4, 8, 16, 32, 32]);
      // A permit released while it sleeps is taken at its next try.
      at(
        'wait',
        (array) => array.buffer !== a.buffer,
        (real) => {
          a.release();
          return real();
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(a.value).to.equal(0);
    });
  });

  it('SharedSemaphore.acquireSync() granted on a polling thread with an async waiter puts that waiter back in line, and it is served next', async () => {
    delete (Atomics as { waitAsync?: unknown }).waitAsync; // this thread polls: no engine waiter is armed
    try {
      const a = new SharedSemaphore(0);
      const d = new SharedSemaphore(0, a.buffer); // another thread
      const pending = track(d.acquire());
      await flush();
      const race = at(
        'wait',
        (array) => array.buffer === a.buffer,
        (real) => {
          a.release(); // granted to d's published seat as it blocks
          return real();
        },
      );
      expect(d.acquireSync(10_000)).to.equal(true);
      expect(race.fired).to.equal(true);
      expect(pending.state).to.equal('pending');
      a.release(); // the async waiter, back in line, is granted this one
      await until(() => pending.state === 'fulfilled', 'the async waiter served');
      expect(pending.value).to.equal(true);
      d.release();
      d.release();
      expect(a.value).to.equal(2);
    } finally {
      Atomics.waitAsync = realWaitAsync;
    }
  });

  it('SharedSemaphore.tryAcquire() that loses its compare-exchange to another thread tries again with what it saw', () => {
    const a = new SharedSemaphore(2);
    const d = new SharedSemaphore(2, a.buffer); // another thread
    const race = at(
      'compareExchange',
      (array, index) => array.buffer === a.buffer && index === STATE,
      (real) => {
        expect(a.tryAcquire()).to.equal(true); // lands between the load and the compare-exchange
        return real();
      },
    );
    expect(d.tryAcquire()).to.equal(true);
    expect(race.fired).to.equal(true);
    expect(a.value).to.equal(0);
    expect(d.tryAcquire()).to.equal(false);
  });

  it("SharedSemaphore.release() that loses its compare-exchange to another thread's release tries again: both permits count", () => {
    const a = new SharedSemaphore(0);
    const d = new SharedSemaphore(0, a.buffer); // another thread
    const race = at(
      'compareExchange',
      (array, index) => array.buffer === a.buffer && index === STATE,
      (real) => {
        a.release(); // lands between the load and the compare-exchange
        return real();
      },
    );
    d.release();
    expect(race.fired).to.equal(true);
    expect(a.value).to.equal(2);
  });

  it('SharedSemaphore.acquireSync() takes a permit released as it took its seat, without publishing, and leaves the seat', () => {
    const a = new SharedSemaphore(1);
    const d = new SharedSemaphore(1, a.buffer); // another thread
    expect(a.tryAcquire()).to.equal(true);
    const race = at(
      'compareExchange',
      (array, index) => array.buffer === a.buffer && index >= SEAT0 && index < SEAT0 + 32,
      (real) => {
        const took = real();
        a.release(); // lands between the seat taken and the publish
        return took;
      },
    );
    expect(d.acquireSync(1000)).to.equal(true);
    expect(race.fired).to.equal(true);
    expect(a.value).to.equal(0);
    expect(Array.from(wordsOf(a).slice(SEAT0, SEAT0 + 32)).every((v) => (v & 7) === 0)).to.equal(true);
    d.release();
  });

  it('SharedSemaphore.acquire() whose engine waiter finds its seat moved as it registers looks again, and is served in turn', async () => {
    const a = new SharedSemaphore(1);
    const d = new SharedSemaphore(1, a.buffer); // another thread
    await a.acquire();
    const race = at(
      'waitAsync',
      (array) => array.buffer === a.buffer,
      () => ({ async: false, value: 'not-equal' }),
    );
    const p = track(d.acquire());
    await flush();
    expect(race.fired).to.equal(true);
    expect(p.state).to.equal('pending');
    a.release();
    await until(() => p.state === 'fulfilled', 'served');
    expect(p.value).to.equal(true);
    d.release();
    expect(a.value).to.equal(1);
  });

  it('SharedSemaphore.release(2) finding a thread counted but not yet published lets both permits go, one at a time; that thread takes one', async () => {
    const holder = new SharedSemaphore(2);
    const late = new SharedSemaphore(2, holder.buffer);
    await holder.acquire();
    await holder.acquire();
    const rule = at(
      'store',
      (array, index) => on(late, array, index, SEAT0),
      (real) => {
        holder.release(2);
        expect(holder.value).to.equal(2);
        return real();
      },
    );
    const p = track(late.acquire());
    expect(rule.fired).to.equal(true);
    await flush();
    expect(p.value).to.equal(true);
    expect(holder.value).to.equal(1);
    expect(counted(holder)).to.equal(0);
    late.release();
  });

  it('SharedSemaphore: a thread that publishes as one release lets a permit go and another grants its seat holds the granted permit; the other stays free', async () => {
    const holder = new SharedSemaphore(2);
    const other = new SharedSemaphore(2, holder.buffer);
    const late = new SharedSemaphore(2, holder.buffer);
    await holder.acquire();
    await other.acquire();
    at(
      'store',
      (array, index) => on(late, array, index, SEAT0),
      (real) => {
        holder.release(); // late counted, its seat not published: the permit goes free
        const stored = real();
        // Before late reads the state word again, another release finds its seat and grants it.
        at(
          'load',
          (array, index) => on(late, array, index, STATE),
          (load) => {
            other.release();
            return load();
          },
        );
        return stored;
      },
    );
    const p = track(late.acquire());
    await until(() => p.state === 'fulfilled', 'the late thread');
    expect(p.value).to.equal(true);
    expect(holder.value).to.equal(1);
    expect(counted(holder)).to.equal(0);
    late.release();
    expect(holder.value).to.equal(2);
  });

  it('SharedSemaphore.acquireSync() on a thread with an async waiter in line takes the permit granted to its seat, and the async waiter stays in line', async () => {
    const holder = new SharedSemaphore(1);
    const x = new SharedSemaphore(1, holder.buffer);
    await holder.acquire();
    const asyncWaiter = track(x.acquire());
    await flush();
    at(
      'wait',
      (array, index) => on(x, array, index, SEAT0),
      (real) => {
        holder.release(); // grants x's seat, and notifies its engine waiter
        return real();
      },
    );
    expect(x.acquireSync(10_000)).to.equal(true);
    expect(asyncWaiter.state).to.equal('pending');
    // Back in line at once, before its thread's event loop runs: a permit released now is its, not a
    // newcomer's.
    expect(counted(holder), 'the async waiter back in line').to.equal(1);
    const b = new SharedSemaphore(1, holder.buffer);
    holder.release();
    expect(b.tryAcquire()).to.equal(false);
    await until(() => asyncWaiter.state === 'fulfilled', 'the async waiter');
    x.release();
    x.release();
    expect(holder.value, 'the permit and the one the second release added').to.equal(2);
  });

  it('SharedSemaphore.release() whose count would pass 33,554,431 free permits only because a release of another thread crossed it throws a RangeError', () => {
    const a = new SharedSemaphore(MAX - 1);
    const b = new SharedSemaphore(0, a.buffer);
    at(
      'load',
      (array, index) => on(a, array, index, STATE + 1),
      (real) => {
        b.release(); // now MAX free
        return real();
      },
    );
    expect(() => a.release()).to.throw(RangeError, /would make more than 33554431 permits free \(33554431 free now\)/);
    expect(a.value).to.equal(MAX);
    // The same as it lets a permit go for a thread counted but not yet published.
    const w = wordsOf(a);
    at(
      'load',
      (array, index) => on(a, array, index, STATE + 1),
      (real) => {
        Atomics.store(w, STATE, MAX | ONE); // one thread counted, its seat not published
        return real();
      },
    );
    Atomics.store(w, STATE, MAX - 1);
    expect(() => a.release()).to.throw(RangeError, /release\(1\) would make more than 33554431 permits free/);
    Atomics.store(w, STATE, 0);
  });
});

describe('SharedSemaphore: a granted thread not running yet, and the permits released meanwhile (no barging)', () => {
  afterEach(noRaces);
  const SEAT0 = 2;
  /** The grants word of the first seat: bits 0..14 the need, bits 16..31 the extra permits. */
  const GRANTS0 = SEAT0 + 32;
  const ONE = 1 << 25;
  const [RESERVED, WAITING, GRANTED, SERVED] = [1, 2, 4, 7];
  const wordsOf = (s: SharedSemaphore) => new Int32Array(s.buffer, s.byteOffset, SharedSemaphore.BYTES / 4);

  it('SharedSemaphore: a waiter joining its thread after that thread was served, before it runs, takes the permit freed meanwhile, not a newcomer', async () => {
    const holder = new SharedSemaphore(2);
    const a = new SharedSemaphore(2, holder.buffer);
    const b = new SharedSemaphore(2, holder.buffer);
    await holder.acquire();
    await holder.acquire();
    const { log, note } = recorder();
    note('a1', a.acquire());
    await flush();
    holder.release(); // to a's only waiter: a served, uncounted
    expect(counted(holder)).to.equal(0);
    holder.release(); // nobody else waits: free
    expect(holder.value).to.equal(1);
    note('a2', a.acquire()); // a's thread has not run yet: its new waiter is in line, and takes the free permit
    expect(holder.value).to.equal(0);
    expect(b.tryAcquire()).to.equal(false);
    await until(() => log.length === 2, 'both waiters of a');
    expect(log).to.deep.equal(['a1:true', 'a2:true']);
    expect(counted(holder)).to.equal(0);
    a.release(2);
    expect(holder.value).to.equal(2);
  });

  it('SharedSemaphore: a waiter joining its thread as a release serves that thread counts it again, so the next permit is its', async () => {
    const holder = new SharedSemaphore(2);
    const a = new SharedSemaphore(2, holder.buffer);
    const b = new SharedSemaphore(2, holder.buffer);
    await holder.acquire();
    await holder.acquire();
    const { log, note } = recorder();
    note('a1', a.acquire());
    await flush();
    // The release finds no need and marks a's seat served; just before, a's next waiter arrives (it finds
    // the seat granted, not served yet): the release, looking at the need again, counts a again.
    const rule = at(
      'compareExchange',
      (array, index, _expected, replacement) => on(holder, array, index, SEAT0) && (replacement! & 7) === SERVED,
      (real) => {
        note('a2', a.acquire());
        return real();
      },
    );
    holder.release();
    expect(rule.fired).to.equal(true);
    expect(counted(holder)).to.equal(1);
    expect(wordsOf(holder)[SEAT0]! & 7).to.equal(GRANTED);
    holder.release(); // an extra permit for a's seat
    expect(b.tryAcquire()).to.equal(false);
    await until(() => log.length === 2, 'both waiters of a');
    expect(log).to.deep.equal(['a1:true', 'a2:true']);
    expect(counted(holder)).to.equal(0);
    a.release(2);
    expect(holder.value).to.equal(2);
  });

  it('SharedSemaphore: a release serving a thread and a waiter joining it cross: the seat is counted again once, by whichever comes first', async () => {
    const holder = new SharedSemaphore(1);
    const a = new SharedSemaphore(1, holder.buffer);
    const b = new SharedSemaphore(1, holder.buffer);
    const words = wordsOf(holder);
    await holder.acquire();
    const { log, note } = recorder();
    note('a1', a.acquire());
    await flush();
    // The release served a's seat (no need: uncounted) and is about to read the need again; a's next
    // waiter arrives then, and as it counts the seat again, the release (written as it would write)
    // does the same first. Then the release reads the need and finds the seat counted already.
    let loads = 0;
    const race = at(
      'load',
      (array, index) => on(holder, array, index, GRANTS0) && ++loads === 2,
      (real) => {
        expect(words[SEAT0]! & 7).to.equal(SERVED);
        at(
          'compareExchange',
          (array, index, expected) => on(holder, array, index, SEAT0) && (expected! & 7) === SERVED,
          (cas) => {
            Atomics.add(words, 0, ONE);
            Atomics.store(words, SEAT0, (words[SEAT0]! & ~7) | GRANTED);
            return cas();
          },
        );
        note('a2', a.acquire());
        return real();
      },
    );
    holder.release();
    expect(race.fired).to.equal(true);
    expect(counted(holder), 'counted once').to.equal(1);
    expect(words[SEAT0]! & 7).to.equal(GRANTED);
    noRaces();
    b.release(); // the next permit: an extra for a's second waiter
    expect(b.tryAcquire()).to.equal(false);
    await until(() => log.length === 2, 'both waiters of a');
    expect(log).to.deep.equal(['a1:true', 'a2:true']);
    expect(counted(holder)).to.equal(0);
    a.release(2);
    expect(holder.value).to.equal(2);
  });

  it('SharedSemaphore: an extra permit whose seat another release filled first goes free (nobody else waits)', async () => {
    const holder = new SharedSemaphore(3);
    const other = new SharedSemaphore(3, holder.buffer);
    const a = new SharedSemaphore(3, holder.buffer);
    await holder.acquire();
    await holder.acquire();
    await other.acquire();
    const { log, note } = recorder();
    note('a1', a.acquire());
    note('a2', a.acquire());
    await flush();
    holder.release(); // granted to a's seat, which needs one more
    // This release sees the need; before it hands its permit, the other thread's release does.
    let loads = 0;
    at(
      'load',
      (array, index) => on(holder, array, index, GRANTS0) && ++loads === 2,
      (real) => {
        other.release();
        return real();
      },
    );
    holder.release();
    expect(holder.value).to.equal(1);
    await until(() => log.length === 2, 'both waiters of a');
    expect(log).to.deep.equal(['a1:true', 'a2:true']);
    expect(counted(holder)).to.equal(0);
    a.release(2);
    expect(holder.value).to.equal(3);
  });

  it('SharedSemaphore: permits handed to a thread whose waiter gave up before it ran are passed on, never absorbed', async () => {
    const holder = new SharedSemaphore(2);
    const a = new SharedSemaphore(2, holder.buffer);
    await holder.acquire();
    await holder.acquire();
    const ac = new AbortController();
    const first = track(a.acquire());
    const second = a.acquire({ signal: ac.signal }).catch((e: Error) => e.message);
    await flush();
    holder.release(); // the grant
    holder.release(); // and an extra, for the second waiter
    ac.abort(new Error('gave up'));
    expect(await second).to.equal('gave up');
    await until(() => first.state === 'fulfilled', 'the first waiter');
    expect(holder.value, 'the extra permit passed on: free').to.equal(1);
    expect(counted(holder)).to.equal(0);
    a.release();
    expect(holder.value).to.equal(2);
  });

  it('SharedSemaphore: a thread with more waiters whose grant finds nobody is taken for gone, uncounted, the permit freed; live, it takes its seat back and is served', async () => {
    const holder = new SharedSemaphore(1);
    const a = new SharedSemaphore(1, holder.buffer);
    await holder.acquire();
    const { log, note } = recorder();
    note('a1', a.acquire());
    note('a2', a.acquire());
    await flush();
    expect(counted(holder)).to.equal(1);
    // The grant's notify wakes nobody, as if a's thread were gone.
    at(
      'notify',
      (array, index) => on(holder, array, index, SEAT0),
      () => 0,
    );
    holder.release();
    noRaces();
    expect(holder.value, 'the grant taken back, the permit free').to.equal(1);
    expect(counted(holder)).to.equal(0);
    expect(wordsOf(holder)[SEAT0]! & 7).to.equal(5); // DEAD
    // a's thread was alive all along: woken now, it finds its seat taken for gone, takes it back and
    // gets in line again, taking the free permit.
    Atomics.notify(wordsOf(holder), SEAT0);
    await until(() => log.length === 1, "a's first waiter");
    expect(log).to.deep.equal(['a1:true']);
    a.release();
    await until(() => log.length === 2, "a's second waiter");
    a.release();
    expect(holder.value).to.equal(1);
    expect(counted(holder)).to.equal(0);
  });

  describe('the protocol, step by step (a thread written as another thread would write it)', () => {
    /** A semaphore with no permit and one thread counted, its seat 0 showing `seat` and its grants word `grants`. */
    const granted = (seat: number, grants: number) => {
      const r = new SharedSemaphore(0);
      const w = wordsOf(r);
      w[0] = ONE;
      w[1] = seat & ~7; // the last ticket given
      w[SEAT0] = seat;
      w[GRANTS0] = grants;
      return { r, w };
    };

    it('SharedSemaphore.release() finding no waiting seat but a granted one in need hands it an extra permit', () => {
      const { r, w } = granted(8 | GRANTED, 1);
      r.release();
      expect(w[GRANTS0]).to.equal(0x10000); // one extra, no need left
      expect(w[0]).to.equal(ONE);
      r.release(); // no need left: free
      expect(r.value).to.equal(1);
    });

    it('SharedSemaphore.release() whose extra permit lands as the thread claims takes nothing back: the thread has it', () => {
      const { r, w } = granted(8 | GRANTED, 1);
      let claimed = -1;
      let loads = 0;
      at(
        'load',
        (array, index) => on(r, array, index, SEAT0) && ++loads === 2, // the look after the permit landed
        (real) => {
          Atomics.store(w, SEAT0, 8 | RESERVED); // the thread claims: its grant, and the extras with it
          claimed = Atomics.exchange(w, GRANTS0, 0) >>> 16;
          return real();
        },
      );
      r.release();
      expect(claimed).to.equal(1);
      expect(w[GRANTS0]).to.equal(0);
      expect(r.value).to.equal(0);
    });

    it('SharedSemaphore.release() whose seat was claimed and published again before its extra permit landed takes it back and grants it there', async () => {
      const { r, w } = granted(8 | GRANTED, 1);
      let loads = 0;
      let woken: Promise<unknown> | undefined;
      at(
        'load',
        (array, index) => on(r, array, index, GRANTS0) && ++loads === 2, // just before the permit lands
        (real) => {
          // The thread claims, keeps one waiter in need and publishes again, its engine waiter armed.
          Atomics.store(w, SEAT0, 8 | RESERVED);
          Atomics.store(w, GRANTS0, 1);
          Atomics.store(w, 1, 16);
          Atomics.store(w, SEAT0, 16 | WAITING);
          woken = Atomics.waitAsync(w, SEAT0, 16 | WAITING).value as Promise<unknown>;
          // And, as the release takes its permit back, one more waiter of that thread asks.
          at(
            'compareExchange',
            (array2, index2, expected) => on(r, array2, index2, GRANTS0) && expected! >>> 16 !== 0,
            (cas) => {
              Atomics.add(w, GRANTS0, 1);
              return cas();
            },
          );
          return real();
        },
      );
      r.release();
      expect(w[SEAT0]).to.equal(16 | GRANTED); // granted at its new place, counted: it has need
      expect(w[GRANTS0]).to.equal(2);
      expect(w[0]).to.equal(ONE);
      expect(await woken).to.equal('ok');
    });

    for (const [label, seat, grants, after] of [
      ['published', 8 | WAITING, 0, 8 | SERVED],
      ['granted with need', 8 | GRANTED, 1, 8 | GRANTED],
    ] as const) {
      it(`SharedSemaphore.release() that let a permit go for a thread counted but not yet published takes it back for a seat ${label} meanwhile`, async () => {
        const r = new SharedSemaphore(0);
        const w = wordsOf(r);
        w[0] = ONE; // counted, nothing published
        let tickets = 0;
        let woken: Promise<unknown> | undefined;
        at(
          'load',
          (array, index) => on(r, array, index, 1) && ++tickets === 2, // the look after letting it go
          (real) => {
            Atomics.store(w, GRANTS0, grants);
            Atomics.store(w, 1, 8);
            Atomics.store(w, SEAT0, seat);
            woken = Atomics.waitAsync(w, SEAT0, seat).value as Promise<unknown>;
            return real();
          },
        );
        r.release();
        expect(r.value).to.equal(0);
        expect(w[SEAT0]).to.equal(after);
        if (seat === (8 | WAITING)) {
          expect(w[0], 'served: uncounted').to.equal(0);
          expect(await woken).to.equal('ok');
        } else {
          expect(w[GRANTS0], 'an extra permit').to.equal(0x10000);
          expect(w[0]).to.equal(ONE);
          Atomics.notify(w, SEAT0);
          await woken;
        }
      });
    }
  });
});

describe('SharedSemaphore: Node worker lifetime', () => {
  it('SharedSemaphore: a worker with a pending acquire() stays alive until it gets a permit, then exits by itself', async () => {
    const semaphore = new SharedSemaphore(1);
    await semaphore.acquire();
    const worker = new Worker(new URL('../workers/boot.mjs', import.meta.url), {
      workerData: { entry: '../fixtures/semaphore-lifetime.ts', semaphore },
    });
    const said: string[] = [];
    worker.on('message', (m: string) => said.push(m));
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await until(() => counted(semaphore) === 1, 'the worker in line');
    await new Promise((r) => setTimeout(r, 200));
    expect(said).to.deep.equal([]);
    semaphore.release();
    expect(await within(exited, 10_000, 'the worker exiting')).to.equal(0);
    expect(said).to.deep.equal(['got a permit']);
    expect(semaphore.value).to.equal(1);
  });
});

describe('SharedSemaphore: acquireSync() and the async waiters of its thread', () => {
  afterEach(noRaces);
  const SEAT0 = 2;

  it('SharedSemaphore.acquireSync() that moves to a new seat and times out leaves the async waiters of its thread watching it: a grant there wakes them', async () => {
    const holder = new SharedSemaphore(1);
    const x = new SharedSemaphore(1, holder.buffer);
    const y = new SharedSemaphore(1, holder.buffer);
    await holder.acquire();
    const waiter = track(x.acquire());
    await flush();
    // The grant to x's seat finds nobody (as if x's thread were gone): taken for gone, and y sits there.
    at(
      'notify',
      (array, index) => on(x, array, index, SEAT0),
      () => 0,
    );
    holder.release();
    noRaces();
    expect(holder.value, 'the grant taken back, the permit free').to.equal(1);
    await holder.acquire();
    const yWaits = track(y.acquire());
    await flush();
    expect(x.acquireSync(5)).to.equal(false); // finds its seat taken, sits elsewhere, times out
    holder.release(); // to y, first in line
    await until(() => yWaits.state === 'fulfilled', 'y');
    y.release(); // to x's new seat: its async waiter wakes
    await until(() => waiter.state === 'fulfilled', "x's async waiter");
    expect(waiter.value).to.equal(true);
    x.release();
  });
});

describe('SharedSemaphore without Atomics.waitAsync: a thread polling its seat', () => {
  let clock: ReturnType<typeof fakeClock>;
  withFakeClock((c) => (clock = c));
  beforeEach(() => delete (Atomics as { waitAsync?: unknown }).waitAsync);
  afterEach(() => (Atomics.waitAsync = realWaitAsync));

  it('SharedSemaphore: a thread served with more waiters queued polls for its next permit from 1 ms again, not at the 32 ms it had reached', async () => {
    const a = new SharedSemaphore(0);
    const d = new SharedSemaphore(0, a.buffer); // another thread, which polls its seat
    const first = track(d.acquire());
    const second = track(d.acquire());
    clock.tick(1 + 2 + 4 + 8 + 16 + 32); // six polls with nothing granted: it polls every 32 ms now
    await flush();
    a.release();
    clock.tick(32);
    await flush();
    expect(first.value).to.equal(true);
    a.release(); // granted to d again, its second waiter in line anew
    clock.tick(1);
    await flush();
    expect(second.value, 'seen at the first poll of the new wait').to.equal(true);
    d.release(2);
    expect(a.value).to.equal(2);
  });
});
