/**
 * One round trip between two threads, written once per variant: side A pings and times the round, side
 * B answers. The raw variants drive one Int32 word directly (A writes odd values, B even ones); the
 * SharedEvent variants use two events, ping and pong, in the same buffer. The same code runs in Node's
 * worker_threads (bench/threads.ts) and, served as JavaScript, on a Chromium page and in its module
 * workers (bench/browser/): it uses nothing but the language, Atomics, timers and `performance.now()`,
 * and the library classes it is given.
 */
import type * as Lib from '../lib/index.js';

/** The library classes a round trip uses: the built `dist/`, as users run it. */
export type Classes = Pick<typeof Lib, 'SharedEvent' | 'SharedLock'> & Partial<Pick<typeof Lib, 'SharedSemaphore'>>;

export type Variant =
  | 'SharedEvent wait <-> wait'
  | 'raw waitAsync <-> waitAsync'
  | 'SharedEvent wait <-> waitSync'
  | 'raw waitAsync <-> Atomics.wait'
  | 'SharedEvent waitSync <-> waitSync'
  | 'raw Atomics.wait <-> Atomics.wait'
  | 'SharedLock acquire <-> acquire'
  | 'SharedSemaphore acquire <-> acquire'
  | 'SharedLock release -> acquireSync'
  | 'raw notify -> Atomics.wait'
  | 'navigator.locks request <-> request'
  | 'postMessage';

/**
 * The awaiting lock variants: a round trip is two hand-offs, A -> B -> A, each to the other thread,
 * waiting in line. Every release must find the other side in line (else it lets go and the releaser takes
 * the lock back, which measures re-taking): each side gets in line for its next turn before it releases
 * (FIFO puts it behind the other). B counts its turns in the word before the lock, and A checks that B had
 * exactly one per round (a round that was not two hand-offs is left out and counted, `missed`).
 */
type LockVariant = 'SharedLock acquire <-> acquire' | 'SharedSemaphore acquire <-> acquire';
const lockSides: Record<LockVariant, Side> = {
  'SharedLock acquire <-> acquire': 'async',
  'SharedSemaphore acquire <-> acquire': 'async',
};

/**
 * The lock of a lock variant: a SharedLock, or a SharedSemaphore(1), whose words start with the same
 * layout (a state word, the ticket counter, 32 seats; the semaphore's grants words follow) and whose
 * hand-off is the same: a permit released to the other side, waiting in line.
 */
function lockOf(variant: Variant, buffer: SharedArrayBuffer, classes: Classes) {
  if (variant !== 'SharedSemaphore acquire <-> acquire') return new classes.SharedLock(buffer, LOCK_AT);
  return new classes.SharedSemaphore!(1, buffer, LOCK_AT);
}

/**
 * The blocking variants are timed one way, a single hand-off: a blocking side cannot get in line for its
 * next turn while it holds the lock, so a round trip of two blocking sides would time one side waiting for
 * the other to be back in line, which raw ping-pong never does (a raw notify needs nobody asleep). Per
 * round, untimed: A holds the lock (or, raw, the word reads the round), B says it is about to block and
 * blocks, in `acquireSync()` (or `Atomics.wait` on the word); A, asleep meanwhile, waits until B's seat is
 * published (napping, see `untilOtherInLine`), then naps 100 µs, so that B is asleep. Timed: A reads the
 * clock and releases (raw: stores the next round in the word and notifies); B, woken with the lock, reads
 * the clock and says it is awake. Then, untimed: B releases and says so, A takes the lock back.
 *
 * The clock: in Node, `process.hrtime`, the process-wide monotonic clock, which every thread shares (two
 * threads reading it agree to within 0.3 µs); the hand-off is B's time less A's. A browser has no such
 * clock: each worker's `performance.now()` counts from its own time origin, and `timeOrigin` is not precise
 * enough to line two of them up (B's time less A's came out negative there). So A times the hand-off
 * alone, spinning until B says it is awake (that word reaches A in well under a microsecond, for the raw
 * limit as for the lock). Chromium coarsens `performance.now()` to 5 µs (with jitter, so that a mean
 * comes out right): A keeps the mean of each batch of `batch` hand-offs.
 *
 * A release that finds B published but not yet blocked in `Atomics.wait` (its notify wakes nobody) takes
 * the grant back, as SharedLock's protocol says, and B gets the lock on its way back into line: A looks
 * at B's seat right after releasing (one word, found DEAD), and such a round is left out and counted
 * (`missed`).
 */
