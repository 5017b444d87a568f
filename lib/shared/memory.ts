/*
 * Where a cross-thread primitive's words live: the `buffer` / `byteOffset` arguments every shared
 * primitive takes, checked once, with one set of messages.
 *
 * Each thread records where its live primitives sit in each buffer, and refuses one whose words
 * overlap another's (an event over a lock's words, a condition over its own lock's): they would
 * silently corrupt each other. A place is held while its object lives (weakly: a dropped object holds
 * it until collected). Threads cannot see each other's records: a layout shared across threads is the
 * caller's to keep apart.
 */
import { describe } from '../core/arguments.js';

/** A primitive's place in shared memory: its buffer, its offset, and its words from `index` on. */
export interface Memory {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly words: Int32Array;
  readonly index: number;
}

/**
 * Checks `buffer` and `byteOffset` for a primitive (`what`, e.g. "an event") of `bytes` bytes, or
 * allocates a zeroed buffer of `bytes` when `buffer` is undefined. Throws `TypeError` / `RangeError`
 * naming the argument and showing the value, and `TypeError` when the words overlap those of another
 * primitive of this thread (see {@link place}); `owner`, the object being built, holds the place.
 */
export function sharedMemory(
  name: string,
  what: string,
  bytes: number,
  buffer: SharedArrayBuffer | undefined,
  byteOffset: number,
  owner: object,
): Memory {
  if (buffer === undefined) {
    if (typeof SharedArrayBuffer !== 'function') {
      throw new TypeError(
        `${name} needs SharedArrayBuffer, which this context does not provide ` +
          '(in a browser, the page must be cross-origin isolated: COOP/COEP headers)',
      );
    }
    buffer = new SharedArrayBuffer(bytes);
  } else if (!isSharedArrayBuffer(buffer)) {
    throw new TypeError(
      `buffer must be a SharedArrayBuffer, got ${describe(buffer)} ` +
        '(in a browser, shared memory needs a cross-origin isolated page: COOP/COEP headers)',
    );
  }
  if (typeof byteOffset !== 'number') {
    throw new TypeError(`byteOffset must be a number, got ${describe(byteOffset)}`);
  }
  if (!Number.isInteger(byteOffset) || byteOffset % 4 !== 0 || byteOffset < 0) {
    throw new RangeError(`byteOffset must be a non-negative multiple of 4, got ${byteOffset}`);
  }
  if (byteOffset + bytes > buffer.byteLength) {
    throw new RangeError(
      `byteOffset ${byteOffset} leaves no room for ${what} (${bytes} bytes) ` +
        `in a buffer of ${buffer.byteLength} bytes`,
    );
  }
  place(owner, name, bytes, buffer, byteOffset);
  // Whole words only: a buffer's last bytes beyond a multiple of 4 are not used.
  return { buffer, byteOffset, words: new Int32Array(buffer, 0, buffer.byteLength >> 2), index: byteOffset / 4 };
}

/** A primitive placed in a buffer by this thread, while the object lives. */
interface Placed {
  readonly name: string;
  readonly bytes: number;
  ref: WeakRef<object>;
}

/** The primitives this thread placed in each buffer, by byteOffset. */
let placed: WeakMap<SharedArrayBuffer, Map<number, Placed>> | undefined;

/** The most bytes any primitive occupies: how far back an overlapping one may start. */
const WIDEST = 260;

/**
 * Records a primitive `name` of `bytes` bytes at `byteOffset` of `buffer` for this thread, refusing with
 * a `TypeError` one that overlaps another primitive of this thread still alive there (the same kind at
 * the same offset is the same primitive again: fine). Threads do not see each other's layouts.
 */
function place(owner: object, name: string, bytes: number, buffer: SharedArrayBuffer, byteOffset: number): void {
  let here = (placed ??= new WeakMap()).get(buffer);
  if (here === undefined) placed.set(buffer, (here = new Map()));
  for (let at = Math.max(0, byteOffset - WIDEST + 4); at < byteOffset + bytes; at += 4) {
    const other = here.get(at);
    if (other === undefined || at + other.bytes <= byteOffset) continue;
    if (other.ref.deref() === undefined) here.delete(at);
    else if (at !== byteOffset || other.name !== name) {
      throw new TypeError(
        `${name} at byteOffset ${byteOffset} overlaps a ${other.name} at byteOffset ${at} (${other.bytes} bytes) ` +
          'of the same buffer: each primitive needs words of its own',
      );
    }
  }
  const entry = here.get(byteOffset);
  if (entry === undefined) here.set(byteOffset, { name, bytes, ref: new WeakRef(owner) });
  else entry.ref = new WeakRef(owner); // the same primitive again: the newest object keeps it placed
}

/** Whether `value` is a real SharedArrayBuffer (the platform's `byteLength` getter checks its receiver). */
function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  try {
    Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')!.get!.call(value);
    return true;
  } catch {
    return false;
  }
}
