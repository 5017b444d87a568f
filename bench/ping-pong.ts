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
export type Classes = Pick<typeof Lib, 'SharedEvent' | 'SharedLock'>;

export type Variant =
  | 'SharedEvent wait <-> wait'
  | 'raw waitAsync <-> waitAsync'
  | 'SharedEvent wait <-> waitSync'
  | 'raw waitAsync <-> Atomics.wait'
  | 'SharedEvent waitSync <-> waitSync'
  | 'raw Atomics.wait <-> Atomics.wait'
  | 'SharedLock acquire <-> acquire'
  | 'SharedLock acquireSync <-> acquireSync'
  | 'navigator.locks request <-> request'
  | 'postMessage';

/**
 * The lock variants: a round trip is two hand-offs, A -> B -> A, each to the other thread, waiting. Every
 * release must find the other side in line (else it lets go and the releaser takes the lock back, which
 * measures re-taking). An async side gets in line for its next turn before it releases (FIFO puts it
 * behind the other); a blocking side cannot, so the other side waits until it is in line: its seat
 * published, not only counted (a release that finds a thread counted but not yet published lets go, and
 * the releaser's own next acquireSync() could take the lock back). With two blocking sides, A's round
 * runs from its release to its having the lock back; A's wait for B to be in line again before it is not
 * timed: that is B's way back into line after its release, which the raw ping-pong overlaps with the next
 * round (a raw notify needs nobody asleep), not a hand-off. (B's wait for A is timed, and short: A gets in
 * line right after its release.)
 *
 * B counts its turns in the word before the lock, and A checks after each round that B had exactly one.
 * A round that was not two hand-offs is left out and counted (`missed`). With two blocking sides it
 * happens, rarely: a release that finds the other side published but not yet blocked in Atomics.wait
 * (its notify wakes nobody) takes the grant back, as SharedLock's protocol says, and that turn is lost;
 * A then goes on until B has had all its turns, so that neither side waits for ever.
 */
type LockVariant = 'SharedLock acquire <-> acquire' | 'SharedLock acquireSync <-> acquireSync';
const lockSides: Record<LockVariant, Side> = {
  'SharedLock acquire <-> acquire': 'async',
  'SharedLock acquireSync <-> acquireSync': 'sync',
};

/** Where the lock variants' lock lives in the buffer (after the event variants' words). */
export const LOCK_AT = 8;
/** Index of the Int32 word where B counts its turns, in the lock variants (free there). */
const TURNS = 1;

/** The name of the lock the navigator.locks variant takes turns on. */
const WEB_LOCK = 'awaitable-event bench';

type Side = 'async' | 'sync';

/** How each side of a variant waits (A first). */
const sides: Record<
  Exclude<Variant, 'postMessage' | 'navigator.locks request <-> request' | LockVariant>,
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
 * Whether a thread waits in line for the lock whose words are `words`: a seat published (WAITING). The
 * layout is SharedLock's (lib/shared/shared-lock.ts): the lock word, the ticket counter, then 32 seats,
 * each a state in bits 0..2 (WAITING = 2) and a ticket.
 */
function inLine(words: Int32Array): boolean {
  for (let i = 2; i < words.length; i++) if ((Atomics.load(words, i) & 7) === 2) return true;
  return false;
}

/**
 * Waits until the other side, blocking, waits in line (only it can): spins up to 100 µs, then naps 50 µs
 * at a time on `nap` (a word nobody notifies), so that the waiting thread does not hold for long a core
 * the other side needs to get in line (a plain spin often cost a scheduler time slice on a loaded machine).
 */
function untilOtherInLine(words: Int32Array, nap: Int32Array): void {
  const spinUntil = performance.now() + 0.1;
  while (!inLine(words)) if (performance.now() > spinUntil) Atomics.wait(nap, 0, 0, 0.05);
}

/** A's rounds: the time of each (ms, per round), and how many rounds were left out. */
export interface Rounds {
  times: number[];
  missed: number;
}

/**
 * A's clock: times its rounds in batches of `batch` and keeps each batch's time per round (a browser
 * coarsens performance.now(), to 5 µs on a cross-origin isolated Chromium page: too coarse for one round;
 * Node times each round). The clock runs from start() on; a round that ends with lap(true) stops it until
 * the next start(). With `turns` (the lock variants), a batch in which B did not have exactly one turn
 * per round is left out, its rounds counted in `missed`.
 */
class Laps {
  readonly times: number[] = [];
  missed = 0;
  #t0 = 0;
  #sum = 0;
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
  lap(pause = false): void {
    if (++this.#n < this.#batch && !pause) return;
    const now = performance.now();
    this.#sum += now - this.#t0;
    this.#t0 = now;
    if (this.#n < this.#batch) return;
    const seen = this.#turns === undefined ? 0 : Atomics.load(this.#turns, TURNS);
    if (this.#turns === undefined || seen - this.#seen === this.#batch) this.times.push(this.#sum / this.#batch);
    else this.missed += this.#batch;
    this.#seen = seen;
    this.#n = 0;
    this.#sum = 0;
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
  { SharedEvent, SharedLock }: Classes,
  batch = 1,
): Promise<Rounds> {
  if (variant === 'navigator.locks request <-> request') return webLocksA(buffer, rounds, batch);
  const lockSide = (lockSides as Partial<Record<Variant, Side>>)[variant];
  if (lockSide !== undefined) {
    const lock = new SharedLock(buffer, LOCK_AT);
    const words = new Int32Array(buffer, LOCK_AT, SharedLock.BYTES / 4);
    const turns = new Int32Array(buffer, 0, 2);
    const laps = new Laps(batch, turns);
    await lock.acquire();
    while (!inLine(words)) await pause(); // B in line
    laps.start();
    if (lockSide === 'sync') {
      while (Atomics.load(turns, TURNS) < rounds) {
        untilOtherInLine(words, turns); // not timed: B's way back into line
        laps.start();
        lock.release(); // to B
        lock.acquireSync(); // back from B
        laps.lap(true);
      }
    } else {
      for (let r = 0; r < rounds; r++) {
        const back = lock.acquire(); // in line behind B
        lock.release(); // to B
        await back;
        laps.lap();
      }
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
  { SharedEvent, SharedLock }: Classes,
): Promise<void> {
  if (variant === 'navigator.locks request <-> request') return webLocksB(buffer, rounds);
  const lockSide = (lockSides as Partial<Record<Variant, Side>>)[variant];
  if (lockSide !== undefined) {
    const lock = new SharedLock(buffer, LOCK_AT);
    const words = new Int32Array(buffer, LOCK_AT, SharedLock.BYTES / 4);
    const turns = new Int32Array(buffer, 0, 2);
    while (!lock.locked()) await pause(); // A takes it first, then waits for us
    if (lockSide === 'sync') {
      for (let r = 0; r < rounds; r++) {
        lock.acquireSync();
        Atomics.add(turns, TURNS, 1);
        untilOtherInLine(words, turns);
        lock.release();
      }
    } else {
      await lock.acquire();
      for (let r = 0; r < rounds; r++) {
        Atomics.add(turns, TURNS, 1);
        const next = r < rounds - 1 ? lock.acquire() : undefined; // in line behind A
        lock.release(); // to A
        await next;
      }
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
