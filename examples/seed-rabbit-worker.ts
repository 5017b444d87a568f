/** The seed's rabbit, running in a worker thread on SharedEvents: the same code as on the main thread. */
import { workerData } from 'node:worker_threads';
import { SharedEvent } from '../lib/index.js';
import { rabbit } from './seed-race.js';

const { buffer } = workerData as { buffer: SharedArrayBuffer };
const [startSignal, rabbitDone, started] = [0, 1, 2].map((i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
const done = rabbit({ startSignal: startSignal!, rabbitDone: rabbitDone! });
started!.set(); // the rabbit has said its first line: the turtle may start
await done;
