/**
 * Lock hand-off against async-mutex, @esfx/async-mutex and bare promises; condition round trips against
 * bare promises (neither async-mutex nor a released @esfx package has a condition variable).
 */
import { AsyncMutex } from '@esfx/async-mutex';
import { Mutex } from 'async-mutex';
import { Condition, Lock, SharedLock } from './lib.js';
import type { Case } from './events.js';
import { type Settings, measure } from './harness.js';
import { LIMIT, OURS } from './peers.js';

/** Two tasks taking turns at a lock, each holding it across an await so the other queues. */
async function contend(rounds: number, take: () => Promise<() => void>): Promise<number> {
  const task = async () => {
    for (let i = 0; i < rounds / 2; i++) {
      const release = await take();
      await null;
      release();
    }
  };
  await Promise.all([task(), task()]);
  return rounds;
}

/** The least a lock can do: a flag and a queue of bare resolvers. */
function bareLock() {
  let locked = false;
  const queue: (() => void)[] = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else locked = false;
  };
  return async () => {
    if (locked) await new Promise<void>((r) => queue.push(r));
    else locked = true;
    return release;
  };
}

export async function lockHandOff(rounds: number, s: Settings): Promise<Case> {
  const rows = await measure(
    [
      {
        name: OURS,
        run: () => {
          const lock = new Lock();
          const release = () => lock.release();
          return contend(rounds, () => lock.acquire().then(() => release));
        },
      },
      {
        name: 'async-mutex (Mutex)',
        run: () =>
          contend(
            rounds,
            (
              (m) => () =>
                m.acquire()
            )(new Mutex()),
          ),
      },
      {
        name: '@esfx/async-mutex',
        run: () => {
          const m = new AsyncMutex();
          const unlock = () => void m.unlock();
          return contend(rounds, () => m.lock().then(() => unlock));
        },
      },
      { name: LIMIT, run: () => contend(rounds, bareLock()) },
    ],
    s,
  );
  return { id: 'lock', title: 'lock hand-off between two tasks', unit: 'ns/acquire+release', rows };
}

export async function conditionRoundTrip(rounds: number, s: Settings, loop = false): Promise<Case> {
  const rows = await measure(
    [
      {
        name: OURS,
        run: async () => {
          const cond = new Condition();
          let turn = 0;
          const player = async (me: number) => {
            await cond.acquire();
            for (let i = 0; i < rounds; i++) {
              if (loop) while (turn !== me) await cond.wait();
              else await cond.waitFor(() => turn === me);
              turn = 1 - me;
              cond.notify();
            }
            cond.release();
          };
          await Promise.all([player(0), player(1)]);
          return rounds;
        },
      },
      {
        name: LIMIT,
        run: async () => {
          const wake: ((() => void) | undefined)[] = [undefined, undefined];
          let turn = 0;
          const player = async (me: number) => {
            for (let i = 0; i < rounds; i++) {
              if (turn !== me) await new Promise<void>((r) => (wake[me] = r));
              turn = 1 - me;
              wake[1 - me]?.();
            }
          };
          await Promise.all([player(0), player(1)]);
          return rounds;
        },
      },
    ],
    s,
  );
  return loop
    ? {
        id: 'condition-wait',
        title: 'condition round trip between two tasks, wait() in a loop',
        unit: 'ns/round',
        rows,
      }
    : { id: 'condition', title: 'condition round trip between two tasks, waitFor()', unit: 'ns/round', rows };
}

/** Uncontended acquire + release on one thread: SharedLock against the one-thread Lock. */
export async function uncontended(rounds: number, s: Settings): Promise<Case> {
  const loop = async (lock: { acquire(): Promise<boolean>; release(): void }) => {
    for (let i = 0; i < rounds; i++) {
      await lock.acquire();
      lock.release();
    }
    return rounds;
  };
  const rows = await measure(
    [
      { name: 'SharedLock', run: () => loop(new SharedLock()) },
      { name: 'Lock', run: () => loop(new Lock()) },
    ],
    s,
  );
  return { id: 'lock-uncontended', title: 'uncontended acquire + release, one thread', unit: 'ns/op', rows };
}
