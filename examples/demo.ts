/**
 * `npm run demo`: the race of Python's `threading.Event` example, on one thread and with the rabbit in
 * a worker thread; then a longer race, the turtle and the rabbit signalling each other through events,
 * the same two ways; then a producer/consumer hand-off, with a Condition, with an Event and with a Queue, and
 * across worker threads with a SharedCondition; readers and writers, a countdown latch, a pool and a barrier;
 * and one device shared by four workers, at most two at a time, with a SharedSemaphore.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Event, SharedEvent } from '../lib/index.js';
import { withSharedCondition } from './bakery-threads.js';
import { withCondition, withEvent, withQueue } from './bakery.js';
import { scannerAcrossThreads } from './device-threads.js';
import { poolAndHike } from './pool.js';
import { rabbit, turtle } from './race.js';
import { launch, readingRoom } from './reading-room.js';
import * as seed from './seed-race.js';

// The seed's race writes straight to stdout (see seed-race.ts), and so does its heading, to stay in order.
writeSync(1, "The seed's race, on one thread (Event):\n");
{
  const course = { startSignal: new Event(), rabbitDone: new Event() };
  const rabbitRuns = seed.rabbit(course); // r.start(): says its first line before the turtle starts
  await Promise.all([rabbitRuns, seed.turtle(course)]);
}

writeSync(1, "\nThe seed's race again, the rabbit in a worker thread (SharedEvent):\n");
{
  const course = { startSignal: new SharedEvent(), rabbitDone: new SharedEvent(), started: new SharedEvent() };
  // The events themselves go to the worker, which rebuilds each with SharedEvent.from().
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
    workerData: { entry: './seed-rabbit-worker.ts', course },
  });
  const exited = new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`the rabbit's worker exited with ${code}`)),
    );
  });
  await course.started.wait(); // r.start(): the rabbit has said its first line
  await Promise.all([seed.turtle(course), exited]);
}

const say = (line: string) => console.log(`  ${line}`);

console.log('\nThe race, on one thread (Event):');
const course = { go: new Event(), napping: new Event(), passed: new Event(), finished: new Event() };
const race = Promise.all([turtle(course, say), rabbit(course, say)]);
say('Owl: On your marks, get set, go!');
course.go.set();
await race;
say('Owl: Slow and steady wins the race.');

console.log('\nThe race again, the rabbit in a worker thread (SharedEvent):');
const shared = {
  go: new SharedEvent(),
  napping: new SharedEvent(),
  passed: new SharedEvent(),
  finished: new SharedEvent(),
};
const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
  workerData: { entry: './rabbit-worker.ts', course: shared },
});
const rabbitDone = new Promise<void>((resolve, reject) => {
  worker.on('message', (line: string | null) => (line === null ? resolve() : say(line)));
  worker.on('error', reject);
});
const turtleDone = turtle(shared, say);
say('Owl: On your marks, get set, go!');
shared.go.set();
await Promise.all([turtleDone, rabbitDone]);
say('Owl: Slow and steady wins the race.');

console.log('\nThe bakery: one baker, two customers, a shelf for two loaves (Condition):');
await withCondition(say);

console.log('\nThe same with an Event and clear() (the lost wake-up):');
await withEvent(say);

console.log('\nThe bakery once more, the shelf a Queue of two loaves (Queue):');
await withQueue(say);

console.log('\nThe reading room: readers share the book, the editor has it alone (ReadWriteLock):');
await readingRoom(say);

console.log('\nThe launch waits for three checks (CountdownLatch):');
await launch(say);

await poolAndHike(say, (line) => console.log(`\n${line}`));
console.log('\nThe bakery across threads: the baker and the customers in workers (SharedLock, SharedCondition):');
await withSharedCondition(say);

console.log('\nOne scanner, four workers, at most two at a time (SharedSemaphore):');
await scannerAcrossThreads(say);
