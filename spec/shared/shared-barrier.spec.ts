import { expect } from 'chai';
import * as sinon from 'sinon';
import { Worker } from 'node:worker_threads';
import { inspect } from 'node:util';
import { BrokenBarrierError, SharedBarrier, SharedEvent, SharedLock } from '../../lib/index.js';
import { barrierSuite } from '../barrier-suite.js';
import { fakeClock, flush, track, withFakeClock } from '../helpers.js';
import { until, within } from '../workers/agents.js';
import { type BarrierAgent, startBarrierAgent } from '../workers/barrier-agents.js';
import { LOG, barrierBytes, barrierData } from '../workers/barrier-layout.js';
import { at, noRaces, on, wordsOf } from './races.js';

// On one thread, a SharedBarrier keeps every promise of the one-thread Barrier.
barrierSuite(
  'SharedBarrier',
  (parties) => new SharedBarrier(parties),
  (value) => SharedBarrier.from(value),
);

const realWaitAsync = Atomics.waitAsync;
const realWait = Atomics.wait.bind(Atomics);

/** Engine waiters pending on the words of a barrier, counted by waking them (they re-arm by themselves). */
function engineWaiters(b: SharedBarrier): number {
  const words = new Int32Array(b.buffer, b.byteOffset, SharedBarrier.BYTES / 4);
  let n = 0;
  for (let i = 0; i < words.length; i++) n += Atomics.notify(words, i);
  return n;
}

/** The seat words of a barrier (32 of them, after its parties and state words). */
const seats = (b: SharedBarrier) => Array.from(new Int32Array(b.buffer, b.byteOffset + 8, 32));
/** The hall word of a barrier (after its seats): how many seatless threads are in line. */
const hall = (b: SharedBarrier) => Atomics.load(new Int32Array(b.buffer, b.byteOffset), 34);

/** `n` barrier objects over one barrier of `parties`: `n` threads, as far as the barrier can tell. */
const threads = (parties: number, n: number) => {
  const a = new SharedBarrier(parties);
  return [a, ...Array.from({ length: n - 1 }, () => new SharedBarrier(parties, a.buffer))];
};

const brokenWith = async (p: Promise<unknown>, why: RegExp) => {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(BrokenBarrierError);
  expect((error as Error).message).to.match(why);
};

describe('SharedBarrier: memory and arguments', () => {
  it('SharedBarrier: a new barrier allocates its own buffer of SharedBarrier.BYTES bytes, not broken, nobody waiting', () => {
    const b = new SharedBarrier(3);
    expect(SharedBarrier.BYTES % 4).to.equal(0);
    expect(b.buffer.byteLength).to.equal(SharedBarrier.BYTES);
    expect([b.byteOffset, b.parties, b.waiting, b.broken]).to.deep.equal([0, 3, 0, false]);
    expect(inspect(b)).to.equal('SharedBarrier { parties: 3, waiting: 0, broken: false }');
  });

  it('SharedBarrier: parties above 65,535 is a RangeError showing the value', () => {
    expect(new SharedBarrier(65_535).parties).to.equal(65_535);
    expect(() => new SharedBarrier(65_536)).to.throw(RangeError, /parties must be at most 65535, got 65536/);
  });

  it('SharedBarrier: refuses a buffer and byteOffset as the other shared primitives do', () => {
    const buffer = new SharedArrayBuffer(SharedBarrier.BYTES + 8);
    expect(() => new SharedBarrier(2, new ArrayBuffer(8) as unknown as SharedArrayBuffer)).to.throw(
      TypeError,
      /SharedArrayBuffer/,
    );
    expect(() => new SharedBarrier(2, buffer, 2)).to.throw(
      RangeError,
      /byteOffset must be a non-negative multiple of 4/,
    );
    expect(() => new SharedBarrier(2, buffer, 12)).to.throw(RangeError, /byteOffset 12 leaves no room for a barrier/);
    expect(new SharedBarrier(2, buffer, 8).byteOffset).to.equal(8);
    expect(() => new SharedLock(buffer, 0)).to.throw(TypeError, /overlaps a SharedBarrier/);
    // Its last word, as far from its start as any primitive reaches (the widest).
    const wide = new SharedArrayBuffer(SharedBarrier.BYTES + 4);
    expect(new SharedBarrier(2, wide, 0).parties).to.equal(2);
    expect(() => new SharedEvent(wide, SharedBarrier.BYTES - 4)).to.throw(
      TypeError,
      /SharedEvent at byteOffset 272 overlaps a SharedBarrier at byteOffset 0/,
    );
  });

  it('SharedBarrier: building one over memory that holds a barrier resets nothing, and other parties are a RangeError', async () => {
    const b = new SharedBarrier(3);
    const first = track(b.wait());
    const again = new SharedBarrier(3, b.buffer, b.byteOffset);
    expect([again.waiting, again.broken]).to.deep.equal([1, false]);
    expect(() => new SharedBarrier(4, b.buffer, b.byteOffset)).to.throw(
      RangeError,
      /parties must be 3, the parties of the barrier at byteOffset 0 of this buffer, got 4/,
    );
    const second = track(again.wait());
    expect(await b.wait()).to.equal(2);
    await until(() => first.state !== 'pending' && second.state !== 'pending', 'the round');
    expect([first.value, second.value]).to.deep.equal([0, 1]);
  });

  it('SharedBarrier.from() refuses what is not a barrier, naming it, and other classes refuse a barrier', () => {
    const lock = new SharedLock();
    expect(() => SharedBarrier.from(structuredClone(lock))).to.throw(
      TypeError,
      /value is a SharedLock, not a SharedBarrier/,
    );
    expect(() => SharedBarrier.from({})).to.throw(TypeError, /value\.buffer must be a SharedArrayBuffer, got/);
    expect(() => SharedBarrier.from(null)).to.throw(
      TypeError,
      /value must be a SharedBarrier or what one becomes when posted/,
    );
    const b = new SharedBarrier(3);
    expect(() => SharedLock.from(structuredClone(b))).to.throw(TypeError, /value is a SharedBarrier, not a SharedLock/);
    expect(Object.keys(structuredClone(b)).sort()).to.deep.equal(['buffer', 'byteOffset', 'parties']);
  });

  it('SharedBarrier.waitSync() refuses a bad timeout with the errors of wait()', () => {
    const b = new SharedBarrier(2);
    expect(() => b.waitSync('1' as unknown as number)).to.throw(TypeError, /timeout must be a number/);
    expect(() => b.waitSync(NaN)).to.throw(RangeError, /NaN/);
    expect(b.waiting).to.equal(0);
  });
});

