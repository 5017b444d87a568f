/**
 * `npm run demo`: the turtle and the rabbit race, signalling each other through events.
 */
import { Event } from '../lib/index.js';
import { rabbit, turtle } from './race.js';

const say = (line: string) => console.log(`  ${line}`);

console.log('The race, on one thread (Event):');
const course = { go: new Event(), napping: new Event(), passed: new Event(), finished: new Event() };
const race = Promise.all([turtle(course, say), rabbit(course, say)]);
say('Owl: On your marks, get set, go!');
course.go.set();
await race;
say('Owl: Slow and steady wins the race.');