type OneWay = 'SharedLock release -> acquireSync' | 'raw notify -> Atomics.wait';
const oneWay: Record<OneWay, boolean> = {
  'SharedLock release -> acquireSync': true,
  'raw notify -> Atomics.wait': false,
};

/** Whether `variant` is timed one way, one hand-off per round (see {@link oneWay}). */
export const isOneWay = (variant: string): boolean => variant in oneWay;

/** Node's process-wide monotonic clock, in ns; undefined in a browser. */
const hrtime = (globalThis as { process?: { hrtime?: { bigint?: () => bigint } } }).process?.hrtime?.bigint;
/** The clock every thread shares, in ms, where there is one. */
const sharedNow = hrtime === undefined ? undefined : () => Number(hrtime()) / 1e6;

/** Index of the Int32 word where the one-way variants step through each round (see `step`). */
const STEP = 2;
/** Index of the Float64 slot where B writes the time it had the lock (with a shared clock). */
const STAMP = 3;
/** The steps of round r: A holds the lock, B may go; B is about to block; B has the lock; B let it go. */
const step = {
  go: (r: number) => 4 * r + 1,
  blocking: (r: number) => 4 * r + 2,
  awake: (r: number) => 4 * r + 3,
  done: (r: number) => 4 * r + 4,
};

/** Blocks until the Int32 word `i` of `words` reads `value` (it only grows). */
function until(words: Int32Array, i: number, value: number): void {
  for (let v; (v = Atomics.load(words, i)) !== value;) Atomics.wait(words, i, v);
}

function say(words: Int32Array, value: number): void {
  Atomics.store(words, STEP, value);
  Atomics.notify(words, STEP);
}

/**
 * Side A of a one-way variant: the time of each hand-off (ms; with `batch` > 1, the mean of each batch),
 * and how many were left out.
 */
function oneWayA(
  variant: OneWay,
  buffer: SharedArrayBuffer,
  rounds: number,
  { SharedLock }: Classes,
  batch: number,
): Rounds {
  const words = new Int32Array(buffer, 0, 4);
  const stamps = new Float64Array(buffer, 0, 4);
  const lock = oneWay[variant] ? new SharedLock(buffer, LOCK_AT) : undefined;
  const lockWords = new Int32Array(buffer, LOCK_AT, SharedLock.BYTES / 4);
  const nap = new Int32Array(buffer, 4, 1); // TURNS: nobody notifies it here
  const now = sharedNow ?? (() => performance.now());
  const out: Rounds = { times: [], missed: 0 };
  let sum = 0;
  let n = 0;
  lock?.acquireSync();
  for (let r = 0; r < rounds; r++) {
    say(words, step.go(r));
    until(words, STEP, step.blocking(r));
    const seat = lock === undefined ? -1 : untilOtherInLine(lockWords, nap);
    Atomics.wait(nap, 0, 0, 0.1); // B asleep
    const t = now();
    if (lock !== undefined) lock.release();
    else {
      Atomics.store(words, 0, r + 1);
      Atomics.notify(words, 0);
    }
    const dead = seat >= 0 && (Atomics.load(lockWords, seat) & 7) === 5; // DEAD: a grant B was not woken for
    let time = 0;
    if (sharedNow === undefined) {
      while (Atomics.load(words, STEP) === step.blocking(r)); // until B is awake
      time = now() - t;
    }
    until(words, STEP, step.done(r));
    if (sharedNow !== undefined) time = stamps[STAMP]! - t;
    if (dead) out.missed++;
    else {
      sum += time;
      if (++n === batch) {
        out.times.push(sum / batch);
        sum = n = 0;
      }
    }
    lock?.acquireSync(); // free: B let it go
  }
  lock?.release();
  return out;
}