describe('SharedBarrier on one thread', () => {
  afterEach(() => {
    Atomics.waitAsync = realWaitAsync;
  });

  it('SharedBarrier: objects over one barrier (as threads would) meet in rounds, and leave no seat or engine waiter', async () => {
    const b = new SharedBarrier(4);
    const others = [0, 1, 2].map(() => new SharedBarrier(4, b.buffer));
    for (let round = 0; round < 50; round++) {
      const waits = others.map((o) => o.wait());
      const mine = await b.wait();
      const indexes = [...(await Promise.all(waits)), mine].sort();
      expect(indexes).to.deep.equal([0, 1, 2, 3]);
    }
    expect(seats(b).every((v) => v === 0)).to.equal(true);
    expect(engineWaiters(b)).to.equal(0);
  });

  it('SharedBarrier.waitSync() passes at once as the last party, and a timeout that runs out breaks the barrier', () => {
    const b = new SharedBarrier(1);
    expect(b.waitSync()).to.equal(0);
    const two = new SharedBarrier(2);
    expect(() => two.waitSync(0)).to.throw(BrokenBarrierError, /SharedBarrier\.waitSync\(\): .*\(a waiter timed out\)/);
    expect(() => two.waitSync()).to.throw(BrokenBarrierError, /the barrier is broken \(a waiter timed out\)/);
    two.reset();
    expect(() => two.waitSync(5)).to.throw(
      BrokenBarrierError,
      /broke before all 2 parties arrived \(a waiter timed out\)/,
    );
    expect(seats(two).every((v) => v === 0)).to.equal(true);
    expect(engineWaiters(two)).to.equal(0);
  });

  it('SharedBarrier: 40 threads meet at a barrier of 40 parties, though it has 32 seats: each index 0..39 once per round, round after round', async () => {
    const objects = threads(40, 40);
    for (let round = 0; round < 5; round++) {
      const waits = objects.slice(0, 39).map((o) => o.wait());
      // 32 threads wait in seats, 7 in the hall.
      expect([seats(objects[0]!).every((v) => v !== 0), hall(objects[0]!)]).to.deep.equal([true, 7]);
      const last = await objects[39]!.wait();
      const indexes = [...(await Promise.all(waits)), last].sort((a, b) => a - b);
      expect(indexes).to.deep.equal(Array.from({ length: 40 }, (_, i) => i));
    }
    expect([objects[0]!.waiting, objects[0]!.broken, hall(objects[0]!)]).to.deep.equal([0, false, 0]);
    expect(seats(objects[0]!).every((v) => v === 0)).to.equal(true);
    expect(engineWaiters(objects[0]!)).to.equal(0);
  });

  it('SharedBarrier: a round broken by a seatless thread (its waiter aborted, or timed out) rejects the waiters of every thread, seated or not', async () => {
    const objects = threads(40, 36);
    const ac = new AbortController();
    const waits = objects.slice(0, 35).map((o) => track(o.wait()));
    const aborted = track(objects[35]!.wait({ signal: ac.signal }));
    expect(hall(objects[0]!)).to.equal(4);
    ac.abort(new Error('stop'));
    await until(() => [...waits, aborted].every((w) => w.state === 'rejected'), 'every wait rejected');
    expect((aborted.reason as Error).message).to.equal('stop');
    for (const w of waits) {
      expect(w.reason).to.be.instanceOf(BrokenBarrierError);
      expect((w.reason as Error).message).to.match(/broke before all 40 parties arrived \(a waiter was aborted\)/);
    }
    objects[0]!.reset();
    const again = objects.slice(0, 35).map((o) => o.wait());
    await brokenWith(objects[35]!.wait(0), /a waiter timed out/);
    for (const w of again) await brokenWith(w, /a waiter timed out/);
    expect(hall(objects[0]!)).to.equal(0);
    expect(engineWaiters(objects[0]!)).to.equal(0);
  });

  it('SharedBarrier: a seatless thread that looks only after the barrier went 2 more rounds on learns how its own round ended', async () => {
    const objects = threads(40, 41);
    const b = objects[0]!;
    const late = objects[40]!;
    for (const how of ['passed', 'aborted'] as const) {
      // Round 1: 32 threads in seats, `late` and 6 more in the hall.
      const seated = objects.slice(0, 32).map((o) => track(o.wait()));
      const mine = track(late.wait());
      const others = objects.slice(32, 38).map((o) => track(o.wait()));
      expect(hall(b)).to.equal(7);
      // Its round ends, and two more go by, before this thread's event loop runs again.
      if (how === 'passed') void objects[38]!.wait();
      else b.abort();
      b.reset();
      const next = objects.slice(0, 39).map((o) => o.wait());
      await objects[39]!.wait();
      const third = objects.slice(0, 39).map((o) => o.wait());
      await objects[39]!.wait();
      await Promise.all([...next, ...third]);
      if (how === 'passed') {
        await until(() => mine.state === 'fulfilled', 'the late thread');
        expect(mine.value).to.equal(32);
        expect([...seated, ...others].map((w) => w.value)).to.have.members([
          ...Array(32).keys(),
          33,
          34,
          35,
          36,
          37,
          38,
        ]);
      } else {
        await until(() => mine.state === 'rejected', 'the late thread');
        expect((mine.reason as Error).message).to.match(/broke before all 40 parties arrived \(abort\(\) was called\)/);
      }
      b.reset();
    }
    expect(hall(b)).to.equal(0);
    expect(engineWaiters(b)).to.equal(0);
  });

  it('SharedBarrier: a seatless thread that looks only after the barrier went 32 rounds on (its round no longer logged) rejects, saying so', async () => {
    const objects = threads(40, 34);
    const b = objects[0]!;
    const seated = objects.slice(0, 32).map((o) => track(o.wait()));
    const late = track(objects[32]!.wait());
    const other = track(objects[33]!.wait()); // in the hall too: the log is kept while anyone is there
    for (let i = 0; i < 33; i++) b.reset(); // rounds 0 to 32: round 32's record replaces round 0's
    await until(() => late.state === 'rejected' && other.state === 'rejected', 'the seatless threads');
    expect((late.reason as Error).message).to.match(/how its round ended was lost: its thread fell 32 rounds behind/);
    for (const w of seated) await until(() => w.state === 'rejected', 'the seated threads');
    expect(hall(b)).to.equal(0);
    expect(engineWaiters(b)).to.equal(0);
  });

  it('SharedBarrier.waitSync() on a thread without a seat blocks until its round ends, and gets its index', async () => {
    const objects = threads(3, 3);
    const b = objects[0]!;
    const w = wordsOf(b);
    for (let i = 2; i < 34; i++) Atomics.store(w, i, 1); // every seat taken (RESERVED) by other threads
    const first = track(objects[1]!.wait());
    const stub = sinon.stub(Atomics, 'wait').callsFake(((
      array: Int32Array,
      index: number,
      value: number,
      ms?: number,
    ) => {
      if (!on(b, array, index, 35)) return realWait(array, index, value, ms);
      void objects[2]!.wait(); // the last party arrives on another thread as this one blocks
      return realWait(array, index, value, ms);
    }) as never);
    try {
      expect(b.waitSync()).to.equal(1);
    } finally {
      stub.restore();
    }
    await until(() => first.state === 'fulfilled', 'the other thread');
    expect(first.value).to.equal(0);
    for (let i = 2; i < 34; i++) Atomics.store(w, i, 0);
    expect(hall(b)).to.equal(0);
  });

  it('SharedBarrier without Atomics.waitAsync: a thread without a seat polls the log, and learns how its round ended', async () => {
    const objects = threads(40, 40);
    delete (Atomics as { waitAsync?: unknown }).waitAsync;
    const waits = objects.slice(0, 39).map((o) => o.wait());
    expect(hall(objects[0]!)).to.equal(7);
    await new Promise((r) => setTimeout(r, 3));
    expect(await objects[39]!.wait()).to.equal(39);
    expect((await Promise.all(waits)).sort((a, b) => a - b)).to.deep.equal([...Array(39).keys()]);
    const broken = objects.slice(0, 35).map((o) => o.wait());
    objects[0]!.abort();
    for (const w of broken) await brokenWith(w, /abort\(\) was called/);
    expect(hall(objects[0]!)).to.equal(0);
    expect(seats(objects[0]!).every((v) => v === 0)).to.equal(true);
  });

  it('SharedBarrier without Atomics.waitAsync: a thread polls its seat, and rounds still pass', async () => {
    const b = new SharedBarrier(3);
    const other = new SharedBarrier(3, b.buffer);
    delete (Atomics as { waitAsync?: unknown }).waitAsync;
    for (let round = 0; round < 3; round++) {
      const waits = [other.wait(), other.wait(1_000)];
      await new Promise((r) => setTimeout(r, 3));
      expect(await b.wait()).to.equal(2);
      expect(await Promise.all(waits)).to.deep.equal([0, 1]);
    }
    const timed = other.wait(5);
    await brokenWith(timed, /a waiter timed out/);
    expect(seats(b).every((v) => v === 0)).to.equal(true);
  });
});

