/**
 * `npm run soak`: mixed operations of every primitive for a bounded time (60 s by default, `-- --seconds N`),
 * worker threads included, then prints what is left against what there was at the start: heap after a
 * full GC, live timers, abort listeners on the shared signal, engine waiters on the shared words.
 * Exits 1 when anything did not come back (heap within 1 MB; the others exactly).
 *
 * Not part of npm test: it runs for a minute on purpose.
 */
import { getEventListeners } from 'node:events';
import { Worker } from 'node:worker_threads';
import * as lib from '../../lib/index.js';

const { Barrier, BoundedSemaphore, Condition, Event, Lock, Semaphore, SharedEvent } = lib;
const seconds = process.argv.includes('--seconds') ? Number(process.argv[process.argv.indexOf('--seconds') + 1]) : 60;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run soak does)');

const pause = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await pause();
    gc!();
  }
  return process.memoryUsage().heapUsed;
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** A long-lived signal, as a service's shutdown signal is: every wait below uses it, none aborts it. */
const shutdown = new AbortController();
const listeners = () => getEventListeners(shutdown.signal, 'abort').length;

/** Shared words the workers and this thread wait on. */
const shared = new SharedArrayBuffer(2 * SharedEvent.BYTES);
const ping = new SharedEvent(shared, 0);
const pong = new SharedEvent(shared, SharedEvent.BYTES);
/** Engine waiters on a word (a notify wakes nothing that is not pending; a pending waiter re-arms). */
const engineWaiters = () =>
  Atomics.notify(new Int32Array(shared), 0) + Atomics.notify(new Int32Array(shared), SharedEvent.BYTES / 4);

let running = true;
const counts: Record<string, number> = {};
const count = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);

/** Mixed waits on one Event: released, timed out, aborted, on a set event. */
async function events() {
  const e = new Event();
  while (running) {
    const c = new AbortController();
    const waits = [
      e.wait(),
      e.wait(1),
      e.wait({ timeout: 5, signal: shutdown.signal }),
      e.wait({ signal: c.signal }).catch(() => 'aborted'),
    ];
    c.abort();
    await sleep(2);
    e.set();
    await Promise.all(waits);
    await e.wait(0);
    e.clear();
    count('event rounds');
  }
}

/** Three tasks through one Lock, with timeouts, aborts and runExclusive. */
async function locks() {
  const lock = new Lock();
  const task = async (i: number) => {
    while (running) {
      if (i === 0) {
        await lock.runExclusive(pause, { signal: shutdown.signal });
      } else if (await lock.acquire(i === 1 ? 1 : { timeout: 2, signal: shutdown.signal })) {
        await pause();
        lock.release();
      }
      count('lock turns');
    }
  };
  await Promise.all([task(0), task(1), task(2)]);
}

/** A producer and three consumers through a Condition, consumers with waitFor and timed wait. */
async function conditions() {
  const cond = new Condition();
  const items: number[] = [];
  let done = false;
  const consumer = async (timed: boolean) => {
    for (;;) {
      await cond.acquire();
      try {
        if (timed) while (items.length === 0 && !done) await cond.wait({ timeout: 3, signal: shutdown.signal });
        else await cond.waitFor(() => items.length > 0 || done, 50);
        if (items.length > 0) {
          items.shift();
          count('condition items');
        } else if (done) return;
      } finally {
        cond.release();
      }
    }
  };
  const producer = async () => {
    for (let i = 0; running; i++) {
      await cond.acquire();
      items.push(i);
      cond.notify();
      cond.release();
      if (i % 64 === 0) await sleep(1);
    }
    await cond.acquire();
    done = true;
    cond.notifyAll();
    cond.release();
  };
  await Promise.all([producer(), consumer(true), consumer(false), consumer(false)]);
}

