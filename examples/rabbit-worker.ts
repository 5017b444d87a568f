/** The rabbit, running in a worker thread: the same code as on the main thread, on SharedEvents. */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedEvent } from '../lib/index.js';
import { rabbit } from './race.js';

const { buffer } = workerData as { buffer: SharedArrayBuffer };
const [go, napping, passed, finished] = [0, 1, 2, 3].map((i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
// Lines go to the main thread as messages, so they print in the order they were said.
await rabbit({ go: go!, napping: napping!, passed: passed!, finished: finished! }, (line) =>
  parentPort!.postMessage(line),
);
parentPort!.postMessage(null);
