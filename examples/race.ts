/**
 * The turtle and the rabbit, signalling each other through events. The same story runs with both
 * animals on one thread (`Event`) and with the rabbit in a worker thread (`SharedEvent`).
 */

/** What the race needs of an event: `Event` and `SharedEvent` both fit. */
export interface RaceEvent {
  set(): void;
  wait(): Promise<true>;
  wait(timeout: number): Promise<boolean>;
}

/** The race's four signals. */
export interface Course<E extends RaceEvent = RaceEvent> {
  go: E;
  napping: E;
  passed: E;
  finished: E;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function rabbit({ go, napping, passed, finished }: Course, say: (line: string) => void): Promise<void> {
  await go.wait();
  say('Rabbit: zooms off and is soon far ahead.');
  await sleep(30);
  say('Rabbit: lies down under a tree. "Wake me when the turtle passes."');
  await sleep(30); // lets a worker's line reach the terminal before the turtle speaks
  napping.set();
  if (!(await passed.wait(60))) say('Rabbit (half asleep): 60 ms and no turtle in sight. Plenty of time.');
  await passed.wait();
  say('Rabbit: wakes with a start. The turtle is ahead!');
  await sleep(30);
  say('Rabbit: sprints for the finish line.');
  const lost = await finished.wait(1_000);
  say(lost ? 'Rabbit: arrives to find the race already won.' : 'Rabbit: wins after all!');
}

export async function turtle({ go, napping, passed, finished }: Course, say: (line: string) => void): Promise<void> {
  await go.wait();
  await napping.wait();
  say('Turtle: plods on, slow and steady.');
  await sleep(300);
  say('Turtle: passes the sleeping rabbit.');
  passed.set();
  await sleep(150);
  say('Turtle: crosses the finish line.');
  finished.set();
}
