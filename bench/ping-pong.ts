/**
 * One round trip between two threads, written once per variant: side A pings and times the round, side
 * B answers. The raw variants drive one Int32 word directly (A writes odd values, B even ones); the
 * SharedEvent variants use two events, ping and pong, in the same buffer.
 */
import { SharedLock, type SharedEvent as SharedEventClass } from '../lib/index.js';

export type Variant =
  | 'SharedEvent wait <-> wait'
  | 'raw waitAsync <-> waitAsync'
  | 'SharedEvent wait <-> waitSync'
  | 'raw waitAsync <-> Atomics.wait'
  | 'SharedEvent waitSync <-> waitSync'
  | 'raw Atomics.wait <-> Atomics.wait'
  | 'SharedLock acquire <-> acquire'
  | 'SharedLock acquireSync <-> acquireSync'
  | 'postMessage';

/**
 * The lock variants: a round trip is two hand-offs, A -> B -> A, each to the other thread, waiting. Every
 * release must find the other side in line (else it lets go and the releaser takes the lock back, which
 * measures re-taking). An async side gets in line for its next turn before it releases (FIFO puts it
 * behind the other); a blocking side cannot, so the other side waits until it is counted in the lock word.
 */
type LockVariant = 'SharedLock acquire <-> acquire' | 'SharedLock acquireSync <-> acquireSync';
const lockSides: Record<LockVariant, Side> = {
  'SharedLock acquire <-> acquire': 'async',
  'SharedLock acquireSync <-> acquireSync': 'sync',
};

/** Where the lock variants' lock lives in the buffer (after the event variants' words). */
export const LOCK_AT = 8;

type Side = 'async' | 'sync';

/** How each side of a variant waits (A first). */
const sides: Record<Exclude<Variant, 'postMessage' | LockVariant>, [Side, Side, boolean]> = {
  'SharedEvent wait <-> wait': ['async', 'async', true],
  'raw waitAsync <-> waitAsync': ['async', 'async', false],
  'SharedEvent wait <-> waitSync': ['async', 'sync', true],
  'raw waitAsync <-> Atomics.wait': ['async', 'sync', false],
  'SharedEvent waitSync <-> waitSync': ['sync', 'sync', true],
  'raw Atomics.wait <-> Atomics.wait': ['sync', 'sync', false],
};

/** Spins until a blocking side waits for the lock (counted in the lock word: LOCKED + 2 or more). */
function untilOtherInLine(word: Int32Array): void {
  while (Atomics.load(word, 0) < 3);
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

export async function pingPongA(
  variant: Variant,
  buffer: SharedArrayBuffer,
  rounds: number,
  SharedEvent: typeof SharedEventClass,
): Promise<number[]> {
  const times: number[] = [];
  const lockSide = (lockSides as Partial<Record<Variant, Side>>)[variant];
  if (lockSide !== undefined) {
    const lock = new SharedLock(buffer, LOCK_AT);
    const word = new Int32Array(buffer, LOCK_AT, 1);
    await lock.acquire();
    while (Atomics.load(word, 0) < 3) await new Promise((r) => setTimeout(r, 1)); // B in line
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      if (lockSide === 'sync') {
        untilOtherInLine(word);
        lock.release(); // to B
        lock.acquireSync(); // back from B
      } else {
        const back = lock.acquire(); // in line behind B
        lock.release(); // to B
        await back;
      }
      times.push(performance.now() - t0);
    }
    lock.release();
    return times;
  }
  const [side, , library] = sides[variant as keyof typeof sides];
  if (library) {
    const ping = new SharedEvent(buffer, 0);
    const pong = new SharedEvent(buffer, SharedEvent.BYTES);
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      ping.set();
      if (side === 'sync') pong.waitSync();
      else await pong.wait();
      pong.clear();
      times.push(performance.now() - t0);
    }
  } else {
    const word = new Int32Array(buffer, 0, 1);
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      Atomics.store(word, 0, 2 * r + 1);
      Atomics.notify(word, 0);
      await rawAwait(word, 2 * r + 1, side);
      times.push(performance.now() - t0);
    }
  }
  return times;
}

export async function pingPongB(
  variant: Variant,
  buffer: SharedArrayBuffer,
  rounds: number,
  SharedEvent: typeof SharedEventClass,
): Promise<void> {
  const lockSide = (lockSides as Partial<Record<Variant, Side>>)[variant];
  if (lockSide !== undefined) {
    const lock = new SharedLock(buffer, LOCK_AT);
    const word = new Int32Array(buffer, LOCK_AT, 1);
    while (!lock.locked()) await new Promise((r) => setTimeout(r, 1)); // A takes it first, then waits for us
    if (lockSide === 'sync') {
      for (let r = 0; r < rounds; r++) {
        lock.acquireSync();
        untilOtherInLine(word);
        lock.release();
      }
    } else {
      await lock.acquire();
      for (let r = 0; r < rounds; r++) {
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
