/**
 * Semaphore hand-off against async-mutex's Semaphore, async-sema, es-toolkit's Semaphore and bare
 * promises: more tasks than permits, each holding a permit across an await, so most acquires queue and
 * are handed a permit by a release.
 */
import { Semaphore as MutexSemaphore } from 'async-mutex';
import { Sema } from 'async-sema';
import { Semaphore as ToolkitSemaphore } from 'es-toolkit';
import { Semaphore } from './lib.js';
import type { Case } from './events.js';
import { type Settings, measure } from './harness.js';
import { LIMIT, OURS } from './peers.js';

const PERMITS = 4;
const TASKS = 16;

/** TASKS tasks sharing `rounds` acquire+release pairs, each holding its permit across an await. */
async function contend(rounds: number, take: () => Promise<() => void>): Promise<number> {
  const task = async () => {
    for (let i = 0; i < rounds / TASKS; i++) {
      const release = await take();
      await null;
      release();
    }
  };
  await Promise.all(Array.from({ length: TASKS }, task));
  return rounds;
}

/** The least a FIFO semaphore can do: a count and a queue of bare resolvers, a permit handed straight on. */
function bareSemaphore(permits: number) {
  let free = permits;
  const queue: (() => void)[] = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else free++;
  };
  return async () => {
    if (free > 0 && queue.length === 0) free--;
    else await new Promise<void>((r) => queue.push(r));
    return release;
  };
}

export async function semaphoreHandOff(rounds: number, s: Settings): Promise<Case> {
  const rows = await measure(
    [
      {
        name: OURS,
        run: () => {
          const sem = new Semaphore(PERMITS);
          const release = () => sem.release();
          return contend(rounds, () => sem.acquire().then(() => release));
        },
      },
      {
        name: 'async-mutex (Semaphore)',
        run: () => {
          const sem = new MutexSemaphore(PERMITS);
          return contend(rounds, () => sem.acquire().then(([, release]) => release));
        },
      },
      {
        name: 'async-sema',
        run: () => {
          const sem = new Sema(PERMITS);
          const release = () => sem.release();
          return contend(rounds, () => sem.acquire().then(() => release));
        },
      },
      {
        name: 'es-toolkit (Semaphore)',
        run: () => {
          const sem = new ToolkitSemaphore(PERMITS);
          const release = () => sem.release();
          return contend(rounds, () => sem.acquire().then(() => release));
        },
      },
      { name: LIMIT, run: () => contend(rounds, bareSemaphore(PERMITS)) },
    ],
    s,
  );
  return {
    id: 'semaphore',
    title: `semaphore hand-off, ${PERMITS} permits, ${TASKS} tasks`,
    unit: 'ns/acquire+release',
    rows,
  };
}
