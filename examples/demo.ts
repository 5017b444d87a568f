/**
 * `npm run demo`: the turtle and the rabbit race, signalling each other through events, first on one
 * thread, then with the rabbit in a worker thread; then a producer/consumer hand-off, with a Condition
 * and with an Event.
 */
import { Worker } from 'node:worker_threads';
import { Event, SharedEvent } from '../lib/index.js';
import { withCondition, withEvent } from './bakery.js';
import { poolAndHike } from './pool.js';
import { rabbit, turtle } from './race.js';

const say = (line: string) => console.log(`  ${line}`);

console.log('The race, on one thread (Event):');
const course = { go: new Event(), napping: new Event(), passed: new Event(), finished: new Event() };
const race = Promise.all([turtle(course, say), rabbit(course, say)]);
say('Owl: On your marks, get set, go!');
course.go.set();
await race;
say('Owl: Slow and steady wins the race.');

console.log('\nThe race again, the rabbit in a worker thread (SharedEvent):');
const buffer = new SharedArrayBuffer(4 * SharedEvent.BYTES);
const [go, napping, passed, finished] = [0, 1, 2, 3].map((i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
const shared = { go: go!, napping: napping!, passed: passed!, finished: finished! };
const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
  workerData: { entry: './rabbit-worker.ts', buffer },
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

await poolAndHike(say, (line) => console.log(`\n${line}`));