function crossThread(noWaitAsync: boolean): void {
  describe(`SharedBarrier across threads${noWaitAsync ? ' (polling fallback)' : ''}`, () => {
    const workers = noWaitAsync ? 3 : 8;
    // A round reaching a polling thread waits for its next poll (up to 32 ms): fewer rounds there.
    const rounds = noWaitAsync ? 100 : 10_000;
    let buffer: SharedArrayBuffer;
    let agents: BarrierAgent[];
    let barrier: SharedBarrier;
    before(async () => {
      if (noWaitAsync) delete (Atomics as { waitAsync?: unknown }).waitAsync;
      buffer = new SharedArrayBuffer(barrierBytes(workers * rounds));
      agents = await Promise.all(Array.from({ length: workers }, () => startBarrierAgent(buffer, { noWaitAsync })));
    });
    beforeEach(() => {
      // Fresh memory for each test: a barrier is set up by its first object.
      new Int32Array(buffer).fill(0);
    });
    after(async () => {
      Atomics.waitAsync = realWaitAsync;
      await Promise.all(agents.map((a) => a.terminate()));
    });

    it(`SharedBarrier: ${workers} workers through ${rounds.toLocaleString('en')} rounds, each index 0..${workers - 1} once per round, nobody ahead`, async function () {
      this.timeout(120_000);
      barrier = new SharedBarrier(workers, buffer);
      const runs = agents.map((a, me) => a.call({ op: 'rounds', parties: workers, rounds, me, sync: me % 2 === 1 }));
      const early = await within(Promise.all(runs), 110_000, 'the rounds');
      expect(early).to.deep.equal(new Array(workers).fill(0));
      const log = barrierData(buffer);
      let bad = 0;
      for (let round = 0; round < rounds; round++) {
        const who = Array.from(log.subarray(LOG + round * workers, LOG + (round + 1) * workers)).sort((a, b) => a - b);
        if (who.some((w, i) => w !== i + 1)) bad++;
      }
      expect(bad, 'rounds whose indexes were not each given once').to.equal(0);
      expect([barrier.waiting, barrier.broken]).to.deep.equal([0, false]);
      expect(seats(barrier).every((v) => v === 0)).to.equal(true);
    });

    it('SharedBarrier: a wait(timeout) that runs out in a worker breaks the barrier for a waiter of the main thread', async () => {
      barrier = new SharedBarrier(3, buffer);
      const mine = brokenWith(barrier.wait(), /broke before all 3 parties arrived \(a waiter timed out\)/);
      const theirs = agents[0]!.call({ op: 'wait', parties: 3, timeout: 30 });
      await mine;
      expect(await theirs).to.match(/rejected: BrokenBarrierError: .*a waiter timed out/);
      expect(barrier.broken).to.equal(true);
      barrier.reset();
    });

    it('SharedBarrier: a wait aborted in a worker rejects with its reason there, and breaks the round for the main thread', async () => {
      barrier = new SharedBarrier(3, buffer);
      const mine = brokenWith(barrier.wait(10_000), /a waiter was aborted/);
      expect(await agents[0]!.call({ op: 'wait', parties: 3, abortAfter: 10 })).to.equal(
        'rejected: Error: aborted in worker',
      );
      await mine;
    });

    it('SharedBarrier.waitSync() in a worker: released with its index by the main thread, broken by its own timeout, or by abort()', async () => {
      barrier = new SharedBarrier(2, buffer);
      const blocked = agents[0]!.call({ op: 'waitSync', parties: 2 });
      await until(() => barrier.waiting === 1, 'the worker waiting');
      expect(await barrier.wait()).to.equal(1);
      expect(await within(blocked, 5_000, 'waitSync')).to.equal(0);
      expect(await agents[1]!.call({ op: 'waitSync', parties: 2, timeout: 20 })).to.match(
        /rejected: BrokenBarrierError: SharedBarrier\.waitSync\(\): .*a waiter timed out/,
      );
      barrier.reset();
      const aborted = agents[1]!.call({ op: 'waitSync', parties: 2 });
      await until(() => barrier.waiting === 1, 'the worker waiting');
      barrier.abort();
      expect(await within(aborted, 5_000, 'waitSync')).to.match(/abort\(\) was called/);
    });

    it('SharedBarrier: posted to a worker as it is and rebuilt there with from(), it is the same barrier', async () => {
      barrier = new SharedBarrier(2, buffer);
      expect(await agents[0]!.call({ op: 'rebuild', posted: barrier })).to.deep.equal({ parties: 2, again: true });
      const theirs = agents[0]!.call({ op: 'wait', parties: 2 });
      await until(() => barrier.waiting === 1, 'the worker waiting');
      expect(await barrier.wait()).to.equal(1);
      expect(await theirs).to.equal(0);
    });

    it('SharedBarrier: built again in a worker over memory in use, it resets nothing: the worker completes the round', async () => {
      barrier = new SharedBarrier(2, buffer);
      const mine = track(barrier.wait());
      expect(await agents[0]!.call({ op: 'wait', parties: 2 })).to.equal(1);
      await until(() => mine.state === 'fulfilled', 'the main thread released');
      expect(mine.value).to.equal(0);
    });
  });
}

