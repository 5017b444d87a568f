/**
 * A connection pool of three served to ten tasks (Semaphore): at most three tasks hold a connection at
 * once, the others wait in line and get one, in turn, as soon as one is given back. Then hikers meeting
 * at a Barrier between legs of their walk.
 */
import { Semaphore } from '../lib/index.js';
import { hike } from './barrier-hike.js';

/** One turn of the event loop: a moment of work. */
const moment = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function connectionPool(say: (line: string) => void): Promise<void> {
  const free = ['A', 'B', 'C'];
  const lastUser = new Map<string, number>();
  const pool = new Semaphore(free.length);
  let busiest = 0;
  const task = async (id: number) => {
    using _permit = await pool.lock(); // given back at the end of this function, however it ends
    const connection = free.shift()!;
    busiest = Math.max(busiest, 3 - free.length);
    const previous = lastUser.get(connection);
    say(
      `Task ${id} gets connection ${connection}${previous === undefined ? '' : `, just given back by task ${previous}`}.`,
    );
    lastUser.set(connection, id);
    for (let i = 0; i < 1 + ((id * 7) % 4); i++) await moment(); // a query of some length
    free.push(connection);
  };
  await Promise.all(Array.from({ length: 10 }, (_, i) => task(i + 1)));
  say(`Ten tasks served in the order they asked, never more than ${busiest} connections in use at once.`);
}

/** The demo's last two scenes: the pool, then the hike. */
export async function poolAndHike(say: (line: string) => void, title: (line: string) => void): Promise<void> {
  title('The connection pool: three connections, ten tasks (Semaphore):');
  await connectionPool(say);
  title('Three hikers wait for each other at every checkpoint (Barrier):');
  await hike(say);
}
