/**
 * One scanner, four workers: each worker scans its pages holding a permit of a SharedSemaphore(2), so
 * that at most two workers use the scanner at once, whichever threads they run on.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedEvent, SharedSemaphore } from '../lib/index.js';

/** Int32 words in shared memory of their own: workers at the scanner now, the most at once, lines said. */
const USING = 0;
const MOST = 1;
const LINES = 2;

/** What each worker is given: the semaphore and the start signal themselves, the shared words, its name and its pages. */
interface Posted {
  scanner: unknown;
  start: unknown;
  room: Int32Array;
  who: string;
  pages: number;
}

async function work(posted: Posted, say: (n: number, line: string) => void, ready: () => void) {
  const { room, who, pages } = posted;
  const scanner = SharedSemaphore.from(posted.scanner); // over the same memory: the same two permits
  const start = SharedEvent.from(posted.start);
  ready();
  await start.wait(); // all four start together
  for (let page = 1; page <= pages; page++) {
    await scanner.runExclusive(async () => {
      const using = Atomics.add(room, USING, 1) + 1;
      for (let most = Atomics.load(room, MOST); using > most; most = Atomics.load(room, MOST)) {
        if (Atomics.compareExchange(room, MOST, most, using) === most) break;
      }
      say(Atomics.add(room, LINES, 1), `${who}: scans page ${page} (${using} at the scanner).`);
      await new Promise((r) => setTimeout(r, 20));
      Atomics.sub(room, USING, 1);
    });
  }
}

/** Runs the four workers; `say` gets their lines on this thread, in the order they were said. */
export async function scannerAcrossThreads(say: (line: string) => void): Promise<void> {
  const scanner = new SharedSemaphore(2);
  const start = new SharedEvent();
  const room = new Int32Array(new SharedArrayBuffer(3 * 4));
  const lines: string[] = [];
  let ready = 0;
  await Promise.all(
    ['Ann', 'Bob', 'Cid', 'Dee'].map(
      (who) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
            workerData: { entry: './device-threads.ts', scanner, start, room, who, pages: 2 } satisfies Posted & {
              entry: string;
            },
          });
          worker.on('message', (message: [number, string] | 'ready') => {
            if (message !== 'ready') lines[message[0]] = message[1];
            else if (++ready === 4) start.set();
          });
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${who} exited with ${code}`))));
        }),
    ),
  );
  for (const line of lines) say(line);
  say(`Every page scanned; never more than ${Atomics.load(room, MOST)} at the scanner at once.`);
}

if (!isMainThread && (workerData as { scanner?: unknown }).scanner !== undefined) {
  await work(
    workerData as Posted,
    (n, line) => parentPort!.postMessage([n, line]),
    () => parentPort!.postMessage('ready'),
  );
}