crossThread(false);
crossThread(true);

describe('SharedBarrier across more threads than it has seats', () => {
  it('SharedBarrier: 40 workers through 300 rounds of a barrier of 40 parties (32 seats), each index 0..39 once per round, nobody ahead', async function () {
    this.timeout(120_000);
    const workers = 40;
    const rounds = 300;
    const buffer = new SharedArrayBuffer(barrierBytes(workers * rounds));
    const barrier = new SharedBarrier(workers, buffer);
    const agents = await Promise.all(
      Array.from({ length: workers }, () => startBarrierAgent(buffer, { bundle: true })),
    );
    try {
      const runs = agents.map((a, me) => a.call({ op: 'rounds', parties: workers, rounds, me, sync: me % 4 === 1 }));
      const early = await within(Promise.all(runs), 110_000, 'the rounds');
      expect(early).to.deep.equal(new Array(workers).fill(0));
      const log = barrierData(buffer);
      let bad = 0;
      for (let round = 0; round < rounds; round++) {
        const who = Array.from(log.subarray(LOG + round * workers, LOG + (round + 1) * workers)).sort((a, b) => a - b);
        if (who.some((w, i) => w !== i + 1)) bad++;
      }
      expect(bad, 'rounds whose indexes were not each given once').to.equal(0);
      expect([barrier.waiting, barrier.broken, hall(barrier)]).to.deep.equal([0, false, 0]);
      expect(seats(barrier).every((v) => v === 0)).to.equal(true);
    } finally {
      await Promise.all(agents.map((a) => a.terminate()));
    }
  });
});

