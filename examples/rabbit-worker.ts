/** The rabbit, running in a worker thread: the same code as on the main thread, on SharedEvents. */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedEvent } from '../lib/index.js';
import { rabbit } from './race.js';

// The events were posted as they are: each is rebuilt here over the same shared memory.
const posted = (workerData as { course: Record<'go' | 'napping' | 'passed' | 'finished', unknown> }).course;
const course = {
  go: SharedEvent.from(posted.go),
  napping: SharedEvent.from(posted.napping),
  passed: SharedEvent.from(posted.passed),
  finished: SharedEvent.from(posted.finished),
};
// Lines go to the main thread as messages, so they print in the order they were said.
await rabbit(course, (line) => parentPort!.postMessage(line));
parentPort!.postMessage(null);
