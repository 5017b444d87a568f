import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SharedCondition, SharedEvent, SharedLock } from '../lib/index.js';
import { eventSuite } from './event-suite.js';
import { Collected, collectGarbage, fakeClock, flush, track, waiterCount } from './helpers.js';
import { type Agent, startAgent, until, within } from './workers/agents.js';

const realWaitAsync = Atomics.waitAsync;

/** Runs `body`'s tests with `Atomics.waitAsync` removed from this thread, as on a runtime without it. */
function withoutWaitAsync(body: () => void): void {
  describe('without Atomics.waitAsync (the polling fallback)', () => {
    before(() => {
      delete (Atomics as { waitAsync?: unknown }).waitAsync;
    });
    after(() => {
      Atomics.waitAsync = realWaitAsync;
    });
    body();
  });
}

/** Engine waiters pending on an event's word, counted by waking them (they re-arm by themselves). */
function engineWaiters(e: SharedEvent): number {
  return Atomics.notify(new Int32Array(e.buffer, e.byteOffset, 1), 0);
}

const from = SharedEvent.from;
eventSuite('SharedEvent', () => new SharedEvent(), { inspectName: 'SharedEvent', polls: false, from });
withoutWaitAsync(() =>
  eventSuite('SharedEvent', () => new SharedEvent(), { inspectName: 'SharedEvent', polls: true, from }),
);

