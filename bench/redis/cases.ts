/**
 * The Redis cases of `npm run bench`: lock hand-off latency and `RedisEvent` set -> wait between two
 * processes, and contended throughput of 8 processes on one lock, against the raw floor hand-written on
 * each client and against redis-semaphore and redlock, all on one `redis-server` this module starts on a
 * free loopback port (bench/redis/server.ts). Without a `redis-server` the cases are left out with a note,
 * except in CI, where that is an error.
 *
 * Each process is a forked `bench/redis/child.ts`; the same processes serve every case. The contenders
 * of a case run in turn, in passes, so that a change in the machine's load hits them alike.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Case } from '../events.js';
import { median, percentile } from '../harness.js';
import type { Down, Job, Pairs, Up } from './child.js';
import type { LockName } from './contenders.js';
import { OURS_EVENT, OURS_LOCK, PEERS, RAW_EVENT, RAW_LOCK } from './names.js';
import { findRedisServer, startRedisServer } from './server.js';

export const NO_REDIS = 'Redis cases did not run: no redis-server (apt-get install redis-server, or set REDIS_SERVER)';

const FLEET = 8;

interface Proc {
  child: ChildProcess;
  /** The answer to the job running now, or its failure. */
  done?: (result: unknown) => void;
  failed?: (error: Error) => void;
  ready?: () => void;
}

