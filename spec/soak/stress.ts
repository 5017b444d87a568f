/**
 * `npm run stress`: the cross-thread primitives under hostile load, in four runs that each print their
 * figures; exits 1 when a promise broke.
 *
 * - churn: 10 workers take one SharedLock for 60 s (`-- --seconds N`) by acquire(), acquire(5),
 *   acquireSync(5) and runExclusive(), each entry incrementing a plain (non-atomic) counter under the
 *   lock. The counter must equal the entries made, and the lock be free with every seat free at the end.
 * - pulses: this thread runs 1,000,000 `set(); clear()` pulses of a SharedEvent (at least 10 µs apart)
 *   while 2 workers loop on `wait(5)`, every other one with the thread then busy for 10 ms (past the
 *   deadline). A timed wait that returns false although a set() ran inside it is a lost wake-up: must
 *   be 0 (the event's generation tells, read just before and after it sampled the word and as it settled;
 *   a wait whose thread was held up over 2 ms past its due time cannot tell, and is counted apart).
 * - objects: 50,000 SharedEvents and 50,000 SharedLocks made and dropped, each with a wait that timed out
 *   (1 ms) or was aborted, twice: the heap after a full GC before and after each round (the second must
 *   not grow), and the engine waiters still pending on the words of some more, whose buffers are kept
 *   (must be 0).
 *
 * - kills: 8 workers churn on one SharedLock and one SharedCondition (acquire, acquireSync, wait(1),
 *   notify) for 60 s (`-- --seconds N`), each terminated at a random moment 5 to 50 ms after it started
 *   and replaced. Then this thread alone: the seats the killed workers left taken are counted; the lock
 *   is released on their behalf if held; 33 threads take the lock in turn (held for 1.1 s first: one of
 *   them finds every seat taken) and 33 wait on the condition in a loop for 1.1 s, then notifyAll. Every
 *   seat of both must then be free (FREE or DEAD): a seat whose thread is gone is reusable.
 *
 * `-- --only churn|pulses|objects|kills` runs one part. Not part of npm test: it runs for minutes on purpose.
 */
import { Worker } from 'node:worker_threads';
import { SharedCondition, SharedEvent, SharedLock } from '../../lib/index.js';

const argv = process.argv;
const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const seconds = Number(option('--seconds') ?? 60);
const only = option('--only');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run stress does)');
const lib = new URL('../../dist/index.js', import.meta.url).pathname;

let failed = false;
const check = (ok: boolean, what: string) => {
  if (!ok) failed = true;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};
const pause = () => new Promise((resolve) => setImmediate(resolve));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await pause();
    gc!();
  }
  return process.memoryUsage().heapUsed;
}

/** Runs `code` (CommonJS, `lib` in workerData) in a worker; resolves with the one message it posts. */
function run(code: string, workerData: object): Promise<unknown> {
  const worker = new Worker(code, { eval: true, workerData: { lib, ...workerData } });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before answering`)));
  });
}

async function churn(): Promise<void> {
  const buffer = new SharedArrayBuffer(SharedLock.BYTES + 8);
  const control = new Int32Array(buffer, SharedLock.BYTES, 2); // [0]: the counter, [1]: stop
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { SharedLock } = require(workerData.lib);
    const lock = new SharedLock(workerData.buffer, 0);
    const control = new Int32Array(workerData.buffer, SharedLock.BYTES, 2);
    const enter = () => { const c = control[0]; control[0] = c + 1; };
    (async () => {
      let entries = 0;
      for (let i = workerData.id; Atomics.load(control, 1) === 0; i++) {
        switch (i % 4) {
          case 0: await lock.acquire(); await null; enter(); entries++; lock.release(); break;
          case 1: if (await lock.acquire(5)) { enter(); entries++; lock.release(); } break;
          case 2: if (lock.acquireSync(5)) { enter(); entries++; lock.release(); } break;
          case 3: await lock.runExclusive(async () => { await null; enter(); entries++; }); break;
        }
      }
      parentPort.postMessage(entries);
    })();`;
  const done = Array.from({ length: 10 }, (_, id) => run(code, { buffer, id }));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  Atomics.store(control, 1, 1);
  const entries = ((await Promise.all(done)) as number[]).reduce((a, b) => a + b);
  const words = new Int32Array(buffer, 0, SharedLock.BYTES / 4);
  const left = Array.from(words).filter((v, i) => i !== 1 && v !== 0).length;
  console.log(`churn: 10 workers, ${seconds} s, ${entries.toLocaleString('en')} entries, counter ${control[0]}`);
  check(entries > 0 && entries === control[0], 'churn: the counter equals the entries (mutual exclusion held)');
  check(left === 0, 'churn: the lock is free and every seat free at the end');
}