describe('SharedEvent: memory and arguments', () => {
  it('SharedEvent: a new event allocates its own buffer of SharedEvent.BYTES bytes, flag clear', () => {
    const e = new SharedEvent();
    expect(SharedEvent.BYTES).to.equal(8);
    expect(e.buffer).to.be.instanceOf(SharedArrayBuffer);
    expect(e.buffer.byteLength).to.equal(SharedEvent.BYTES);
    expect(e.byteOffset).to.equal(0);
    expect(e.isSet()).to.equal(false);
  });

  it('SharedEvent: two objects over the same word are one event', async () => {
    const a = new SharedEvent();
    const b = new SharedEvent(a.buffer, a.byteOffset);
    const p = track(b.wait());
    a.set();
    expect(b.isSet()).to.equal(true);
    await within(
      (async () => {
        while (p.state === 'pending') await new Promise((r) => setImmediate(r));
      })(),
      5_000,
      'the other object seeing set()',
    );
    expect(p.value).to.equal(true);
    b.clear();
    expect(a.isSet()).to.equal(false);
  });

  it('SharedEvent: events at different offsets of one buffer do not disturb each other', async () => {
    const buffer = new SharedArrayBuffer(4 * SharedEvent.BYTES);
    const events = [0, 1, 2, 3].map((i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
    const waits = events.map((e) => track(e.wait()));
    events[2]!.set();
    await flush();
    expect(waits.map((w) => w.state)).to.deep.equal(['pending', 'pending', 'fulfilled', 'pending']);
    expect(events.map((e) => e.isSet())).to.deep.equal([false, false, true, false]);
    events[0]!.set();
    events[2]!.clear();
    expect(events.map((e) => e.isSet())).to.deep.equal([true, false, false, false]);
    events[1]!.set();
    events[3]!.set();
    await flush();
    expect(waits.map((w) => w.value)).to.deep.equal([true, true, true, true]);
  });

  it('SharedEvent: a buffer that is not shared is refused with a TypeError that asks for a SharedArrayBuffer', () => {
    for (const bad of [new ArrayBuffer(8), new Int32Array(new SharedArrayBuffer(8)), {}, 'buffer', null]) {
      expect(() => new SharedEvent(bad as SharedArrayBuffer)).to.throw(TypeError, /SharedArrayBuffer.*COOP\/COEP/);
    }
  });

  it('SharedEvent: a byteOffset that is not a multiple of 4, negative or out of range is a RangeError', () => {
    const buffer = new SharedArrayBuffer(8);
    for (const bad of [2, -4, 1.5, NaN, Infinity]) {
      expect(() => new SharedEvent(buffer, bad)).to.throw(
        RangeError,
        /byteOffset must be a non-negative multiple of 4/,
      );
    }
    expect(() => new SharedEvent(buffer, 4)).to.throw(RangeError, /byteOffset 4 leaves no room/);
    expect(() => new SharedEvent(buffer, '4' as unknown as number)).to.throw(TypeError, /byteOffset must be a number/);
    expect(new SharedEvent(new SharedArrayBuffer(12), 4).byteOffset).to.equal(4);
  });

  it('SharedEvent, SharedLock, SharedCondition: a buffer whose length is not a multiple of 4 serves as far as whole words go', async () => {
    const e = new SharedEvent(new SharedArrayBuffer(9));
    const w = e.wait();
    e.set();
    expect(await w).to.equal(true);
    expect(new SharedEvent(new SharedArrayBuffer(14), 4).isSet()).to.equal(false);
    expect(() => new SharedEvent(new SharedArrayBuffer(11), 4)).to.throw(RangeError, /byteOffset 4 leaves no room/);
    const lock = new SharedLock(new SharedArrayBuffer(SharedLock.BYTES + 1));
    const cond = new SharedCondition(lock, new SharedArrayBuffer(SharedCondition.BYTES + 3));
    await lock.acquire();
    const waited = cond.wait(10_000);
    await lock.acquire();
    cond.notify();
    lock.release();
    expect(await waited).to.equal(true);
    lock.release();
  });

  it('SharedEvent, SharedLock, SharedCondition: two primitives of one thread on overlapping words are refused with a TypeError naming both', () => {
    const buffer = new SharedArrayBuffer(SharedLock.BYTES + SharedCondition.BYTES + SharedEvent.BYTES);
    const lock = new SharedLock(buffer, 0);
    expect(new SharedLock(buffer, 0).locked()).to.equal(false); // the same lock again: fine
    expect(() => new SharedEvent(buffer, 0)).to.throw(
      TypeError,
      /SharedEvent at byteOffset 0 overlaps a SharedLock at byteOffset 0 \(140 bytes\)/,
    );
    expect(() => new SharedEvent(buffer, 132)).to.throw(TypeError, /overlaps a SharedLock at byteOffset 0/);
    expect(() => new SharedLock(buffer, 4)).to.throw(TypeError, /SharedLock at byteOffset 4 overlaps a SharedLock/);
    expect(() => new SharedCondition(lock, buffer, 0)).to.throw(TypeError, /SharedCondition at byteOffset 0 overlaps/);
    const cond = new SharedCondition(lock, buffer, SharedLock.BYTES);
    const end = SharedLock.BYTES + SharedCondition.BYTES;
    expect(() => new SharedEvent(buffer, end - 4)).to.throw(TypeError, /overlaps a SharedCondition/);
    expect(new SharedEvent(buffer, end).isSet()).to.equal(false);
    expect(new SharedEvent(buffer, end).isSet()).to.equal(false); // the same event again: fine
    expect(() => new SharedLock(buffer, end)).to.throw(RangeError, /leaves no room/);
    expect(cond.locked()).to.equal(false);
  });

  it('SharedEvent: with no SharedArrayBuffer in this context, new SharedEvent() says cross-origin isolation is needed', () => {
    const real = globalThis.SharedArrayBuffer;
    delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
    try {
      expect(() => new SharedEvent()).to.throw(TypeError, /SharedArrayBuffer.*cross-origin isolated/);
      expect(() => new SharedEvent({} as SharedArrayBuffer)).to.throw(TypeError, /must be a SharedArrayBuffer/);
    } finally {
      globalThis.SharedArrayBuffer = real;
    }
  });

  it('SharedEvent: a word that was set before the object was made reads as set', async () => {
    const a = new SharedEvent();
    a.set();
    const b = new SharedEvent(a.buffer);
    expect(b.isSet()).to.equal(true);
    expect(await b.wait()).to.equal(true);
  });
});

describe('SharedEvent.set() under contention', () => {
  it('SharedEvent.set() retries when another thread changes the word between its read and its compare-exchange', async () => {
    const e = new SharedEvent();
    const word = new Int32Array(e.buffer);
    const p = track(e.wait());
    const real = Atomics.compareExchange;
    let raced = false;
    Atomics.compareExchange = ((...args: Parameters<typeof real>) => {
      if (!raced) {
        raced = true;
        Atomics.store(word, 0, 2); // another thread's set(); clear() got in first
      }
      return real(...args);
    }) as typeof real;
    try {
      e.set();
    } finally {
      Atomics.compareExchange = real;
    }
    expect(raced).to.equal(true);
    expect(e.isSet()).to.equal(true);
    expect(Atomics.load(word, 0)).to.equal(5); // two sets: generation 2, flag set
    await flush();
    expect(p.value).to.equal(true);
  });
});

describe('SharedEvent.waitSync on the main thread', () => {
  it('SharedEvent.waitSync() returns true at once when the flag is set', () => {
    const e = new SharedEvent();
    e.set();
    expect(e.waitSync()).to.equal(true);
    expect(e.waitSync(0)).to.equal(true);
  });

  it('SharedEvent.waitSync(0) and negative timeouts answer with the flag without blocking', () => {
    const e = new SharedEvent();
    expect(e.waitSync(0)).to.equal(false);
    expect(e.waitSync(-10)).to.equal(false);
  });

  it('SharedEvent.waitSync(ms) returns false when nobody sets the flag in time', () => {
    const e = new SharedEvent();
    expect(e.waitSync(5)).to.equal(false);
  });

  it('SharedEvent.waitSync() refuses a timeout that is not a number (TypeError) or NaN (RangeError)', () => {
    const e = new SharedEvent();
    expect(() => e.waitSync('5' as unknown as number)).to.throw(TypeError, /timeout must be a number/);
    expect(() => e.waitSync(NaN)).to.throw(RangeError, /timeout.*NaN/);
  });
});

describe('SharedEvent: engine waiters', () => {
  it('SharedEvent: 100,000 timed-out waits leave at most one engine waiter on the word', async () => {
    const clock = fakeClock();
    try {
      const e = new SharedEvent();
      for (let batch = 0; batch < 100; batch++) {
        const waits = Array.from({ length: 1_000 }, () => e.wait(1));
        clock.tick(1);
        expect(await Promise.all(waits)).to.satisfy((r: boolean[]) => r.every((v) => v === false));
      }
      expect(waiterCount(e)).to.equal(0);
      expect(engineWaiters(e)).to.be.at.most(1);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      clock.restore();
    }
  });

  it('SharedEvent: 100,000 aborted waits leave at most one engine waiter on the word', async () => {
    const e = new SharedEvent();
    for (let batch = 0; batch < 100; batch++) {
      const ac = new AbortController();
      const waits = Array.from({ length: 1_000 }, () => e.wait({ signal: ac.signal }).catch(() => 'aborted'));
      ac.abort();
      await Promise.all(waits);
    }
    expect(engineWaiters(e)).to.be.at.most(1);
  });

  it('SharedEvent: a spurious engine wake-up releases no waiter', async () => {
    const e = new SharedEvent();
    const p = track(e.wait());
    await flush();
    expect(engineWaiters(e)).to.equal(1);
    await new Promise((r) => setImmediate(r));
    expect(p.state).to.equal('pending');
    expect(engineWaiters(e)).to.equal(1);
    e.set();
    await flush();
    expect(p.value).to.equal(true);
  });
});

describe('SharedEvent: a timed wait whose thread is busy past its deadline', () => {
  // Another thread's set() lands while this thread is busy; when it gets back to its event loop, the
  // deadline's timer runs before the engine's wake-up job: played here by ticking the fake clock in the
  // same synchronous run as the other thread's write.
  for (const [what, after] of [
    ['set()', 3],
    ['set() then clear()', 2],
  ] as const) {
    it(`SharedEvent.wait(ms) pending when another thread ran ${what} resolves true, though its deadline is seen first`, async () => {
      const clock = fakeClock();
      try {
        const e = new SharedEvent();
        const p = track(e.wait(50));
        await flush();
        const word = new Int32Array(e.buffer); // another thread: next generation, flag set, notify all
        Atomics.store(word, 0, 3);
        Atomics.notify(word, 0);
        Atomics.store(word, 0, after);
        clock.tick(60);
        await flush();
        expect(p.value).to.equal(true);
        expect(waiterCount(e)).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
      } finally {
        clock.restore();
      }
    });
  }

  for (const clear of [false, true]) {
    it(`SharedEvent.wait(50) in a worker busy past its deadline while this thread runs set()${clear ? ' then clear()' : ''} resolves true`, async () => {
      const buffer = new SharedArrayBuffer(3 * SharedEvent.BYTES);
      const [target, started, done] = [0, 1, 2].map((i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
      const agent = await startAgent(buffer);
      try {
        const result = agent.call({ op: 'busy', event: 0, timeout: 50, started: 1, done: 2 });
        expect(await started!.wait(10_000)).to.equal(true);
        target!.set();
        if (clear) target!.clear();
        done!.set();
        expect(await within(result, 10_000, 'the busy worker')).to.equal(true);
      } finally {
        await agent.terminate();
      }
    });
  }

  it('SharedEvent.wait(ms) whose deadline passes with the word unmoved still resolves false', async () => {
    const clock = fakeClock();
    try {
      const e = new SharedEvent();
      const p = track(e.wait(50));
      await flush();
      clock.tick(60);
      await flush();
      expect(p.value).to.equal(false);
    } finally {
      clock.restore();
    }
  });
});

function crossThread(noWaitAsync: boolean): void {
  describe(`SharedEvent across threads${noWaitAsync ? ' (polling fallback in the worker and here)' : ''}`, () => {
    let buffer: SharedArrayBuffer;
    let events: SharedEvent[];
    let agent: Agent;
    before(async () => {
      if (noWaitAsync) delete (Atomics as { waitAsync?: unknown }).waitAsync;
      buffer = new SharedArrayBuffer(8 * SharedEvent.BYTES);
      events = Array.from({ length: 8 }, (_, i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
      agent = await startAgent(buffer, { noWaitAsync });
    });
    after(async () => {
      Atomics.waitAsync = realWaitAsync;
      await agent.terminate();
    });
    afterEach(() => {
      for (const e of events) e.clear();
    });

    it('SharedEvent: set() in a worker wakes a wait() on the main thread', async () => {
      const p = events[0]!.wait();
      await agent.call({ op: 'set', event: 0 });
      expect(await within(p, 5_000, 'main wait')).to.equal(true);
    });

    it('SharedEvent: set() on the main thread wakes a wait() in a worker', async () => {
      const p = agent.call({ op: 'wait', event: 1 });
      await agent.call({ op: 'isSet', event: 1 }); // the wait is queued in the worker by now
      events[1]!.set();
      expect(await within(p, 5_000, 'worker wait')).to.equal(true);
    });

    it('SharedEvent: set() then clear() at once on the main thread still releases the worker', async () => {
      const p = agent.call({ op: 'wait', event: 1 });
      await agent.call({ op: 'isSet', event: 1 });
      events[1]!.set();
      events[1]!.clear();
      expect(await within(p, 5_000, 'worker wait')).to.equal(true);
    });

    it('SharedEvent.waitSync() in a worker returns true when the main thread sets the flag', async () => {
      const p = agent.call({ op: 'waitSync', event: 2, timeout: 10_000 });
      // Counting the blocked worker wakes it spuriously: it must go back to waiting.
      await within(
        (async () => {
          while (engineWaiters(events[2]!) === 0) await new Promise((r) => setImmediate(r));
        })(),
        5_000,
        'the worker blocking',
      );
      events[2]!.set();
      expect(await within(p, 5_000, 'worker waitSync')).to.equal(true);
    });

    it('SharedEvent.waitSync(ms) in a worker returns false when nobody sets the flag', async () => {
      expect(await agent.call({ op: 'waitSync', event: 3, timeout: 20 })).to.equal(false);
    });

    it('SharedEvent.wait(ms) in a worker resolves false when nobody sets the flag', async () => {
      expect(await agent.call({ op: 'wait', event: 3, timeout: 20 })).to.equal(false);
    });

    it('SharedEvent: aborting a wait in a worker rejects it with the reason', async () => {
      expect(await agent.call({ op: 'wait', event: 3, abortAfter: 5 })).to.equal('rejected: aborted in worker');
    });

    it('SharedEvent: events of one buffer are independent across threads', async () => {
      const p4 = agent.call({ op: 'wait', event: 4 });
      const p5 = agent.call({ op: 'wait', event: 5 });
      const t5 = track(p5);
      await agent.call({ op: 'isSet', event: 4 });
      events[4]!.set();
      expect(await within(p4, 5_000, 'worker wait on event 4')).to.equal(true);
      expect(await agent.call({ op: 'isSet', event: 5 })).to.equal(false);
      expect(t5.state).to.equal('pending');
      events[5]!.set();
      expect(await within(p5, 5_000, 'worker wait on event 5')).to.equal(true);
    });

    const rounds = noWaitAsync ? 500 : 10_000;
    it(`SharedEvent: a set(); clear() pulse releases a worker's pending wait, ${rounds} times of ${rounds}`, async () => {
      const [armed, target, done] = [events[5]!, events[6]!, events[7]!];
      const lost = agent.call({ op: 'race', rounds, armed: 5, target: 6, done: 7 });
      const run = (async () => {
        for (let r = 0; r < rounds; r++) {
          await armed.wait();
          armed.clear();
          target.set();
          target.clear();
          done.set();
        }
      })();
      await within(run, 60_000, 'the race');
      expect(await within(lost, 60_000, 'the race result')).to.equal(0);
    });
  });
}

crossThread(false);
crossThread(true);

describe('SharedEvent: four workers passing a turn through two events', () => {
  it('SharedEvent: 20,000 turns among 4 workers complete in order, with no hang', async () => {
    const buffer = new SharedArrayBuffer(3 * SharedEvent.BYTES);
    const agents = await Promise.all([0, 1, 2, 3].map(() => startAgent(buffer)));
    try {
      const rounds = 20_000;
      const runs = agents.map((a, me) => a.call({ op: 'ring', me, workers: 4, rounds, counter: 2, timeout: 10_000 }));
      new SharedEvent(buffer, 0).set();
      await within(Promise.all(runs), 120_000, 'the ring');
      expect(Atomics.load(new Int32Array(buffer, 2 * SharedEvent.BYTES, 1), 0)).to.equal(rounds);
    } finally {
      await Promise.all(agents.map((a) => a.terminate()));
    }
  });
});

describe('SharedEvent: what a pending wait keeps alive (child processes)', () => {
  const fixture = new URL('./fixtures/lifetime.ts', import.meta.url);
  const run = (kind: string) =>
    new Promise<{ code: number | null; lines: string[] }>((resolve, reject) => {
      // A child that something keeps alive for ever is killed (exit code null), failing the test.
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(fixture), kind], {
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 15_000,
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, lines: out.split('\n').filter(Boolean) }));
    });

  it('SharedEvent: on the main thread, a pending wait() without a timeout keeps nothing alive, like Event', async () => {
    expect(await within(run('main-pending'), 30_000, 'the child')).to.deep.equal({ code: 0, lines: [] });
  });

  it('SharedEvent: on the main thread, a pending wait(ms) keeps the process alive until it times out', async () => {
    expect(await within(run('main-timeout'), 30_000, 'the child')).to.deep.equal({
      code: 0,
      lines: ['main timed out: true'],
    });
  });

  it('SharedEvent: in a worker, a pending wait() keeps the worker alive until another thread sets the event', async () => {
    expect(await within(run('worker-pending'), 30_000, 'the child')).to.deep.equal({
      code: 0,
      lines: ['worker waiting', 'worker still alive', 'worker released: true', 'worker exit 0'],
    });
  });

  it('SharedEvent: in a worker, a pending wait(ms) keeps the worker alive until it times out, then lets it exit', async () => {
    expect(await within(run('worker-timeout'), 30_000, 'the child')).to.deep.equal({
      code: 0,
      lines: ['worker waiting', 'worker timed out: true', 'worker exit 0'],
    });
  });

  it("SharedEvent: in a worker, a wait whose word another thread's set() moves before it listens is released, and the worker exits", async () => {
    expect(await within(run('worker-raced'), 30_000, 'the child')).to.deep.equal({
      code: 0,
      lines: ['worker waiting', 'worker released: true', 'worker exit 0'],
    });
  });

  it('SharedEvent: in a worker, an aborted wait lets the worker exit', async () => {
    expect(await within(run('worker-aborted'), 30_000, 'the child')).to.deep.equal({
      code: 0,
      lines: ['worker waiting', 'worker aborted', 'worker exit 0'],
    });
  });
});

describe('SharedEvent.waitSync where blocking is not allowed', () => {
  it('SharedEvent.waitSync() throws an Error that names wait() where Atomics.wait may not block', async () => {
    const worker = new Worker(new URL('./workers/boot.mjs', import.meta.url), {
      workerData: { entry: '../fixtures/no-blocking.ts' },
    });
    const answer = await within(
      new Promise<string>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      30_000,
      'the worker',
    );
    await worker.terminate();
    expect(answer).to.match(/^Error: SharedEvent\.waitSync\(\) cannot block this thread.*use await event\.wait\(\)/);
  });
});

describe('SharedEvent: workers whose last wait overlaps a set/clear storm', () => {
  it('SharedEvent: 100 workers waiting through a set/clear storm all exit by themselves', async function () {
    this.timeout(300_000);
    const event = new SharedEvent();
    let storming = true;
    const storm = (async () => {
      while (storming) {
        for (let i = 0; i < 500; i++) {
          event.set();
          event.clear();
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const boot = new URL('./workers/boot.mjs', import.meta.url);
    let exited = 0;
    try {
      // 4 waves of 25 workers, to bound the memory the test takes.
      for (let wave = 0; wave < 4; wave++) {
        const workers = Array.from(
          { length: 25 },
          () => new Worker(boot, { workerData: { entry: '../fixtures/storm.ts', buffer: event.buffer, waits: 200 } }),
        );
        const exits = workers.map(
          (w) =>
            new Promise<number>((resolve, reject) => {
              w.once('error', reject);
              w.once('exit', resolve);
            }),
        );
        try {
          const codes = await within(Promise.all(exits), 60_000, `wave ${wave}: every worker exiting`);
          expect(codes).to.deep.equal(codes.map(() => 0));
          exited += codes.length;
        } finally {
          await Promise.all(workers.map((w) => w.terminate()));
        }
      }
    } finally {
      storming = false;
      await storm;
    }
    expect(exited).to.equal(100);
  });
});

describe('SharedEvent: memory follows live waiters', () => {
  let collected: Collected;
  beforeEach(() => (collected = new Collected()));
  const timedWait = (e: SharedEvent) => {
    collected.add(e);
    return e.wait(1);
  };

  it('SharedEvent: 20,000 events, each left after a wait(1) timed out, are all collected', async () => {
    const clock = fakeClock();
    try {
      for (let batch = 0; batch < 20; batch++) {
        const waits: Promise<boolean>[] = [];
        // Made in a function of its own: a variable of this async function would keep the last one.
        for (let i = 0; i < 1_000; i++) waits.push(timedWait(new SharedEvent()));
        clock.tick(1);
        expect(await Promise.all(waits)).to.satisfy((r: boolean[]) => r.every((v) => v === false));
      }
    } finally {
      clock.restore();
    }
    await collectGarbage(() => collected.count === 20_000);
    expect(collected.count).to.equal(20_000);
  });

  it('SharedEvent: 50,000 objects on one word, each with a wait(1) that timed out, share one engine waiter and are all collected', async () => {
    const buffer = new SharedArrayBuffer(2 * SharedEvent.BYTES);
    const clock = fakeClock();
    try {
      for (let batch = 0; batch < 50; batch++) {
        const waits: Promise<boolean>[] = [];
        for (let i = 0; i < 1_000; i++) waits.push(timedWait(new SharedEvent(buffer, SharedEvent.BYTES)));
        clock.tick(1);
        await Promise.all(waits);
        // Objects collected between batches: the next ones must find the engine waiter left pending.
        if (batch % 10 === 9) globalThis.gc!();
      }
    } finally {
      clock.restore();
    }
    await collectGarbage(() => collected.count === 50_000);
    expect(collected.count).to.equal(50_000);
    await new Promise((r) => setTimeout(r, 0)); // the engine waiter's own job
    // The engine waiter left pending went with the last of them.
    expect(Atomics.notify(new Int32Array(buffer, SharedEvent.BYTES, 1), 0)).to.equal(0);
  });

  it('SharedEvent: 2,000 dropped events, each left after a wait that timed out or was aborted, leave no engine waiter pending', async () => {
    const buffers: SharedArrayBuffer[] = [];
    const collected = new Collected();
    const clock = fakeClock();
    try {
      const ac = new AbortController();
      const waits = Array.from({ length: 2_000 }, (_, i) => {
        const e = new SharedEvent();
        buffers.push(e.buffer);
        collected.add(e);
        return i % 2 === 0 ? e.wait(1) : e.wait({ signal: ac.signal }).catch(() => 'aborted');
      });
      ac.abort();
      clock.tick(1);
      await Promise.all(waits);
    } finally {
      clock.restore();
    }
    await collectGarbage(() => collected.count === 2_000);
    expect(collected.count).to.be.at.least(1_990); // an object or two may stay reachable from the engine's own state
    await new Promise((r) => setTimeout(r, 0)); // the engine waiters' own jobs
    const pending = buffers.reduce((n, b) => n + Atomics.notify(new Int32Array(b), 0), 0);
    expect(pending).to.be.at.most(2_000 - collected.count); // one per event still alive at most
  });

  it('SharedEvent: objects on the same buffer and offset share one engine waiter, and set() through one releases the waiters of all at once', async () => {
    const a = new SharedEvent();
    const [b, c] = [new SharedEvent(a.buffer), new SharedEvent(a.buffer)];
    const waits = [a, b, c, a].map((e) => track(e.wait()));
    await flush();
    expect(engineWaiters(a)).to.equal(1);
    await flush();
    expect(waits.map((w) => w.state)).to.deep.equal(['pending', 'pending', 'pending', 'pending']);
    b.set();
    expect([a, b, c].map(waiterCount)).to.deep.equal([0, 0, 0]);
    await flush();
    expect(waits.map((w) => w.value)).to.deep.equal([true, true, true, true]);
  });

  for (const polling of [false, true]) {
    it(`SharedEvent: a pending wait settles when another thread sets the event, though nothing references the event${polling ? ' (polling fallback)' : ''}`, async () => {
      if (polling) delete (Atomics as { waitAsync?: unknown }).waitAsync;
      try {
        const buffer = new SharedArrayBuffer(SharedEvent.BYTES);
        const p = track((() => new SharedEvent(buffer).wait())());
        await collectGarbage(() => false);
        expect(p.state).to.equal('pending');
        const word = new Int32Array(buffer); // another thread's set(): next generation, flag set, notify all
        Atomics.store(word, 0, 3);
        Atomics.notify(word, 0);
        await within(
          (async () => {
            while (p.state === 'pending') await new Promise((r) => setTimeout(r, 1));
          })(),
          5_000,
          'the wait settling',
        );
        expect(p.value).to.equal(true);
      } finally {
        Atomics.waitAsync = realWaitAsync;
      }
    });
  }

  it('SharedEvent: an object made on a word just after its earlier objects were collected, before their finalizer ran, reuses their pending engine waiter', async () => {
    const buffer = new SharedArrayBuffer(SharedEvent.BYTES);
    const word = new Int32Array(buffer);
    const clock = fakeClock();
    let timedOut: Promise<boolean>;
    try {
      timedOut = new SharedEvent(buffer).wait(1);
      clock.tick(1);
    } finally {
      clock.restore();
    }
    expect(await timedOut).to.equal(false);
    await new Promise((r) => setTimeout(r, 0));
    globalThis.gc!(); // collects the object and its Word; their finalizer runs in a later task
    const p = track(new SharedEvent(buffer).wait());
    await new Promise((r) => setTimeout(r, 0)); // the finalizer: the new object still uses the word
    Atomics.store(word, 0, 3); // another thread's set()
    expect(Atomics.notify(word, 0)).to.equal(1); // one engine waiter on the word: the reused one
    await until(() => p.state === 'fulfilled', 'the wait');
    expect(p.value).to.equal(true);
  });

  it('SharedEvent: an engine waiter left pending by objects goes once they are collected, and the next wait arms one', async () => {
    const buffer = new SharedArrayBuffer(SharedEvent.BYTES);
    const word = new Int32Array(buffer);
    const clock = fakeClock();
    let timedOut: Promise<boolean>;
    try {
      timedOut = new SharedEvent(buffer).wait(1);
      clock.tick(1);
    } finally {
      clock.restore();
    }
    expect(await timedOut).to.equal(false);
    await collectGarbage(() => false);
    expect(Atomics.notify(word, 0)).to.equal(0); // woken as its last object was collected
    const e = new SharedEvent(buffer);
    const p = track(e.wait());
    expect(Atomics.notify(word, 0)).to.equal(1);
    e.set();
    await flush();
    expect(p.value).to.equal(true);
  });
});