function start(): Promise<Proc> {
  const child = fork(fileURLToPath(new URL('./child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const proc: Proc = { child };
  return new Promise((resolve, reject) => {
    proc.failed = reject;
    proc.ready = () => {
      proc.ready = undefined;
      proc.failed = undefined;
      resolve(proc);
    };
    child.on('message', (m: Up) => {
      if (m.type === 'ready') proc.ready?.();
      else if (m.type === 'done') proc.done!(m.result);
    });
    child.once('exit', (code) => proc.failed?.(new Error(`a Redis bench process exited (code ${code}) mid-case`)));
  });
}

const post = (p: Proc, m: Down) => p.child.send(m);
const job = <T>(p: Proc, j: Job) =>
  new Promise<T>((resolve, reject) => {
    p.failed = reject;
    p.done = (result) => {
      p.done = undefined;
      p.failed = undefined;
      resolve(result as T);
    };
    post(p, { type: 'job', job: j });
  });

/** Relays A's and B's messages to each other for one pair job. */
function pair(a: Proc, b: Proc): () => void {
  const onA = (m: Up) => m.type === 'relay' && post(b, { type: 'relay', data: m.data });
  const onB = (m: Up) => m.type === 'relay' && post(a, { type: 'relay', data: m.data });
  a.child.on('message', onA);
  b.child.on('message', onB);
  return () => {
    a.child.off('message', onA);
    b.child.off('message', onB);
  };
}

let names = 0;
const fresh = (what: string) => `bench:${what}:${process.pid}:${names++}`;

/** One-way times in ns, the first tenth of each run (warm-up) dropped. */
async function oneWay(kind: 'handoff' | 'event', contender: string, rounds: number, url: string, [a, b]: Proc[]) {
  const unpair = pair(a!, b!);
  const name = fresh(kind);
  const jobOf = (role: 'a' | 'b') => ({ kind, role, contender, rounds, url, name }) as Job;
  const [times] = await Promise.all([job<number[]>(a!, jobOf('a')), job(b!, jobOf('b'))]);
  unpair();
  return times.slice(Math.floor(times.length / 10));
}

/** Pairs of acquire + release by the whole fleet in `ms`, and the fewest and most by one process. */
async function fleetRun(contender: LockName, ms: number, url: string, fleet: Proc[], work: boolean) {
  const name = fresh('throughput');
  const readies = fleet.map((p) => new Promise<void>((r) => (p.ready = r)));
  const results = fleet.map((p) => job<Pairs>(p, { kind: 'throughput', contender, url, name, work }));
  await Promise.all(readies);
  for (const p of fleet) p.ready = undefined;
  const until = String(process.hrtime.bigint() + BigInt(ms * 1e6));
  for (const p of fleet) post(p, { type: 'go', until });
  const each = await Promise.all(results);
  const ops = each.map((r) => r.pairs);
  return {
    total: ops.reduce((x, y) => x + y, 0),
    fewest: Math.min(...ops),
    most: Math.max(...ops),
    overlaps: each.reduce((n, r) => n + r.overlaps, 0),
  };
}

const latencyRow = (name: string, t: number[]) => {
  const s = [...t].sort((x, y) => x - y);
  return { name, ns: median(s), min: s[0]!, max: percentile(s, 0.99) };
};

export interface RedisSettings {
  /** Hand-offs (and set -> wait rounds) per contender in each pass; polling peers' at most `slowRounds`. */
  rounds: number;
  slowRounds: number;
  passes: number;
  /** Each throughput run's length, ms; `passes` runs per contender. */
  ms: number;
  fleet: number;
}

export const FULL: RedisSettings = { rounds: 100, slowRounds: 10, passes: 3, ms: 2_000, fleet: FLEET };
export const QUICK: RedisSettings = { rounds: 3, slowRounds: 1, passes: 1, ms: 50, fleet: 2 };

/** The Redis cases; none, with a note printed, where there is no redis-server (outside CI). */
export async function redisCases(s: RedisSettings): Promise<Case[]> {
  const binary = findRedisServer();
  if (binary === undefined) {
    if (!['', '0', 'false'].includes(process.env.CI ?? ''))
      throw new Error(NO_REDIS.replace('did not run', 'cannot run in CI'));
    console.log(NO_REDIS);
    return [];
  }
  const server = await startRedisServer(binary);
  const procs = await Promise.all(Array.from({ length: s.fleet }, start));
  try {
    return await measureAll(s, server.url, procs);
  } finally {
    await Promise.all(procs.map(exitByItself));
    await server.stop();
  }
}

/** Lets a process go (closes its channel) and waits for it to exit by itself: 10 s at most, then kills it. */
async function exitByItself(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.disconnect();
  const timer = setTimeout(() => {
    console.log(`a Redis bench process (pid ${p.child.pid}) did not exit by itself within 10 s: killed`);
    p.child.kill('SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * What the server has run so far, from INFO commandstats: every command (those the scripts call
 * included) and the scripts themselves (EVAL, EVALSHA, FCALL); this INFO is left out. The difference
 * over a run is what a contender cost the server, connecting included, polling too.
 */
interface Count {
  all: number;
  scripts: number;
}
async function commandsServed(admin: Redis): Promise<Count> {
  const info = await admin.info('commandstats');
  const count: Count = { all: -1, scripts: 0 };
  for (const [, name, calls] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
    count.all += Number(calls);
    if (/^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/.test(name!)) count.scripts += Number(calls);
  }
  return count;
}
const per = (c: Count, n: number) => `${(c.all / n).toFixed(1)} (${(c.scripts / n).toFixed(1)} of them scripts)`;

async function measureAll(s: RedisSettings, url: string, procs: Proc[]): Promise<Case[]> {
  const admin = new Redis(url);
  try {
    return await measureWith(s, url, procs, admin);
  } finally {
    await admin.quit();
  }
}

async function measureWith(s: RedisSettings, url: string, procs: Proc[], admin: Redis): Promise<Case[]> {
  const cases: Case[] = [];
  let before: Count = { all: 0, scripts: 0 };
  const countFrom = async () => void (before = await commandsServed(admin));
  const counted = async (): Promise<Count> => {
    const after = await commandsServed(admin);
    return { all: after.all - before.all - 1, scripts: after.scripts - before.scripts };
  };
  const pairOf = procs.slice(0, 2);
  const rounds = (c: string) =>
    (PEERS as readonly string[]).includes(c) ? Math.min(s.rounds, s.slowRounds) : s.rounds;

  const groups: {
    id: string;
    kind: 'handoff' | 'event';
    title: string;
    label: string;
    limit: string;
    names: string[];
  }[] = [
    {
      id: 'redis-lock',
      label: 'lock hand-off, one way',
      kind: 'handoff',
      title: 'Redis lock hand-off, one way: release in process A -> acquire resolved in process B, ioredis',
      limit: RAW_LOCK.ioredis,
      names: [OURS_LOCK.ioredis, RAW_LOCK.ioredis, ...PEERS],
    },
    {
      id: 'redis-lock-node-redis',
      label: 'lock hand-off, one way',
      kind: 'handoff',
      title: 'Redis lock hand-off, one way: release in process A -> acquire resolved in process B, node-redis',
      limit: RAW_LOCK['node-redis'],
      names: [OURS_LOCK['node-redis'], RAW_LOCK['node-redis']],
    },
    {
      id: 'redis-event',
      label: 'RedisEvent set() -> wait()',
      kind: 'event',
      title: 'RedisEvent set() in process A -> wait() resolved in process B, ioredis',
      limit: RAW_EVENT.ioredis,
      names: [OURS_EVENT.ioredis, RAW_EVENT.ioredis],
    },
    {
      id: 'redis-event-node-redis',
      label: 'RedisEvent set() -> wait()',
      kind: 'event',
      title: 'RedisEvent set() in process A -> wait() resolved in process B, node-redis',
      limit: RAW_EVENT['node-redis'],
      names: [OURS_EVENT['node-redis'], RAW_EVENT['node-redis']],
    },
  ];
  for (const g of groups) {
    const times = new Map<string, number[]>(g.names.map((n) => [n, []]));
    const commands = new Map<string, Count>(g.names.map((n) => [n, { all: 0, scripts: 0 }]));
    for (let pass = 0; pass < s.passes; pass++) {
      for (const name of g.names) {
        if (process.env.BENCH_DEBUG) console.log(`  [${g.id}: ${name}] at ${(performance.now() / 1000).toFixed(2)} s`);
        await countFrom();
        times.get(name)!.push(...(await oneWay(g.kind, name, rounds(name), url, pairOf)));
        const c = await counted();
        const sum = commands.get(name)!;
        commands.set(name, { all: sum.all + c.all, scripts: sum.scripts + c.scripts });
      }
    }
    const counts = g.names.map((n) => `${n}: ${times.get(n)!.length}`);
    const perRound = g.names.map((n) => `${n}: ${per(commands.get(n)!, rounds(n) * s.passes)}`);
    cases.push({
      id: g.id,
      title: g.title,
      label: g.label,
      unit: 'ns/hand-off, one way (spread: fastest..p99)',
      limit: g.limit,
      rows: g.names.map((n) => latencyRow(n, times.get(n)!)),
      skipped: [
        `hand-offs timed (warm-up left out): ${counts.join(', ')}`,
        `commands the server ran per round (both processes, connecting included, calls inside scripts counted): ${perRound.join(', ')}`,
      ],
    });
  }

  for (const work of [false, true]) cases.push(await contended(s, url, procs, work, countFrom, counted));
  return cases;
}

/** Throughput: the whole fleet on one lock, each process acquiring and releasing in a loop. */
async function contended(
  s: RedisSettings,
  url: string,
  procs: Proc[],
  work: boolean,
  countFrom: () => Promise<void>,
  counted: () => Promise<Count>,
): Promise<Case> {
  const names: LockName[] = [OURS_LOCK.ioredis, OURS_LOCK['node-redis'], ...PEERS];
  type Run = { ns: number; fewest: number; most: number; overlaps: number; commands: string };
  const runs = new Map<LockName, Run[]>(names.map((n) => [n, []]));
  for (let pass = 0; pass < s.passes; pass++) {
    for (const name of names) {
      if (process.env.BENCH_DEBUG)
        console.log(
          `  [redis-throughput${work ? '-work' : ''}: ${name}] at ${(performance.now() / 1000).toFixed(2)} s`,
        );
      await countFrom();
      const r = await fleetRun(name, s.ms, url, procs, work);
      const commands = per(await counted(), Math.max(1, r.total));
      runs.get(name)!.push({ ns: r.total > 0 ? (s.ms * 1e6) / r.total : Infinity, ...r, commands });
    }
  }
  const how = work
    ? 'each turn one round trip to Redis at each end (a holder count), 1 ms of work between turns'
    : 'nothing between acquire and release, nor between turns';
  return {
    id: work ? 'redis-throughput-work' : 'redis-throughput',
    label: `${procs.length} processes on one lock, ${work ? 'with work' : 'back to back'} (ns per pair)`,
    title: `Redis lock, contended: ${procs.length} processes on one lock in a loop, ${how}; ${s.passes} runs of ${s.ms / 1000} s`,
    unit: 'ns per acquire + release, fleet-wide (spread: fastest..slowest run)',
    rows: names.map((name) => {
      const ns = runs
        .get(name)!
        .map((r) => r.ns)
        .sort((x, y) => x - y);
      return { name, ns: median(ns), min: ns[0]!, max: ns.at(-1)! };
    }),
    skipped: names.map((name) => {
      const r = runs.get(name)!;
      const perRun = r.map((x) => `${x.fewest}..${x.most}`).join(', ');
      const ops = r.map((x) => Math.round((s.ms * 1e6) / x.ns)).join(', ');
      const commands = r.map((x) => x.commands).join(', ');
      const overlaps = r.reduce((n, x) => n + x.overlaps, 0);
      return (
        `${name}: ${ops} pairs per run; fewest..most by one process: ${perRun}; commands the server ran per pair (calls inside scripts counted): ${commands}` +
        (work ? `; turns that found another holder: ${overlaps}` : '')
      );
    }),
  };
}
