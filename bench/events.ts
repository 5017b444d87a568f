/** The single-thread cases: each returns rows of contenders measured side by side, limit included. */
import { type Contender, type Measured, type Settings, heapPerItem, measure } from './harness.js';
import { LIMIT, type Peer, peers } from './peers.js';

export interface Case {
  id: string;
  title: string;
  unit: string;
  n?: number;
  rows: Measured[];
  /** Contenders, or rounds of one, left out, and why; or other notes on the case. */
  skipped?: string[];
  /** The row the others are compared with, when it is not the bare promises' (the Redis cases'). */
  limit?: string;
  /** A short name for the summary table, where the title is long. */
  label?: string;
}

const noop = () => {};

/** A bare deferred: the least any event has to do for one pending waiter. */
function bareWaiters(n: number, timeout?: number): { all: Promise<unknown>[]; release(): void } {
  const resolvers: ((v: boolean) => void)[] = [];
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    all.push(
      new Promise<boolean>((resolve) => {
        resolvers.push(resolve);
        if (timeout !== undefined) setTimeout(resolve, timeout, false);
      }).then(noop),
    );
  }
  return { all, release: () => resolvers.forEach((r) => r(true)) };
}

/**
 * One contender per peer, plus the limit. `make` gets the peer's event(s), made once and reused by every
 * run (each run leaves them clear), as a program reuses its events.
 */
const contenders = (make: (p: Peer) => Contender['run'], limit: Contender['run'], n = 0): Contender[] => [
  ...peers.filter((p) => n <= (p.maxWaiters ?? Infinity)).map((p) => ({ name: p.name, run: make(p) })),
  { name: LIMIT, run: limit },
];

const skipped = (n: number) =>
  peers.filter((p) => n > (p.maxWaiters ?? Infinity)).map((p) => `${p.name}: not run above N = ${p.maxWaiters}`);

export async function waitOnSetEvent(ops: number, s: Settings): Promise<Case> {
  const rows = await measure(
    contenders(
      (p) => {
        const e = p.create();
        e.set();
        return async () => {
          for (let i = 0; i < ops; i++) await e.wait();
          return ops;
        };
      },
      async () => {
        const resolved = Promise.resolve(true);
        for (let i = 0; i < ops; i++) await resolved;
        return ops;
      },
    ),
    s,
  );
  return { id: 'set-wait', title: 'wait() on a set event, awaited in a loop', unit: 'ns/wait', rows };
}

export async function release(n: number, withTimeout: boolean, s: Settings): Promise<Case> {
  const rows = await measure(
    contenders(
      (p) => {
        const e = p.create();
        return async () => {
          const all: Promise<unknown>[] = [];
          for (let i = 0; i < n; i++) all.push((withTimeout ? e.waitTimeout(60_000) : e.wait()).then(noop));
          e.set();
          e.clear();
          await all[n - 1];
          return n;
        };
      },
      async () => {
        const { all, release } = bareWaiters(n);
        release();
        await all[n - 1];
        return n;
      },
      n,
    ),
    s,
  );
  return withTimeout
    ? {
        id: 'release-timeout',
        title: `set() releasing N waiters, each with wait(60_000)`,
        unit: 'ns/waiter',
        n,
        rows,
        skipped: skipped(n),
      }
    : { id: 'release', title: `set() releasing N pending waiters`, unit: 'ns/waiter', n, rows, skipped: skipped(n) };
}

export async function timeouts(n: number, s: Settings): Promise<Case> {
  const rows = await measure(
    contenders(
      (p) => {
        const e = p.create();
        return async () => {
          const all: Promise<unknown>[] = [];
          for (let i = 0; i < n; i++) all.push(e.waitTimeout(1));
          await Promise.all(all);
          return n;
        };
      },
      async () => {
        await Promise.all(bareWaiters(n, 1).all);
        return n;
      },
      n,
    ),
    s,
  );
  return {
    id: 'timeouts',
    title: 'N waiters that all time out (wait(1))',
    unit: 'ns/waiter',
    n,
    rows,
    skipped: skipped(n),
  };
}