async function pulses(): Promise<void> {
  const PULSES = 1_000_000;
  const buffer = new SharedArrayBuffer(SharedEvent.BYTES + 4);
  const event = new SharedEvent(buffer, 0);
  const done = new Int32Array(buffer, SharedEvent.BYTES, 1);
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { SharedEvent } = require(workerData.lib);
    const event = new SharedEvent(workerData.buffer, 0);
    const done = new Int32Array(workerData.buffer, workerData.done, 1);
    (async () => {
      let waits = 0, busy = 0, late = 0;
      const lost = [];
      const word = new Int32Array(workerData.buffer, 0, 1);
      for (let i = 0; Atomics.load(done, 0) === 0; i++) {
        // The generation (one more per set()) just before and after the wait samples the word, and as
        // it settles (a reaction of its own, in the same job): sets in between ran inside the wait.
        const from = Atomics.load(word, 0) >> 1;
        const start = performance.now();
        const p = event.wait(5).then((woken) => [woken, Atomics.load(word, 0) >> 1, performance.now() - start]);
        if (Atomics.load(word, 0) >> 1 !== from) continue; // a set() as it sampled: ambiguous
        let due = 5; // when the wait should settle at the latest, ms after it started
        if (i % 2 === 1) {
          await new Promise((r) => setImmediate(r));
          const until = performance.now() + 10;
          while (performance.now() < until);
          due = performance.now() - start;
          busy++;
        }
        const [woken, to, took] = await p;
        waits++;
        // Pulses come at least 10 µs apart: of 2 sets or more, one at most came after it settled, unless
        // the thread was held up (descheduled) between settling and reading: then it cannot tell.
        if (woken || to - from < 2) continue;
        if (took > Math.max(due, 5) + 2) late++;
        else lost.push({ sets: to - from, ms: took.toFixed(2), busy: i % 2 === 1 });
      }
      parentPort.postMessage({ waits, lost, busy, late });
    })();`;
  const results = [0, 1].map(() => run(code, { buffer, done: SharedEvent.BYTES }));
  await new Promise((resolve) => setTimeout(resolve, 500)); // the workers started
  const start = performance.now();
  for (let i = 0; i < PULSES; i++) {
    event.set();
    event.clear();
    for (const until = performance.now() + 0.01; performance.now() < until;);
  }
  const elapsed = performance.now() - start;
  Atomics.store(done, 0, 1);
  event.set();
  const r = (await Promise.all(results)) as { waits: number; lost: object[]; busy: number; late: number }[];
  const late = r.reduce((a, b) => a + b.late, 0);
  const waits = r.reduce((a, b) => a + b.waits, 0);
  const lost = r.reduce((a, b) => a + b.lost.length, 0);
  for (const l of r.flatMap((x) => x.lost)) console.log('  lost:', JSON.stringify(l));
  const busy = r.reduce((a, b) => a + b.busy, 0);
  console.log(
    `pulses: ${PULSES.toLocaleString('en')} in ${(elapsed / 1000).toFixed(1)} s; 2 workers, ` +
      `${waits.toLocaleString('en')} timed waits (${busy.toLocaleString('en')} with the thread busy past the deadline); ` +
      `${late} false with sets seen only after the thread was held up over 2 ms past its due time (cannot tell)`,
  );
  check(lost === 0, `pulses: timed waits that returned false although a set() ran inside them: ${lost}`);
}

/** Makes and drops `n` SharedEvents and `n` SharedLocks, each after a wait that timed out or was aborted. */
async function dropMany(n: number, sample: SharedArrayBuffer[]): Promise<void> {
  for (let batch = 0; batch < n / 1_000; batch++) {
    const ac = new AbortController();
    const waits: Promise<unknown>[] = [];
    for (let i = 0; i < 1_000; i++) {
      const e = new SharedEvent();
      if (i % 10 === 0) sample.push(e.buffer);
      waits.push(i % 2 === 0 ? e.wait(1) : e.wait({ signal: ac.signal }).catch(() => 'aborted'));
      const held = new SharedLock();
      held.acquireSync(0);
      const lock = new SharedLock(held.buffer);
      if (i % 10 === 0) sample.push(held.buffer);
      waits.push(i % 2 === 0 ? lock.acquire(1) : lock.acquire({ signal: ac.signal }).catch(() => 'aborted'));
    }
    ac.abort();
    await Promise.all(waits);
  }
}

async function objects(): Promise<void> {
  const N = 50_000;
  const heap = [await heapAfterGc()];
  // Twice: the first round also grows the engine's weak tables to the high-water mark of buffers not
  // collected yet (they do not shrink); a leak shows as growth in the second round as in the first.
  for (let round = 0; round < 2; round++) {
    await dropMany(N, []);
    heap.push(await heapAfterGc());
  }
  const sample: SharedArrayBuffer[] = [];
  await dropMany(N / 10, sample);
  for (let i = 0; i < 5; i++) await heapAfterGc(); // finalizers, then the engine waiters' own jobs
  let pending = 0;
  for (const b of sample) {
    const words = new Int32Array(b, 0, b.byteLength >> 2);
    for (let i = 0; i < words.length; i++) pending += Atomics.notify(words, i);
  }
  const [before, first, second] = heap as [number, number, number];
  console.log(
    `objects: ${N.toLocaleString('en')} SharedEvents and ${N.toLocaleString('en')} SharedLocks dropped after a ` +
      `timed-out or aborted wait, twice: heap ${mb(before)} -> ${mb(first)} -> ${mb(second)}; ` +
      `${pending} engine waiters pending on ${sample.length.toLocaleString('en')} buffers of ${(N / 10).toLocaleString('en')} more, kept`,
  );
  check(pending === 0, 'objects: no engine waiter left pending');
  check(second - first < 1e6, 'objects: no growth in the second round (within 1 MB)');
}

async function kills(): Promise<void> {
  const buffer = new SharedArrayBuffer(SharedLock.BYTES + SharedCondition.BYTES);
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { SharedLock, SharedCondition } = require(workerData.lib);
    const lock = new SharedLock(workerData.buffer, 0);
    const cond = new SharedCondition(lock, workerData.buffer, SharedLock.BYTES);
    const task = async (k) => {
      for (let i = k; ; i++) {
        if (i % 4 === 0) {
          if (lock.acquireSync(1)) { cond.notify(1); lock.release(); }
          await null;
        } else if (await lock.acquire(2)) {
          if (i % 4 === 1) await cond.wait(1); else cond.notify(2);
          lock.release();
        }
      }
    };
    for (let k = 0; k < 3; k++) void task(k);
    parentPort.postMessage('running');`;
  let killed = 0;
  const until = performance.now() + seconds * 1000;
  const slot = async () => {
    while (performance.now() < until) {
      const worker = new Worker(code, { eval: true, workerData: { lib, buffer } });
      await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 45));
      await worker.terminate();
      killed++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, slot));
  const words = new Int32Array(buffer);
  const seats = () => [
    ...Array.from(words.slice(2, 34)),
    ...Array.from(words.slice(SharedLock.BYTES / 4 + 1, SharedLock.BYTES / 4 + 65)).filter((_, i) => i % 2 === 0),
  ];
  const taken = (states: number[]) => states.filter((v) => (v & 7) !== 0 && (v & 7) !== 5).length;
  const left = taken(seats());
  const names = ['', 'reserved', 'waiting', 'polling', 'granted', '', 'woken'];
  const by = new Map<string, number>();
  for (const v of seats()) if (names[v & 7]) by.set(names[v & 7]!, (by.get(names[v & 7]!) ?? 0) + 1);
  const kinds = [...by].map(([k, n]) => `${n} ${k}`).join(', ');
  const wasHeld = (Atomics.load(words, 0) & 1) !== 0;
  const lock = new SharedLock(buffer, 0);
  // Pending waits of this thread keep no process alive (as with Lock), and polls are unref'd: this does.
  const alive = setInterval(() => {}, 1_000);
  if (lock.locked()) lock.release(); // on behalf of a killed worker
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  expectTrue(lock.tryAcquire(), 'kills: the lock free once released on behalf of the killed');
  const served = Array.from({ length: 33 }, () => new SharedLock(buffer, 0).runExclusive(() => {}));
  await sleep(1_100);
  lock.release();
  await Promise.all(served);
  let done = false;
  const woken = Array.from({ length: 33 }, async () => {
    const l = new SharedLock(buffer, 0);
    const c = new SharedCondition(l, buffer, SharedLock.BYTES);
    await l.acquire();
    while (!done) await c.wait(100);
    l.release();
  });
  await sleep(1_100);
  await lock.acquire();
  done = true;
  new SharedCondition(lock, buffer, SharedLock.BYTES).notifyAll();
  lock.release();
  await Promise.all(woken);
  clearInterval(alive);
  const unfreed = taken(seats());
  console.log(
    `kills: 8 workers on a lock and a condition, ${seconds} s, ${killed} terminated at random moments; ` +
      `they left ${left} of 64 seats taken (${kinds})${wasHeld ? ' and the lock held' : ''}; ` +
      `after 33 threads took the lock and 33 waited on the condition: ${unfreed} seats left unfreed`,
  );
  check(unfreed === 0, `kills: every seat whose thread was killed is reusable (${unfreed} left unfreed)`);
}

function expectTrue(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

for (const [name, part] of [
  ['churn', churn],
  ['pulses', pulses],
  ['objects', objects],
  ['kills', kills],
] as const) {
  if (only === undefined || only === name) await part();
}
process.exit(failed ? 1 : 0);