/** Five tasks through a Semaphore(2) and a BoundedSemaphore(2), with guards and timeouts. */
async function semaphores() {
  const sem = new Semaphore(2);
  const bounded = new BoundedSemaphore(2);
  const task = async (i: number) => {
    while (running) {
      if (i % 2 === 0) {
        using _guard = await sem.lock({ signal: shutdown.signal });
        await pause();
      } else if (await bounded.acquire(i)) {
        await pause();
        bounded.release();
      }
      count('semaphore turns');
    }
  };
  await Promise.all([0, 1, 2, 3, 4].map(task));
}

/** Rounds of a Barrier(3); every 50th is broken by a party that times out before the last arrives. */
async function barriers() {
  const barrier = new Barrier(3);
  for (let round = 0; running; round++) {
    const breakIt = round % 50 === 49;
    const outcomes = await Promise.allSettled([
      barrier.wait({ timeout: breakIt ? 1 : 1_000, signal: shutdown.signal }),
      barrier.wait(1_000),
      (breakIt ? sleep(5) : Promise.resolve()).then(() => barrier.wait({ signal: shutdown.signal })),
    ]);
    if (outcomes.some((o) => o.status === 'rejected')) {
      barrier.reset();
      count('barrier breaks');
    } else count('barrier rounds');
  }
}

/** Two workers playing ping-pong through two SharedEvents with this thread pulsing set/clear. */
async function threads() {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { SharedEvent } = require(workerData.lib);
    const ping = new SharedEvent(workerData.shared, 0);
    const pong = new SharedEvent(workerData.shared, SharedEvent.BYTES);
    let stop = false;
    parentPort.on('message', () => (stop = true));
    (async () => {
      let n = 0;
      while (!stop) {
        if (await ping.wait(workerData.id === 0 ? 5 : { timeout: 5 })) n++;
        pong.set();
        pong.clear();
      }
      parentPort.postMessage(n);
    })();
  `;
  const libPath = new URL('../../dist/index.cjs', import.meta.url).pathname;
  const workers = [0, 1].map((id) => new Worker(code, { eval: true, workerData: { shared, lib: libPath, id } }));
  while (running) {
    ping.set();
    ping.clear();
    await pong.wait(5);
    count('cross-thread pulses');
  }
  const totals = await Promise.all(
    workers.map(
      (w) =>
        new Promise<number>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage('stop');
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  counts['worker wake-ups'] = totals.reduce((a, b) => a + b, 0);
}

const before = { heap: await heapAfterGc(), timers: timers(), listeners: listeners(), engine: engineWaiters() };
console.log(`soak: every primitive, workers included, for ${seconds} s`);
const all = Promise.all([events(), locks(), conditions(), semaphores(), barriers(), threads()]);
await sleep(seconds * 1000);
running = false;
await all;
await sleep(20); // the last timers of the shortest waits are cleared as the waits settle
const after = { heap: await heapAfterGc(), timers: timers(), listeners: listeners(), engine: engineWaiters() };

for (const [name, n] of Object.entries(counts)) console.log(`  ${name.padEnd(22)} ${n.toLocaleString('en')}`);
const MB = 1024 * 1024;
const rows: [string, number, number, boolean][] = [
  ['heap after GC (MB)', before.heap / MB, after.heap / MB, after.heap - before.heap < MB],
  ['live timers', before.timers, after.timers, after.timers <= before.timers],
  ['abort listeners', before.listeners, after.listeners, after.listeners === 0],
  // At most one engine waiter per word per thread may stay pending (it goes at the word's next change).
  ['engine waiters', before.engine, after.engine, after.engine <= 2],
];
console.log('\n  what                   start       end');
for (const [what, a, b, ok] of rows) {
  console.log(`  ${what.padEnd(20)} ${a.toFixed(2).padStart(8)} ${b.toFixed(2).padStart(9)}  ${ok ? 'flat' : 'GREW'}`);
}
process.exit(rows.every((r) => r[3]) ? 0 : 1);
