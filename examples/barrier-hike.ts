/**
 * Three hikers walk at their own pace and wait for each other at every checkpoint (Barrier): nobody
 * sets off for the next one before the slowest has arrived.
 */
import { Barrier } from '../lib/index.js';

/** One turn of the event loop: a step of the walk. */
const step = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function hike(say: (line: string) => void): Promise<void> {
  // Steps from one checkpoint to the next: who is slowest changes on the way.
  const hikers = { Ann: [1, 6, 2], Bob: [4, 1, 3], Cy: [2, 3, 7] };
  const checkpoint = new Barrier(Object.keys(hikers).length);
  const walk = async ([name, legs]: [string, number[]]) => {
    for (const [leg, steps] of legs.entries()) {
      for (let i = 0; i < steps; i++) await step();
      say(`${name} reaches checkpoint ${leg + 1}.`);
      const arrival = await checkpoint.wait();
      if (arrival === checkpoint.parties - 1) {
        say(
          `${name} was the last one there: ${leg + 1 < legs.length ? 'everyone sets off again' : 'the hike is over'}.`,
        );
      }
    }
  };
  await Promise.all(Object.entries(hikers).map(walk));
  say('Nobody left behind, nobody ahead of the slowest.');
}
