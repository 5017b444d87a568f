/** The seed's rabbit, running in a worker thread on SharedEvents: the same code as on the main thread. */
import { workerData } from 'node:worker_threads';
import { SharedEvent } from '../lib/index.js';
import { rabbit } from './seed-race.js';

// The events were posted as they are: each is rebuilt here over the same shared memory.
const posted = (workerData as { course: Record<'startSignal' | 'rabbitDone' | 'started', unknown> }).course;
const done = rabbit({
  startSignal: SharedEvent.from(posted.startSignal),
  rabbitDone: SharedEvent.from(posted.rabbitDone),
});
SharedEvent.from(posted.started).set(); // the rabbit has said its first line: the turtle may start
await done;
