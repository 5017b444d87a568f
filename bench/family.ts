/**
 * The newer members of the family against their peers and the least they can do:
 * - Queue hand-off: a producer handing items to 4 waiting consumers, against @esfx/async-queue, a p-queue
 *   of concurrency 4 fed one task per item, a queue hand-rolled from a Condition and an array (what the
 *   seed advised before there was a Queue), and bare promises (an array of items, an array of resolvers);
 * - ReadWriteLock: 3 readers and a writer contending, against @esfx/async-readerwriterlock and a bare
 *   fair reader-writer lock;
 * - weighted acquire: 6 tasks of weights 1 to 4 on 4 permits, against async-mutex's Semaphore and a bare
 *   strict-FIFO weighted semaphore.
 */
import { AsyncQueue } from '@esfx/async-queue';
import { AsyncReaderWriterLock } from '@esfx/async-readerwriterlock';
import { Semaphore as MutexSemaphore } from 'async-mutex';
import PQueue from 'p-queue';
import { Condition, Queue, ReadWriteLock, Semaphore } from './lib.js';
import type { Case } from './events.js';
import { type Settings, measure } from './harness.js';
import { LIMIT, OURS } from './peers.js';

const CONSUMERS = 4;

/** A producer handing `rounds` items, one a moment, to CONSUMERS consumers that each wait for the next. */
async function handOff(rounds: number, put: (item: number) => void, get: () => Promise<number>): Promise<number> {
  let sum = 0;
  const consumer = async () => {
    for (let i = 0; i < rounds / CONSUMERS; i++) {
      sum += await get();
      await null;
    }
  };
  const consumers = Promise.all(Array.from({ length: CONSUMERS }, consumer));
  for (let i = 0; i < rounds; i++) {
    put(i);
    await null;
  }
  await consumers;
  if (sum < 0) throw new Error('never');
  return rounds;
}

/** The least a queue can do: an array of items and an array of waiting resolvers, each item handed on. */
function bareQueue() {
  const items: number[] = [];
  const getters: ((item: number) => void)[] = [];
  return {
    put: (item: number) => {
      const getter = getters.shift();
      if (getter) getter(item);
      else items.push(item);
    },
    get: () => (items.length > 0 ? Promise.resolve(items.shift()!) : new Promise<number>((r) => getters.push(r))),
  };
}

/** A queue hand-rolled from a Condition and an array, as users wrote one before there was a Queue. */
function conditionQueue() {
  const items: number[] = [];
  const cond = new Condition();
  return {
    put: (item: number) => {
      void cond.acquire().then(() => {
        items.push(item);
        cond.notify();
        cond.release();
      });
    },
    get: async () => {
      await cond.acquire();
      try {
        await cond.waitFor(() => items.length > 0);
        return items.shift()!;
      } finally {
        cond.release();
      }
    },
  };
}

export async function queueHandOff(rounds: number, s: Settings): Promise<Case> {
  const rows = await measure(
    [
      {
        name: OURS,
        run: () => {
          const q = new Queue<number>();
          return handOff(
            rounds,
            (item) => q.tryPut(item),
            () => q.get(),
          );
        },
      },
      {
        name: '@esfx/async-queue',
        run: () => {
          const q = new AsyncQueue<number>();
          return handOff(
            rounds,
            (item) => q.put(item),
            () => q.get(),
          );
        },
      },
      {
        name: `p-queue (concurrency ${CONSUMERS})`,
        run: async () => {
          const q = new PQueue({ concurrency: CONSUMERS });
          let sum = 0;
          for (let i = 0; i < rounds; i++) {
            const item = i;
            void q.add(async () => {
              sum += item;
              await null;
            });
            await null;
          }
          await q.onIdle();
          if (sum < 0) throw new Error('never');
          return rounds;
        },
      },
      {
        name: 'hand-rolled (Condition + array)',
        run: () => {
          const q = conditionQueue();
          return handOff(rounds, q.put, q.get);
        },
      },
      {
        name: LIMIT,
        run: () => {
          const q = bareQueue();
          return handOff(rounds, q.put, q.get);
        },
      },
    ],
    s,
  );
  return {
    id: 'queue',
    title: `queue hand-off, 1 producer, ${CONSUMERS} consumers waiting`,
    unit: 'ns/item',
    rows,
  };
}

const READERS = 3;

/** READERS readers and a writer sharing `rounds` acquisitions, each holding across an await. */
async function readersAndWriter(
  rounds: number,
  read: () => Promise<() => void>,
  write: () => Promise<() => void>,
): Promise<number> {
  const task = async (take: () => Promise<() => void>) => {
    for (let i = 0; i < rounds / (READERS + 1); i++) {
      const release = await take();
      await null;
      release();
    }
  };
  await Promise.all([task(write), ...Array.from({ length: READERS }, () => task(read))]);
  return rounds;
}