function oneWayB(variant: OneWay, buffer: SharedArrayBuffer, rounds: number, { SharedLock }: Classes): void {
  const words = new Int32Array(buffer, 0, 4);
  const stamps = new Float64Array(buffer, 0, 4);
  const lock = oneWay[variant] ? new SharedLock(buffer, LOCK_AT) : undefined;
  for (let r = 0; r < rounds; r++) {
    until(words, STEP, step.go(r));
    say(words, step.blocking(r));
    if (lock !== undefined) lock.acquireSync();
    else while (Atomics.load(words, 0) === r) Atomics.wait(words, 0, r);
    if (sharedNow !== undefined) stamps[STAMP] = sharedNow();
    Atomics.store(words, STEP, step.awake(r)); // A, spinning, needs no notify
    lock?.release();
    say(words, step.done(r));
  }
}

/**
 * Where the lock variants' lock lives in the buffer: after the event variants' two events (bytes 0..15,
 * each a word and its kind word), and the one-way variants' step word (2) and time slot (bytes 24..31).
 */
export const LOCK_AT = 32;
/** Index of the Int32 word where B counts its turns, in the lock variants (free there). */
const TURNS = 1;

/** The name of the lock the navigator.locks variant takes turns on. */
const WEB_LOCK = 'awaitable-event bench';

type Side = 'async' | 'sync';

/** How each side of a variant waits (A first). */
const sides: Record<
  Exclude<Variant, 'postMessage' | 'navigator.locks request <-> request' | LockVariant | OneWay>,
  [Side, Side, boolean]
> = {
  'SharedEvent wait <-> wait': ['async', 'async', true],
  'raw waitAsync <-> waitAsync': ['async', 'async', false],
  'SharedEvent wait <-> waitSync': ['async', 'sync', true],
  'raw waitAsync <-> Atomics.wait': ['async', 'sync', false],
  'SharedEvent waitSync <-> waitSync': ['sync', 'sync', true],
  'raw Atomics.wait <-> Atomics.wait': ['sync', 'sync', false],
};

const pause = () => new Promise((r) => setTimeout(r, 1));

/**
 * The index in `words` (the words of a lock) of a seat published (WAITING), or -1: whether a thread waits
 * in line for the lock. The layout is SharedLock's (lib/shared/shared-lock.ts): the lock word, the ticket
 * counter, then 32 seats, each a state in bits 0..2 (WAITING = 2, DEAD = 5) and a ticket.
 */
function seatInLine(words: Int32Array): number {
  for (let i = 2; i < words.length; i++) if ((Atomics.load(words, i) & 7) === 2) return i;
  return -1;
}

const inLine = (words: Int32Array): boolean => seatInLine(words) >= 0;

/**
 * Waits until the other side, blocking, waits in line (only it can), and returns its seat: naps 20 µs at
 * a time on `nap` (a word nobody notifies), asleep as the raw variant's A is while its B gets ready to
 * block. Not a spin: A spinning while B got in line made the hand-off that followed slower, for the raw
 * limit as much as for the lock (its median 1.5x, measured with a raw B that marked a word before
 * blocking), by where the two threads were left to run.
 */
function untilOtherInLine(words: Int32Array, nap: Int32Array): number {
  for (let seat; ; Atomics.wait(nap, 0, 0, 0.02)) if ((seat = seatInLine(words)) >= 0) return seat;
}

/** A's rounds: the time of each (ms, per round), and how many rounds were left out. */
export interface Rounds {
  times: number[];
  missed: number;
}

