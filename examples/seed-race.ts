/**
 * The race of Python's `threading.Event` example, ported: the rabbit waits on the start signal, the
 * turtle goes, signals the rabbit after a while, and both finish. Seconds became tens of milliseconds.
 *
 * The lines come out in the same order on every run, because each one that must follow another is
 * behind an event that the other sets after saying its line, never behind a shorter timer:
 * - the rabbit says its first line before the turtle starts (in a worker, the turtle waits for `started`);
 * - `signal rabbit` is said before `startSignal.set()`, and `go rabbit` after `startSignal.wait()`;
 * - in the seed, `turtle done` follows `rabbit done` only because 10 s is longer than 5 s, which a loaded
 *   machine does not promise for 100 ms against 50 ms: here the turtle also waits for `rabbitDone`.
 */
import { writeSync } from 'node:fs';

/** What the race needs of an event: `Event` and `SharedEvent` both fit. */
export interface SeedEvent {
  set(): void;
  clear(): void;
  wait(): Promise<true>;
}

/** The seed's `start_signal`, plus the rabbit's finish, which keeps the order of the last two lines. */
export interface SeedCourse {
  startSignal: SeedEvent;
  rabbitDone: SeedEvent;
}

/**
 * Writes a line to stdout at once, from any thread: a line said before `set()` is out before the
 * thread it wakes can speak (a worker's `console.log` would reach stdout later, through the main thread).
 */
export const say = (line: string): void => {
  writeSync(1, `  ${line}\n`);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function rabbit({ startSignal, rabbitDone }: SeedCourse): Promise<void> {
  say('rabbit waits 5 seconds');
  await startSignal.wait();
  say('go rabbit');
  await sleep(50);
  say('rabbit done');
  startSignal.clear();
  rabbitDone.set();
}

export async function turtle({ startSignal, rabbitDone }: SeedCourse): Promise<void> {
  say('go turtle');
  await sleep(50);
  say('signal rabbit');
  startSignal.set();
  await sleep(100);
  await rabbitDone.wait(); // slow and steady: the turtle is still on its way when the rabbit arrives
  say('turtle done');
}