/** The least a fair reader-writer lock can do: counts and one FIFO line of bare resolvers. */
function bareReadWriteLock() {
  let readers = 0;
  let writing = false;
  const line: { write: boolean; go: () => void }[] = [];
  const serve = () => {
    while (line.length > 0 && !writing) {
      if (line[0]!.write) {
        if (readers > 0) return;
        writing = true;
      } else readers++;
      line.shift()!.go();
    }
  };
  const releaseRead = () => {
    readers--;
    serve();
  };
  const releaseWrite = () => {
    writing = false;
    serve();
  };
  return {
    read: async () => {
      if (!writing && line.length === 0) readers++;
      else await new Promise<void>((go) => line.push({ write: false, go }));
      return releaseRead;
    },
    write: async () => {
      if (!writing && readers === 0 && line.length === 0) writing = true;
      else await new Promise<void>((go) => line.push({ write: true, go }));
      return releaseWrite;
    },
  };
}

export async function readWriteLock(rounds: number, s: Settings): Promise<Case> {
  const rows = await measure(
    [
      {
        name: OURS,
        run: () => {
          const rw = new ReadWriteLock();
          const releaseRead = () => rw.releaseRead();
          const releaseWrite = () => rw.releaseWrite();
          return readersAndWriter(
            rounds,
            () => rw.acquireRead().then(() => releaseRead),
            () => rw.acquireWrite().then(() => releaseWrite),
          );
        },
      },
      {
        name: '@esfx/async-readerwriterlock',
        run: () => {
          const rw = new AsyncReaderWriterLock();
          return readersAndWriter(
            rounds,
            () => rw.read().then((h) => () => h.unlock()),
            () => rw.write().then((h) => () => h.unlock()),
          );
        },
      },
      {
        name: LIMIT,
        run: () => {
          const rw = bareReadWriteLock();
          return readersAndWriter(rounds, rw.read, rw.write);
        },
      },
    ],
    s,
  );
  return {
    id: 'rwlock',
    title: `reader-writer lock, ${READERS} readers and a writer`,
    unit: 'ns/acquire+release',
    rows,
  };
}

const PERMITS = 4;
const WEIGHTS = [1, 2, 1, 3, 1, 4];

/** Tasks of WEIGHTS sharing `rounds` weighted acquires, each holding its permits across an await. */
async function weighted(rounds: number, take: (permits: number) => Promise<() => void>): Promise<number> {
  const task = async (permits: number) => {
    for (let i = 0; i < rounds / WEIGHTS.length; i++) {
      const release = await take(permits);
      await null;
      release();
    }
  };
  await Promise.all(WEIGHTS.map(task));
  return rounds;
}

/** The least a strict-FIFO weighted semaphore can do: a count and a line of bare resolvers. */
function bareWeighted(permits: number) {
  let free = permits;
  const line: { permits: number; go: () => void }[] = [];
  const serve = () => {
    while (line.length > 0 && line[0]!.permits <= free) {
      const first = line.shift()!;
      free -= first.permits;
      first.go();
    }
  };
  return async (n: number) => {
    if (line.length === 0 && free >= n) free -= n;
    else await new Promise<void>((go) => line.push({ permits: n, go }));
    return () => {
      free += n;
      serve();
    };
  };
}

export async function weightedAcquire(rounds: number, s: Settings): Promise<Case> {
  const rows = await measure(
    [
      {
        name: OURS,
        run: () => {
          const sem = new Semaphore(PERMITS);
          const releases = [0, 1, 2, 3, 4].map((n) => () => sem.release(n));
          const options = releases.map((_, n) => ({ permits: n }));
          return weighted(rounds, (n) => sem.acquire(options[n]!).then(() => releases[n]!));
        },
      },
      {
        name: 'async-mutex (Semaphore, weighted)',
        run: () => {
          const sem = new MutexSemaphore(PERMITS);
          return weighted(rounds, (n) => sem.acquire(n).then(([, release]) => release));
        },
      },
      { name: LIMIT, run: () => weighted(rounds, bareWeighted(PERMITS)) },
    ],
    s,
  );
  return {
    id: 'weighted',
    title: `weighted acquire, ${PERMITS} permits, ${WEIGHTS.length} tasks of weights ${WEIGHTS.join('/')}`,
    unit: 'ns/acquire+release',
    rows,
  };
}

if (process.argv.includes('--family')) {
  // Only these cases, printed: node --expose-gc --import tsx bench/family.ts --family (after npm run build).
  const { printCase } = await import('./report.js');
  const s: Settings = { runs: 7, warmup: 2, ms: 50 };
  printCase(await queueHandOff(100_000, s));
  printCase(await readWriteLock(100_000, s));
  printCase(await weightedAcquire(120_000, s));
}
