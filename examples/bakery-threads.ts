/**
 * The bakery across threads: the baker and two customers each in a worker thread, the shelf (two loaves)
 * in shared memory, guarded by one SharedLock and one SharedCondition. Every loaf is sold, none twice.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedCondition, SharedLock } from '../lib/index.js';

/**
 * The shelf's Int32 words, in shared memory of their own: loaves on it, the two places, and the number
 * of lines said so far (each line is numbered under the lock, so they print in the order of events,
 * whatever order the workers' messages arrive in).
 */
const COUNT = 0;
const PLACES = 1;
const LINES = 3;

type Role = { who: 'Baker' } | { who: string; buys: number };

/** What each worker is given: the condition itself (it carries its lock), the shelf, and its role. */
interface Posted {
  changed: unknown;
  shelf: Int32Array;
  role: Role;
}

async function work({ changed: posted, shelf, role }: Posted, say: (n: number, line: string) => void): Promise<void> {
  const changed = SharedCondition.from(posted); // over the same memory, tied to the same lock
  const rounds = 'buys' in role ? role.buys : 6;
  for (let i = 1; i <= rounds; i++) {
    await changed.acquire();
    try {
      if ('buys' in role) {
        await changed.waitFor(() => shelf[COUNT]! > 0);
        const loaf = shelf[PLACES]!;
        shelf[PLACES] = shelf[PLACES + 1]!;
        shelf[COUNT] = shelf[COUNT]! - 1;
        say(shelf[LINES]++, `${role.who}: buys loaf ${loaf}.`);
      } else {
        await changed.waitFor(() => shelf[COUNT]! < 2);
        shelf[PLACES + shelf[COUNT]!] = i;
        shelf[COUNT] = shelf[COUNT]! + 1;
        say(shelf[LINES]++, `Baker: loaf ${i} on the shelf (${shelf[COUNT]} there).`);
      }
      changed.notifyAll();
    } finally {
      changed.release();
    }
  }
}

/** Runs the bakery with each person in a worker; `say` gets their lines on this thread. */
export async function withSharedCondition(say: (line: string) => void): Promise<void> {
  const changed = new SharedCondition(new SharedLock());
  const shelf = new Int32Array(new SharedArrayBuffer(4 * 4));
  const lines: string[] = [];
  const roles: Role[] = [{ who: 'Baker' }, { who: 'Ann', buys: 3 }, { who: 'Bob', buys: 3 }];
  await Promise.all(
    roles.map(
      (role) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
            workerData: { entry: './bakery-threads.ts', changed, shelf, role } satisfies Posted & { entry: string },
          });
          worker.on('message', ([n, line]: [number, string]) => (lines[n] = line));
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${role.who} exited with ${code}`))));
        }),
    ),
  );
  for (const line of lines) say(line);
  say('Every loaf sold, none twice.');
}

if (!isMainThread && (workerData as { role?: Role }).role !== undefined) {
  await work(workerData as Posted, (n, line) => parentPort!.postMessage([n, line]));
}