export async function aborts(n: number, shared: boolean, s: Settings): Promise<Case> {
  const swallow = () => {};
  const rows = await measure(
    contenders(
      (p) => {
        const e = p.create();
        return async () => {
          const controllers = Array.from({ length: shared ? 1 : n }, () => new AbortController());
          const all: Promise<unknown>[] = [];
          for (let i = 0; i < n; i++) all.push(e.waitSignal(controllers[shared ? 0 : i]!.signal).catch(swallow));
          for (const c of controllers) c.abort();
          await Promise.all(all);
          return n;
        };
      },
      async () => {
        // The least: one listener per signal, rejecting that signal's deferreds.
        const controllers = Array.from({ length: shared ? 1 : n }, () => new AbortController());
        const rejecters: ((reason: unknown) => void)[][] = controllers.map((c) => {
          const list: ((reason: unknown) => void)[] = [];
          c.signal.addEventListener('abort', () => list.forEach((reject) => reject(c.signal.reason)));
          return list;
        });
        const all: Promise<unknown>[] = [];
        for (let i = 0; i < n; i++) {
          all.push(new Promise((_, reject) => rejecters[shared ? 0 : i]!.push(reject)).catch(swallow));
        }
        for (const c of controllers) c.abort();
        await Promise.all(all);
        return n;
      },
      n,
    ),
    s,
  );
  return shared
    ? { id: 'abort-one', title: 'N waiters aborted through one AbortSignal', unit: 'ns/waiter', n, rows }
    : { id: 'abort-many', title: 'N waiters aborted through N AbortSignals', unit: 'ns/waiter', n, rows };
}

export async function pingPong(rounds: number, s: Settings): Promise<Case> {
  const rows = await measure(
    contenders(
      (p) => {
        const ping = p.create();
        const pong = p.create();
        return async () => {
          const a = (async () => {
            for (let i = 0; i < rounds; i++) {
              ping.set();
              await pong.wait();
              pong.clear();
            }
          })();
          const b = (async () => {
            for (let i = 0; i < rounds; i++) {
              await ping.wait();
              ping.clear();
              pong.set();
            }
          })();
          await Promise.all([a, b]);
          ping.clear();
          pong.clear();
          return rounds;
        };
      },
      async () => {
        // Two deferreds handing the turn back and forth, a new one each time.
        let resolvePing!: () => void;
        let resolvePong!: () => void;
        let ping = new Promise<void>((r) => (resolvePing = r));
        let pong = new Promise<void>((r) => (resolvePong = r));
        const a = (async () => {
          for (let i = 0; i < rounds; i++) {
            resolvePing();
            await pong;
            pong = new Promise<void>((r) => (resolvePong = r));
          }
        })();
        const b = (async () => {
          for (let i = 0; i < rounds; i++) {
            await ping;
            ping = new Promise<void>((r) => (resolvePing = r));
            resolvePong();
          }
        })();
        await Promise.all([a, b]);
        return rounds;
      },
    ),
    s,
  );
  return { id: 'ping-pong', title: 'two tasks handing a turn through two events', unit: 'ns/round trip', rows };
}

/** A task that waits: an async function suspended in `await wait()` (the limit's, on its own deferred). */
async function task(wait: () => Promise<unknown>): Promise<void> {
  await wait();
}

export type WaiterKind = 'plain' | 'timeout' | 'signal' | 'task';

export async function memory(n: number, kind: WaiterKind): Promise<Case> {
  const rows: Measured[] = [];
  const signal = new AbortController().signal;
  for (const p of peers.filter((p) => n <= (p.maxWaiters ?? Infinity))) {
    const e = p.create();
    const bytes = await heapPerItem(
      n,
      (n) => {
        const all: Promise<unknown>[] = [];
        for (let i = 0; i < n; i++) {
          if (kind === 'task') all.push(task(() => e.wait()));
          else
            all.push(kind === 'plain' ? e.wait() : kind === 'timeout' ? e.waitTimeout(60_000) : e.waitSignal(signal));
        }
        return all;
      },
      async () => {
        e.set();
        e.clear();
        await new Promise((r) => setImmediate(r));
      },
    );
    rows.push({ name: p.name, ns: bytes, min: bytes, max: bytes });
  }
  let release = noop;
  const bytes = await heapPerItem(
    n,
    (n) => {
      const resolvers: ((v: boolean) => void)[] = [];
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const deferred = new Promise<boolean>((resolve) => resolvers.push(resolve));
        all.push(kind === 'task' ? task(() => deferred) : deferred);
      }
      release = () => resolvers.splice(0).forEach((r) => r(true));
      return all;
    },
    async () => release(),
  );
  rows.push({ name: LIMIT, ns: bytes, min: bytes, max: bytes });
  const label = {
    plain: 'plain',
    timeout: 'with wait(60_000)',
    signal: 'with a shared signal',
    task: 'an async function suspended in a plain wait',
  }[kind];
  return {
    id: `heap-${kind}`,
    title: `heap bytes per pending waiter, ${label}`,
    unit: 'bytes/waiter',
    n,
    rows,
    skipped: skipped(n),
  };
}
