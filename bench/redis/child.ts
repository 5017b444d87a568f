/**
 * One process of the Redis cases (bench/redis/cases.ts forks several and reuses them for every case). It
 * runs the jobs the parent sends, one at a time, and answers each with its result. Messages to the other
 * side of a hand-off go through the parent, outside every timed span.
 *
 * Times are `process.hrtime`'s: CLOCK_MONOTONIC on Linux, one clock for every process of the machine, so
 * B's time less A's is the hand-off.
 */
import { Redis } from 'ioredis';
import { type BenchEvent, type BenchLock, EVENTS, type EventName, LOCKS, type LockName } from './contenders.js';

export type Job =
  | { kind: 'handoff'; role: 'a' | 'b'; contender: LockName; rounds: number; url: string; name: string }
  | { kind: 'event'; role: 'a' | 'b'; contender: EventName; rounds: number; url: string; name: string }
  | { kind: 'throughput'; contender: LockName; url: string; name: string; work: boolean };

/** A throughput run's count: pairs of acquire + release done in time, and turns that found another holder. */
export interface Pairs {
  pairs: number;
  overlaps: number;
}

/** Parent -> child. */
export type Down = { type: 'job'; job: Job } | { type: 'relay'; data: unknown } | { type: 'go'; until: string };
/** Child -> parent. */
export type Up = { type: 'done'; result: unknown } | { type: 'relay'; data: unknown } | { type: 'ready' };

const send = (m: Up) => process.send!(m);
const now = () => process.hrtime.bigint();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Messages from the other side (relayed) and the start signal of a throughput run, in arrival order.
const inbox: Down[] = [];
let arrived = () => {};
async function next<T extends Down['type']>(type: T): Promise<Extract<Down, { type: T }>> {
  for (;;) {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return inbox.splice(i, 1)[0] as Extract<Down, { type: T }>;
    await new Promise<void>((r) => (arrived = r));
  }
}
const relay = (data: unknown) => send({ type: 'relay', data });
const relayed = async <T>() => (await next('relay')).data as T;

/**
 * The waiter must be in line before the release: A waits 5 to 15 ms after B says it is waiting, a random
 * time, so that a release lands at any point of a polling peer's retry period (10 ms for redis-semaphore),
 * not at the same point every round.
 */
const settle = () => sleep(5 + Math.random() * 10);

async function handOff(lock: BenchLock, role: 'a' | 'b', rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (role === 'a') {
      const held = await lock.acquire();
      relay('held');
      await relayed(); // B is waiting
      await settle();
      const t0 = now();
      await held.release();
      const t1 = BigInt(await relayed<string>()); // B's time when its acquire resolved; B has released since
      times.push(Number(t1 - t0));
    } else {
      await relayed(); // A holds the lock
      const acquired = lock.acquire();
      relay('waiting');
      const held = await acquired;
      const t1 = now();
      await held.release();
      relay(String(t1));
    }
  }
  return times;
}

async function eventRounds(event: BenchEvent, role: 'a' | 'b', rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (role === 'a') {
      relay('round');
      await relayed(); // B is waiting
      await settle();
      const t0 = now();
      await event.set();
      const t1 = BigInt(await relayed<string>());
      times.push(Number(t1 - t0));
      await event.clear();
    } else {
      await relayed(); // the event is clear
      const waited = event.wait();
      relay('waiting');
      await waited;
      relay(String(now()));
    }
  }
  return times;
}

/**
 * Acquire and release in a loop until `until`; the pairs completed by then. With `work`, each turn also
 * does what a holder does with a resource, one round trip to Redis at each end of its turn (a holder
 * count, INCR then DECR, that finds any other holder), and works 1 ms between its turns.
 */
async function throughput(lock: BenchLock, url: string, name: string, work: boolean): Promise<Pairs> {
  const counter = work ? new Redis(url) : undefined;
  const holders = `${name}:holders`;
  send({ type: 'ready' });
  const until = BigInt((await next('go')).until);
  let pairs = 0;
  let overlaps = 0;
  while (now() < until) {
    const held = await lock.acquire();
    if (counter !== undefined && (await counter.incr(holders)) !== 1) overlaps++;
    if (counter !== undefined) await counter.decr(holders);
    await held.release();
    if (now() <= until) pairs++;
    if (work) await sleep(1);
  }
  await counter?.quit();
  return { pairs, overlaps };
}

async function run(job: Job): Promise<unknown> {
  if (job.kind === 'event') {
    const made = await EVENTS[job.contender](job.url, job.name);
    try {
      return await eventRounds(made.it, job.role, job.rounds);
    } finally {
      await made.close();
    }
  }
  const made = await LOCKS[job.contender](job.url, job.name);
  try {
    return job.kind === 'handoff'
      ? await handOff(made.it, job.role, job.rounds)
      : await throughput(made.it, job.url, job.name, job.work);
  } finally {
    await made.close();
  }
}

process.on('message', (m: Down) => {
  if (m.type === 'job') {
    void run(m.job).then(
      (result) => send({ type: 'done', result }),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else {
    inbox.push(m);
    arrived();
  }
});
send({ type: 'ready' });