describe('SharedBarrier: faults', () => {
  it('SharedBarrier: a worker terminated while it waits (async or blocked in waitSync) breaks the barrier when its round ends', async () => {
    const buffer = new SharedArrayBuffer(barrierBytes(0));
    const barrier = new SharedBarrier(4, buffer);
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => startBarrierAgent(buffer)));
    try {
      void a!.call({ op: 'wait', parties: 4 }).catch(() => {});
      void b!.call({ op: 'waitSync', parties: 4 }).catch(() => {});
      await until(() => barrier.waiting === 2, 'both workers waiting');
      await a!.terminate();
      await b!.terminate();
      const live = c!.call({ op: 'wait', parties: 4, timeout: 10_000 });
      await until(() => barrier.waiting === 3, 'the third worker waiting');
      // The round completes (everyone arrived); the gone threads are found, and the barrier breaks.
      expect(await barrier.wait()).to.equal(3);
      expect(await within(live, 10_000, 'the live waiter')).to.equal(2);
      expect(barrier.broken).to.equal(true);
      await brokenWith(barrier.wait(), /the barrier is broken \(a waiting thread was terminated\)/);
      barrier.reset();
      expect(seats(barrier).filter((v) => (v & 7) !== 0 && (v & 7) !== 5)).to.deep.equal([]);
    } finally {
      await Promise.all([a, b, c].map((x) => x!.terminate()));
    }
  });

  it('SharedBarrier: workers terminated at random moments while the others go round: nobody hangs', async function () {
    this.timeout(60_000);
    for (let trial = 0; trial < 6; trial++) {
      const buffer = new SharedArrayBuffer(barrierBytes(0));
      const barrier = new SharedBarrier(4, buffer);
      const agents = await Promise.all([0, 1, 2, 3].map(() => startBarrierAgent(buffer)));
      try {
        // Timed waits: a worker terminated between two rounds (not waiting) is not found; the others
        // time out in the round it never reaches, which breaks the barrier too.
        const loops = agents.map((a) => a.call({ op: 'loop', parties: 4, timeout: 1_000 }));
        const victim = trial % 4;
        void loops[victim]!.catch(() => {});
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 40));
        await agents[victim]!.terminate();
        const ends = (await within(
          Promise.all(loops.filter((_, i) => i !== victim)),
          20_000,
          'the surviving workers',
        )) as { passed: number; error: string }[];
        for (const end of ends) {
          expect(end.error).to.match(/a waiting thread was terminated|a waiter timed out/);
        }
        expect(barrier.broken).to.equal(true);
      } finally {
        await Promise.all(agents.map((a) => a.terminate()));
      }
    }
  });
});

