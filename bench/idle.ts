/**
 * What threads cost while they wait: 40 and 64 workers waiting on one held SharedLock (more than its 32
 * seats, so 8 or 32 of them poll, 1 ms doubling to 32 ms), blocked in `acquireSync()` or awaiting
 * `acquire()`. The whole process's CPU time over 2 s of waiting, in % of one core.
 */
import { Worker } from 'node:worker_threads';
import type { Case } from './events.js';
import { SharedLock } from './lib.js';

const lib = new URL('../dist/index.js', import.meta.url).href;

const code = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.lib).then(async ({ SharedLock }) => {
    const lock = new SharedLock(workerData.buffer, 0);
    parentPort.postMessage('waiting');
    if (workerData.sync) lock.acquireSync();
    else await lock.acquire();
    lock.release();
    parentPort.postMessage('done');
  });`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** % of one core the process used while `threads` workers waited `ms` on a held lock. */
async function idleCpu(threads: number, sync: boolean, ms: number): Promise<number> {
  const lock = new SharedLock();
  lock.acquireSync(0);
  const workers = Array.from(
    { length: threads },
    () => new Worker(code, { eval: true, workerData: { lib, buffer: lock.buffer, sync } }),
  );
  const said = workers.map((w) => {
    const messages: string[] = [];
    w.on('message', (m: string) => messages.push(m));
    return messages;
  });
  while (said.some((m) => m.length === 0)) await sleep(10);
  await sleep(Math.max(200, ms / 4)); // every one in line or polling at its slowest
  const cpu = process.cpuUsage();
  const start = performance.now();
  await sleep(ms);
  const used = process.cpuUsage(cpu);
  const elapsed = performance.now() - start;
  lock.release();
  while (said.some((m) => m.length < 2)) await sleep(10);
  await Promise.all(workers.map((w) => w.terminate()));
  return ((used.user + used.system) / 1000 / elapsed) * 100;
}

export async function idleThreads(quick: boolean): Promise<Case> {
  const rows = [];
  for (const threads of quick ? [2] : [40, 64]) {
    for (const sync of [true, false]) {
      const percent = await idleCpu(threads, sync, quick ? 50 : 2_000);
      const name = `${threads} threads ${sync ? 'in acquireSync()' : 'awaiting acquire()'}`;
      rows.push({ name, ns: percent, min: percent, max: percent });
    }
  }
  return {
    id: 'threads-idle',
    title: 'CPU used while threads wait on a held SharedLock (32 seats: the others poll), % of one core',
    unit: '% of one core',
    rows,
  };
}
