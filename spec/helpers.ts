import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { MessageChannel } from 'node:worker_threads';
import * as sinon from 'sinon';
import { Waiter } from '../lib/core/queue.js';

/** Lets every queued promise job run (fake timers leave microtasks alone). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await null;
}

/** A promise's outcome as seen so far: updated by its own reactions, read after {@link flush}. */
export interface Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  reason?: unknown;
}

/**
 * Lets a wake-up from another object over the same shared memory arrive: real tasks run (an engine's
 * `Atomics.waitAsync` wake-up is one; a MessageChannel message is not faked) and the fake clock moves (the
 * polling fallback's timers), until `t` settles or `rounds` pass.
 */
export async function settle(clock: sinon.SinonFakeTimers, t: Tracked<unknown>, rounds = 100): Promise<void> {
  for (let i = 0; i < rounds && t.state === 'pending'; i++) {
    await new Promise<void>((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port1.once('message', () => {
        port1.close();
        resolve();
      });
      port2.postMessage(null);
    });
    await clock.tickAsync(32);
  }
}

/** A wait's outcome as the model tests compare it: still pending, resolved true/false, or rejected. */
export type Outcome = 'pending' | true | false | 'aborted';

export function outcomeOf(t: Tracked<boolean>): Outcome {
  if (t.state === 'pending') return 'pending';
  if (t.state === 'rejected') return 'aborted';
  return t.value!;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { state: 'pending' };
  promise.then(
    (value) => Object.assign(t, { state: 'fulfilled', value }),
    (reason: unknown) => Object.assign(t, { state: 'rejected', reason }),
  );
  return t;
}

/** Number of waiters an event, lock or condition reports through `util.inspect`. */
export function waiterCount(x: object): number {
  const m = /waiters: (\d+)/.exec(inspect(x));
  if (m === null) throw new Error(`no waiter count in ${inspect(x)}`);
  return Number(m[1]);
}

/** Number of `abort` listeners on a signal. */
export function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

/** What settles a promise: records the order of outcomes by label. */
export function recorder(): { log: string[]; note(label: string, p: Promise<unknown>): void } {
  const log: string[] = [];
  return {
    log,
    note(label, p) {
      p.then(
        (v) => log.push(`${label}:${String(v)}`),
        (e: unknown) => log.push(`${label}:rejected:${e instanceof Error ? e.message : String(e)}`),
      );
    },
  };
}

/**
 * Runs full garbage collections (node --expose-gc), letting finalizers run in between, until `done()` or
 * ten rounds. Only with real timers. Each collection runs in a later job than the last `done()`, since
 * a `WeakRef.deref()` keeps its target alive until the end of the job it ran in.
 */
export async function collectGarbage(done: () => boolean): Promise<void> {
  const nextJob = () => new Promise((r) => setTimeout(r, 0));
  for (let round = 0; round < 10; round++) {
    await nextJob();
    globalThis.gc!();
    await nextJob();
    if (done()) return;
  }
}

/** Counts how many of the objects it was given have been collected (a registry that stays alive). */
export class Collected {
  count = 0;
  readonly #registry = new FinalizationRegistry(() => this.count++);

  add(object: object): void {
    this.#registry.register(object, undefined);
  }
}

/** A fake clock for everything but nextTick and queueMicrotask, which the test runner's own output uses. */
export function fakeClock(): sinon.SinonFakeTimers {
  return sinon.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'],
  });
}

/**
 * Installs a fake clock before each test of the enclosing suite (handed to `use`) and removes it after,
 * failing the test if it left a timer pending.
 */
export function withFakeClock(use: (clock: sinon.SinonFakeTimers) => void): void {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = fakeClock();
    use(clock);
  });
  afterEach(() => {
    const left = clock.countTimers();
    clock.restore();
    if (left !== 0) throw new Error(`${left} timer(s) left pending after the test`);
  });
}

/**
 * How many times `run()` looks at whether a waiter is still in its queue: the work a queue does, counted
 * (a line of N waiters that give up together costs O(N) looks, not O(N²)).
 */
export function queueLooks(run: () => void): number {
  const proto = Waiter.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, 'queued')!;
  let looks = 0;
  // Counted by hand: a spy keeping every call would run out of memory on a quadratic run.
  Object.defineProperty(proto, 'queued', {
    ...own,
    get(this: Waiter) {
      looks++;
      return own.get!.call(this) as boolean;
    },
  });
  try {
    run();
    return looks;
  } finally {
    Object.defineProperty(proto, 'queued', own);
  }
}