/**
 * A's clock: times its rounds in batches of `batch` and keeps each batch's time per round (a browser
 * coarsens performance.now(), to 5 µs on a cross-origin isolated Chromium page: too coarse for one round;
 * Node times each round). The clock runs from start() on. With `turns` (the lock variants), a batch in which B did not have exactly one turn
 * per round is left out, its rounds counted in `missed`.
 */
class Laps {
  readonly times: number[] = [];
  missed = 0;
  #t0 = 0;
  #n = 0;
  #seen = 0;
  readonly #batch: number;
  readonly #turns: Int32Array | undefined;
  constructor(batch: number, turns?: Int32Array) {
    this.#batch = batch;
    this.#turns = turns;
  }
  start(): void {
    this.#t0 = performance.now();
  }
  /** After each round. */
  lap(): void {
    if (++this.#n < this.#batch) return;
    const now = performance.now();
    const seen = this.#turns === undefined ? 0 : Atomics.load(this.#turns, TURNS);
    if (this.#turns === undefined || seen - this.#seen === this.#batch) this.times.push((now - this.#t0) / this.#batch);
    else this.missed += this.#batch;
    this.#t0 = now;
    this.#seen = seen;
    this.#n = 0;
  }
  result(): Rounds {
    return { times: this.times, missed: this.missed };
  }
}

/** Waits, without the library, until the word is no longer `value`. */
async function rawAwait(word: Int32Array, value: number, side: Side): Promise<void> {
  while (Atomics.load(word, 0) === value) {
    if (side === 'sync') Atomics.wait(word, 0, value);
    else {
      const r = Atomics.waitAsync(word, 0, value);
      if (r.async) await r.value;
    }
  }
}

/** The Web Locks API, where the runtime has it (a browser page or worker; not Node 20). */
interface WebLocks {
  request(name: string, callback: () => unknown): Promise<unknown>;
  query(): Promise<{ pending?: { name?: string }[] }>;
}
const webLocks = () => (globalThis as unknown as { navigator: { locks: WebLocks } }).navigator.locks;

/**
 * navigator.locks: two threads alternate one named lock, each turn a hand-off to the other side, which
 * is already waiting. The API only has callback-scoped requests, granted FIFO per name: each side asks
 * for its next turn inside its callback, before the callback returns (and so releases the lock), which
 * puts that request behind the other side's, already pending. To start, A takes the lock, B (seeing A
 * holds it) asks for it, and A's first turn lasts until the lock manager lists B's request as pending.
 * A's round r runs from the start of its turn r to the start of its turn r + 1: two hand-offs.
 */
function webLocksA(buffer: SharedArrayBuffer, rounds: number, batch: number): Promise<Rounds> {
  const words = new Int32Array(buffer, 0, 2);
  const laps = new Laps(batch, words);
  return new Promise((resolve, reject) => {
    let r = 0;
    const turn = async () => {
      if (r === 0) {
        Atomics.store(words, 0, 1); // A holds the lock: B may ask for it
        while (!(await webLocks().query()).pending?.some((l) => l.name === WEB_LOCK)) await pause();
        laps.start();
      } else laps.lap();
      if (r++ < rounds)
        webLocks().request(WEB_LOCK, turn).catch(reject); // behind B
      else resolve(laps.result());
    };
    webLocks().request(WEB_LOCK, turn).catch(reject);
  });
}

async function webLocksB(buffer: SharedArrayBuffer, rounds: number): Promise<void> {
  const words = new Int32Array(buffer, 0, 2);
  while (Atomics.load(words, 0) === 0) await pause(); // A takes the lock first
  await new Promise<void>((resolve, reject) => {
    let r = 0;
    const turn = () => {
      Atomics.add(words, TURNS, 1);
      if (++r < rounds)
        webLocks().request(WEB_LOCK, turn).catch(reject); // behind A
      else resolve();
    };
    webLocks().request(WEB_LOCK, turn).catch(reject);
  });
}

/**
 * Side A: `rounds` round trips (a blocking lock variant goes on until B has had `rounds` turns), timed in
 * batches of `batch` rounds.
 */
export async function pingPongA(
  variant: Variant,
  buffer: SharedArrayBuffer,
  rounds: number,
  classes: Classes,
  batch = 1,
): Promise<Rounds> {
  const { SharedEvent, SharedLock } = classes;
  if (variant === 'navigator.locks request <-> request') return webLocksA(buffer, rounds, batch);
  if (isOneWay(variant)) return oneWayA(variant as OneWay, buffer, rounds, { SharedEvent, SharedLock }, batch);
  const lockSide = (lockSides as Partial<Record<Variant, Side>>)[variant];
  if (lockSide !== undefined) {
    const lock = lockOf(variant, buffer, classes);
    const words = new Int32Array(buffer, LOCK_AT, SharedLock.BYTES / 4);
    const turns = new Int32Array(buffer, 0, 2);
    const laps = new Laps(batch, turns);
    await lock.acquire();
    while (!inLine(words)) await pause(); // B in line
    laps.start();
    for (let r = 0; r < rounds; r++) {
      const back = lock.acquire(); // in line behind B
      lock.release(); // to B
      await back;
      laps.lap();
    }
    lock.release();
    return laps.result();
  }
  const laps = new Laps(batch);
  const [side, , library] = sides[variant as keyof typeof sides];
  laps.start();
  if (library) {
    const ping = new SharedEvent(buffer, 0);
    const pong = new SharedEvent(buffer, SharedEvent.BYTES);
    for (let r = 0; r < rounds; r++) {
      ping.set();
      if (side === 'sync') pong.waitSync();
      else await pong.wait();
      pong.clear();
      laps.lap();
    }
  } else {
    const word = new Int32Array(buffer, 0, 1);
    for (let r = 0; r < rounds; r++) {
      Atomics.store(word, 0, 2 * r + 1);
      Atomics.notify(word, 0);
      await rawAwait(word, 2 * r + 1, side);
      laps.lap();
    }
  }
  return laps.result();
}

export async function pingPongB(
  variant: Variant,
  buffer: SharedArrayBuffer,
  rounds: number,
  classes: Classes,
): Promise<void> {
  const { SharedEvent, SharedLock } = classes;
  if (variant === 'navigator.locks request <-> request') return webLocksB(buffer, rounds);
  if (isOneWay(variant)) return oneWayB(variant as OneWay, buffer, rounds, { SharedEvent, SharedLock });
  const lockSide = (lockSides as Partial<Record<Variant, Side>>)[variant];
  if (lockSide !== undefined) {
    const lock = lockOf(variant, buffer, classes);
    const turns = new Int32Array(buffer, 0, 2);
    while (!lock.locked()) await pause(); // A takes it first, then waits for us
    await lock.acquire();
    for (let r = 0; r < rounds; r++) {
      Atomics.add(turns, TURNS, 1);
      const next = r < rounds - 1 ? lock.acquire() : undefined; // in line behind A
      lock.release(); // to A
      await next;
    }
    return;
  }
  const [, side, library] = sides[variant as keyof typeof sides];
  if (library) {
    const ping = new SharedEvent(buffer, 0);
    const pong = new SharedEvent(buffer, SharedEvent.BYTES);
    for (let r = 0; r < rounds; r++) {
      if (side === 'sync') ping.waitSync();
      else await ping.wait();
      ping.clear();
      pong.set();
    }
  } else {
    const word = new Int32Array(buffer, 0, 1);
    for (let r = 0; r < rounds; r++) {
      await rawAwait(word, 2 * r, side);
      Atomics.store(word, 0, 2 * r + 2);
      Atomics.notify(word, 0);
    }
  }
}