describe('SharedBarrier: Node worker lifetime', () => {
  for (const where of ['in a seat', 'in the hall'] as const) {
    it(`SharedBarrier: a worker with a pending wait() (${where}) stays alive until its round passes, then exits by itself`, async () => {
      const barrier = new SharedBarrier(2);
      const words = new Int32Array(barrier.buffer);
      // Every seat taken (RESERVED) by threads that are not in the test: the worker waits in the hall.
      if (where === 'in the hall') for (let i = 2; i < 34; i++) Atomics.store(words, i, 1);
      const worker = new Worker(new URL('../workers/boot.mjs', import.meta.url), {
        workerData: { entry: '../fixtures/barrier-lifetime.ts', buffer: barrier.buffer },
      });
      const said: string[] = [];
      worker.on('message', (m: string) => said.push(m));
      const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
      await until(() => barrier.waiting === 1, 'the worker waiting');
      expect(hall(barrier)).to.equal(where === 'in the hall' ? 1 : 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(said).to.deep.equal([]);
      expect(await barrier.wait()).to.equal(1);
      expect(await within(exited, 10_000, 'the worker exiting')).to.equal(0);
      expect(said).to.deep.equal(['passed with index 0']);
      expect(hall(barrier)).to.equal(0);
      expect(engineWaiters(barrier)).to.equal(0);
    });
  }
});

describe('SharedBarrier: races, another thread stepping in between two steps of this one', () => {
  // Barrier objects over one buffer are threads; word 0 holds the parties, word 1 the state (COUNT in
  // bits 0..15, how the last round ended in 16..18, the round in 19..31), words 2 to 33 the seats
  // (state bits 0..2: WAITING 2, TOLD 4, DEAD 5; how 3..5; round 6..18), word 34 the hall (how many
  // seatless threads are in line), 35 the bell, 36 to 67 the log (a round's record at 36 + round % 32:
  // bit 0 set, how in 1..3, the round in 4..16).
  const STATE = 1;
  const SEAT = 2;
  const BELL = 35;
  const LOG = 36;
  const PASSED = 0;
  const RESET = 4;
  /** The state word once `round` ended so, as the thread ending it writes it. */
  const ended = (round: number, how: number) => (((round + 1) & 0x1fff) << 19) | (how << 16);
  const told = (round: number, how: number) => (round << 6) | (how << 3) | 4;
  const logged = (round: number, how: number) => (round << 4) | (how << 1) | 1;
  afterEach(noRaces);

  /** Nothing left behind: no seat taken, nobody in the hall, no engine waiter. */
  const expectClean = (b: SharedBarrier) => {
    expect(seats(b)).to.deep.equal(new Array(32).fill(0));
    expect(hall(b)).to.equal(0);
    expect(engineWaiters(b)).to.equal(0);
  };
  /** Every seat taken (RESERVED) by threads that are not in the test: the threads in it go to the hall. */
  const takeEverySeat = (b: SharedBarrier, value = 1) => {
    for (let i = 0; i < 32; i++) Atomics.store(wordsOf(b), SEAT + i, value);
  };

  for (const [when, round] of [
    ['its round is the first', 0],
    ['the record there is of 32 rounds before', 32],
  ] as const) {
    it(`SharedBarrier: a seatless thread that looks as its round ends, before the ender logs it (${when}), waits for the record`, async () => {
      const [a, b] = threads(2, 2);
      const w = wordsOf(a);
      takeEverySeat(a);
      if (round > 0) {
        Atomics.store(w, STATE, ended(round - 1, PASSED));
        Atomics.store(w, LOG, 1); // round 0 passed
      }
      const first = track(a!.wait());
      let second: ReturnType<typeof track<number>> | undefined;
      // b completes the round; a arrives again (in the next round) before b has logged how it ended.
      const stepped = at(
        'compareExchange',
        (array, index) => on(a!, array, index, LOG),
        (real) => {
          second = track(a!.wait());
          return real();
        },
      );
      expect(await b!.wait()).to.equal(1);
      expect(stepped.fired).to.equal(true);
      await until(() => first.state === 'fulfilled', 'the first round, for a');
      expect(first.value).to.equal(0);
      expect([second!.state, hall(a!)]).to.deep.equal(['pending', 1]);
      expect(await b!.wait()).to.equal(1);
      await until(() => second!.state === 'fulfilled', 'the second round, for a');
      expect(second!.value).to.equal(0);
      takeEverySeat(a, 0);
      expectClean(a!);
    });
  }

  it('SharedBarrier: an ender held up between ending its round and logging it, as 32 more rounds end, leaves the newer record: its seatless threads learn theirs was lost', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    takeEverySeat(a);
    const p = track(a!.wait());
    await flush();
    const held = at(
      'compareExchange',
      (array, index) => on(a!, array, index, LOG),
      (real) => {
        // Meanwhile other threads went through rounds 1 to 32, and logged round 32 in the same place.
        Atomics.store(w, STATE, ended(32, PASSED));
        Atomics.store(w, LOG, logged(32, PASSED));
        return real();
      },
    );
    expect(await b!.wait()).to.equal(1);
    expect(held.fired).to.equal(true);
    expect(Atomics.load(w, LOG)).to.equal(logged(32, PASSED));
    await until(() => p.state === 'rejected', 'a rejected');
    expect((p.reason as Error).message).to.match(/how its round ended was lost: its thread fell 32 rounds behind/);
    takeEverySeat(a, 0);
    expectClean(a!);
  });

  it('SharedBarrier: a seatless thread whose round ends as it gets in line (in the hall, not yet counted in) waits in the next round', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    takeEverySeat(a);
    at(
      'compareExchange',
      (array, index, expected, replacement) => on(a!, array, index, STATE) && replacement === expected! + 1,
      (real) => {
        b!.reset();
        return real();
      },
    );
    const p = track(a!.wait());
    await flush();
    expect([p.state, Atomics.load(w, STATE), hall(a!)]).to.deep.equal(['pending', ended(0, RESET) + 1, 1]);
    expect(await b!.wait()).to.equal(1);
    await until(() => p.state === 'fulfilled', 'a released');
    expect(p.value).to.equal(0);
    takeEverySeat(a, 0);
    expectClean(a!);
  });

  it('SharedBarrier: a seatless thread whose round ends as it registers its first engine waiter on the bell learns how it ended', async () => {
    const [a, b] = threads(2, 2);
    takeEverySeat(a);
    const rang = at(
      'waitAsync',
      (array, index) => on(a!, array, index, BELL),
      (real) => {
        b!.reset(); // logs the round, rings the bell
        return real();
      },
    );
    const p = track(a!.wait());
    expect(rang.fired).to.equal(true);
    await until(() => p.state === 'rejected', 'a rejected');
    expect((p.reason as Error).message).to.match(/broke before all 2 parties arrived \(reset\(\) was called\)/);
    takeEverySeat(a, 0);
    expectClean(a!);
  });

  it('SharedBarrier: a seatless thread woken by a stray notify, whose round ends as it registers again, learns how it ended', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    takeEverySeat(a);
    const p = track(a!.wait());
    await flush();
    const raced = at(
      'waitAsync',
      (array, index) => on(a!, array, index, BELL),
      (real) => {
        void b!.wait();
        return real();
      },
    );
    Atomics.notify(w, BELL);
    await until(() => p.state === 'fulfilled', 'a released');
    expect(raced.fired).to.equal(true);
    expect(p.value).to.equal(0);
    takeEverySeat(a, 0);
    expectClean(a!);
  });

  it('SharedBarrier: a live thread between two engine waiters when its round ends (the notify wakes nobody) answers the second look: nothing breaks', async () => {
    const [a, b] = threads(2, 2);
    const first = track(a!.wait()); // a's seat published, its engine waiter registered
    await flush();
    // The ender's notify of a's seat finds no engine waiter (a late notify took it, a new one is not yet
    // registered): it wakes nobody. The engine waiter there now answers the look that follows.
    const missed = at(
      'notify',
      (array, index) => on(a!, array, index, SEAT),
      () => 0,
    );
    expect(await b!.wait()).to.equal(1);
    expect(missed.fired).to.equal(true);
    await until(() => first.state === 'fulfilled', 'the round passed for a');
    expect(first.value).to.equal(0);
    expect(a!.broken).to.equal(false);
    expect(await Promise.all([a!.wait(), b!.wait()])).to.have.members([0, 1]);
    expectClean(a!);
  });

  it('SharedBarrier.wait() on a thread whose earlier round ended, not told yet, learns how from the state word and waits in the new round', async () => {
    const [a, b, c] = threads(3, 3);
    const w = wordsOf(a);
    const first = track(a!.wait());
    let second: ReturnType<typeof track<number>> | undefined;
    // b resets: it has ended the round and is about to tell a's seat when a waits again.
    const stepped = at(
      'compareExchange',
      (array, index, _expected, replacement) => on(a!, array, index, SEAT) && (replacement! & 7) === 4,
      (real) => {
        second = track(a!.wait());
        return real();
      },
    );
    b!.reset();
    expect(stepped.fired).to.equal(true);
    await flush();
    expect((first.reason as Error).message).to.match(/reset\(\) was called/);
    expect(Atomics.load(w, STATE) & 0xffff).to.equal(1);
    const rest = [b!.wait(), c!.wait()];
    expect(await Promise.all(rest)).to.deep.equal([1, 2]);
    await until(() => second!.state === 'fulfilled', 'the new round');
    expect(second!.value).to.equal(0);
    expectClean(a!);
  });

  it('SharedBarrier.wait() whose round ends as it gets in line (its seat published, not yet counted in) takes its seat back and waits in the next round', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    // Another thread ends the round between a's publishing its seat and a's counting itself in, and has
    // not told a's seat: a was not in that round.
    at(
      'compareExchange',
      (array, index, expected, replacement) => on(a!, array, index, STATE) && replacement === expected! + 1,
      (real) => {
        Atomics.store(w, STATE, ended(0, RESET));
        return real();
      },
    );
    const p = track(a!.wait());
    await flush();
    expect(p.state).to.equal('pending');
    expect(Atomics.load(w, STATE)).to.equal(ended(0, RESET) + 1);
    expect(await b!.wait()).to.equal(1);
    await until(() => p.state === 'fulfilled', 'a released');
    expect(p.value).to.equal(0);
    expectClean(a!);
  });

  it('SharedBarrier.wait() on a thread whose earlier round ended, told just as it looks at the state word, takes the news from its seat', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    const first = track(a!.wait());
    Atomics.store(w, STATE, ended(0, PASSED)); // another thread completed the round, and is telling
    at(
      'compareExchange',
      (array, index, _expected, replacement) => on(a!, array, index, SEAT) && replacement === 1,
      (real) => {
        Atomics.store(w, SEAT, told(0, PASSED)); // its news reaches a's seat
        return real();
      },
    );
    const second = track(a!.wait());
    await flush();
    expect(first.value).to.equal(0);
    expect(await b!.wait()).to.equal(1);
    await until(() => second.state === 'fulfilled', 'the new round');
    expect(second.value).to.equal(0);
    expectClean(a!);
  });

  it('SharedBarrier.wait() whose round ends and is told as it gets in line waits in the next round', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    at(
      'compareExchange',
      (array, index, expected, replacement) => on(a!, array, index, STATE) && replacement === expected! + 1,
      (real) => {
        Atomics.store(w, STATE, ended(0, RESET));
        Atomics.store(w, SEAT, told(0, RESET));
        return real();
      },
    );
    const p = track(a!.wait());
    await flush();
    expect(p.state).to.equal('pending');
    expect(await b!.wait()).to.equal(1);
    await until(() => p.state === 'fulfilled', 'a released');
    expect(p.value).to.equal(0);
    expectClean(a!);
  });

  it('SharedBarrier: a seat its round’s ender never told (terminated as it told) is told by the next round’s ender, and breaks nothing 8192 rounds later', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    // Round 8191 (the one before round 0, modulo 8192) ended, and its ender was terminated before it told
    // the seat of a thread that is gone too.
    Atomics.store(w, SEAT + 5, (8191 << 6) | 2);
    expect(await Promise.all([a!.wait(), b!.wait()])).to.have.members([0, 1]);
    expect(Atomics.load(w, SEAT + 5), 'told by the ender of round 0').to.equal(told(8191, PASSED));
    for (let round = 1; round <= 8192; round++) await Promise.all([a!.wait(), b!.wait()]);
    expect(a!.broken).to.equal(false);
    Atomics.store(w, SEAT + 5, 0);
    expectClean(a!);
  });

  it('SharedBarrier: a thread its round’s ender did not tell (terminated as it told) learns how its round ended when the next round ends', async () => {
    const [a, b, c] = threads(2, 3);
    const w = wordsOf(a);
    const p = track(c!.wait()); // index 0 of round 0
    await flush();
    // Another thread arrives last, ends round 0, and is terminated before it tells c's seat.
    Atomics.store(w, STATE, ended(0, PASSED));
    await flush();
    expect(p.state).to.equal('pending');
    expect(await Promise.all([a!.wait(), b!.wait()])).to.have.members([0, 1]); // round 1: its ender tells c
    await until(() => p.state === 'fulfilled', 'c told');
    expect(p.value).to.equal(0);
    expectClean(a!);
  });

  it('SharedBarrier: a seat in line for a round 32 or more rounds back is told its outcome was lost; one 2 to 31 rounds back, or in line for a newer round, is left as it is', async () => {
    const [a, b, c, d] = threads(2, 4);
    const w = wordsOf(a);
    const lost = track(c!.wait()); // round 0, seat 0
    await flush();
    Atomics.store(w, STATE, ended(29, PASSED)); // rounds 0 to 29 ended elsewhere, c not told
    const later = track(d!.wait()); // round 30, seat 1
    await flush();
    Atomics.store(w, STATE, ended(31, PASSED)); // rounds 30 and 31 too, d not told yet
    Atomics.store(w, SEAT + 10, (33 << 6) | 2); // a thread in line for round 33 already, as seen by a slow ender
    expect(await Promise.all([a!.wait(), b!.wait()])).to.have.members([0, 1]); // round 32
    await brokenWith(
      (async () => {
        await until(() => lost.state !== 'pending', 'c told');
        if (lost.state === 'rejected') throw lost.reason;
      })(),
      /how its round ended was lost/,
    );
    expect(Atomics.load(w, SEAT + 1), "d's seat, left to its round's ender").to.equal((30 << 6) | 2);
    expect(Atomics.load(w, SEAT + 10)).to.equal((33 << 6) | 2);
    Atomics.store(w, SEAT + 10, 0);
    Atomics.store(w, SEAT + 1, told(30, PASSED)); // as round 30's ender does
    Atomics.notify(w, SEAT + 1);
    await until(() => later.state === 'fulfilled', 'd told');
    expect(later.value).to.equal(0);
    expect(a!.broken).to.equal(false);
    expectClean(a!);
  });

  describe('with a fake clock', () => {
    let clock: ReturnType<typeof fakeClock>;
    withFakeClock((c) => (clock = c));

    it('SharedBarrier.wait(ms) whose round passed elsewhere, two rounds ago and not told yet, waits past its deadline for the news and gets its index', async () => {
      const [a] = threads(2, 1);
      const w = wordsOf(a);
      const p = track(a!.wait(50));
      Atomics.store(w, STATE, ended(1, PASSED)); // rounds 0 and 1 passed; a's seat not told yet
      clock.tick(60);
      await flush();
      expect(p.state).to.equal('pending');
      expect(clock.countTimers()).to.equal(0);
      Atomics.store(w, SEAT, told(0, PASSED));
      Atomics.notify(w, SEAT);
      // The engine's wake-up is a task of its own, which the fake clock does not run: let real time pass.
      const idle = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 200 && p.state === 'pending'; i++) await Atomics.waitAsync(idle, 0, 0, 5).value;
      expect(p.value).to.equal(0);
      expectClean(a!);
    });

    it('SharedBarrier: a seat left told by a thread gone before it claimed is freed by a thread that finds every seat taken and sees it unchanged for 1 s', async () => {
      const [a, b] = threads(2, 2);
      const w = wordsOf(a);
      // Round 0 passed; 31 threads were told so, and were terminated before they claimed their seats; the
      // last seat is RESERVED (a thread between two steps): nobody frees that one.
      for (let i = 0; i < 31; i++) Atomics.store(w, SEAT + i, told(0, PASSED));
      Atomics.store(w, SEAT + 31, 1);
      Atomics.store(w, STATE, ended(0, PASSED));
      /** Lets the engine's wake-ups run (tasks of their own, which the fake clock does not run). */
      const settle = async (p: { state: string }) => {
        const idle = new Int32Array(new SharedArrayBuffer(4));
        for (let i = 0; i < 200 && p.state === 'pending'; i++) await Atomics.waitAsync(idle, 0, 0, 5).value;
      };
      const first = track(a!.wait()); // every seat taken: a waits in the hall, and remembers the seats
      expect(hall(a!)).to.equal(1);
      expect(await b!.wait()).to.equal(1);
      await settle(first);
      expect(first.value).to.equal(0);
      clock.tick(1_000);
      // The owner of the first seat claims it just as a frees it: that one stays its owner's.
      const raced = at(
        'compareExchange',
        (array, index, expected) => on(a!, array, index, SEAT) && expected === told(0, PASSED),
        (real) => {
          Atomics.store(w, SEAT, 1);
          return real();
        },
      );
      const second = track(a!.wait());
      expect(hall(a!), 'a sits').to.equal(0);
      expect(raced.fired).to.equal(true);
      expect(seats(a!).map((v) => v & 7)).to.deep.equal([1, 2, ...new Array(29).fill(5), 1]);
      expect(await b!.wait()).to.equal(1);
      await settle(second);
      expect(second.value).to.equal(0);
      expect(seats(a!)[1]).to.equal(0); // a left its seat
    });
  });

  it('SharedBarrier: a waiting thread taken for gone as it re-arms (a stray wake-up) still gets its index, and the barrier breaks', async () => {
    const [a, b] = threads(2, 2);
    const w = wordsOf(a);
    const p = track(a!.wait());
    await flush();
    // A stray notify wakes a; just before a registers its engine waiter again, b arrives last: its
    // notify wakes nobody on a's seat, which it takes for gone.
    const raced = at(
      'waitAsync',
      (array, index) => on(a!, array, index, SEAT),
      (real) => {
        void b!.wait();
        expect(Atomics.load(w, SEAT) & 7).to.equal(5); // DEAD
        return real();
      },
    );
    Atomics.notify(w, SEAT);
    await until(() => p.state === 'fulfilled', 'a released');
    expect(raced.fired).to.equal(true);
    expect(p.value).to.equal(0);
    expect(a!.broken).to.equal(true);
    await brokenWith(a!.wait(), /the barrier is broken \(a waiting thread was terminated\)/);
    a!.reset();
    expectClean(a!);
  });

  it('SharedBarrier: a waiting thread taken for gone whose seat another thread took since rejects as broken', async () => {
    const [a, b, c] = threads(2, 3);
    const w = wordsOf(a);
    const p = track(a!.wait());
    await flush();
    let cWait: Promise<number> | undefined;
    at(
      'waitAsync',
      (array, index) => on(a!, array, index, SEAT),
      (real) => {
        void b!.wait(); // takes a for gone, and breaks the barrier
        c!.reset();
        cWait = c!.wait(); // sits on a's dead seat
        expect(Atomics.load(w, SEAT) & 7).to.equal(2);
        return real();
      },
    );
    Atomics.notify(w, SEAT);
    await until(() => p.state === 'rejected', 'a rejected');
    expect((p.reason as Error).message).to.match(/a waiting thread was terminated/);
    b!.abort();
    await brokenWith(cWait!, /abort\(\) was called/);
    b!.reset();
    expectClean(a!);
  });

  it('SharedBarrier.waitSync() whose timeout runs out just after its round ended elsewhere waits for the news, and returns its index', () => {
    const [a] = threads(2, 1);
    const w = wordsOf(a);
    let calls = 0;
    const stub = sinon.stub(Atomics, 'wait').callsFake(((
      array: Int32Array,
      index: number,
      value: number,
      ms?: number,
    ) => {
      if (!on(a!, array, index, SEAT)) return realWait(array, index, value, ms);
      calls++;
      if (ms !== undefined) {
        realWait(array, index, value, ms); // the timeout runs out...
        Atomics.store(w, STATE, ended(0, PASSED)); // ...as another thread completes the round
        return 'timed-out';
      }
      Atomics.store(w, SEAT, told(0, PASSED)); // that thread's news reaches this seat
      return 'ok';
    }) as never);
    try {
      expect(a!.waitSync(2)).to.equal(0);
    } finally {
      stub.restore();
    }
    expect(calls).to.be.at.least(2);
    expectClean(a!);
  });

  it('SharedBarrier.wait(0) that loses the state word to another arrival turns out last, and completes the round', async () => {
    const [a, b] = threads(2, 2);
    let other: Promise<number> | undefined;
    at(
      'compareExchange',
      (array, index, _expected, replacement) => on(a!, array, index, STATE) && ((replacement! >>> 16) & 7) === 1,
      (real) => {
        other = b!.wait();
        return real();
      },
    );
    expect(await a!.wait(0)).to.equal(1);
    expect(await other).to.equal(0);
    expect(a!.broken).to.equal(false);
    expectClean(a!);
  });
});
