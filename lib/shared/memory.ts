/*
 * Where a cross-thread primitive's words live: the `buffer` / `byteOffset` arguments every shared
 * primitive takes, checked once, with one set of messages; and what a primitive is, as its memory says.
 *
 * # The kind word
 *
 * The last word of every primitive's memory (so `BYTES` counts it) says which primitive the memory
 * holds:
 *
 *     0                          fresh memory: no primitive yet
 *     TAG | kind << 4            a primitive of that kind (its Kind's id: 1 SharedEvent, 2 SharedLock,
 *                                3 SharedCondition, 4 SharedSemaphore, 5 SharedBarrier; at most 7);
 *                                TAG carries 'ae' and the layout version
 *     TAG | kind << 4 | BUSY     one being set up: its constructor is writing its first state
 *
 * The low 4 bits are 0, so that a reader of a lock's or a condition's words that takes the kind word for
 * one more seat (a debugging aid, a test) reads a FREE one.
 *
 * It is written once, by the first constructor to find it 0: a compare-exchange 0 → TAG | kind << 4 (or
 * → TAG | kind << 4 | BUSY, then the first state, then → TAG | kind << 4, for a primitive whose first
 * state is not all zeros: `init`). So exactly one constructor finds the memory fresh, in any thread, and only that one
 * writes a first state; a constructor that finds BUSY waits the few instructions until it is done; a
 * constructor that finds another kind's word, or a word that is no kind's, refuses the memory
 * (`TypeError`) instead of reading someone else's words as its own. The word is at the end, so the
 * primitive's own words keep their indexes from `byteOffset` on.
 *
 * The kind word is what lets `from(value)` rebuild a primitive from its structured clone (a posted
 * object arrives as a plain object of its own enumerable data properties: `buffer` and `byteOffset`,
 * and a condition's `sharedLock`): the clone of a lock and that of an event look alike, their memory
 * does not. Threads cannot see each other's layouts (below); the kind word tells a thread only what
 * a primitive's own place holds.
 *
 * # Overlap within a thread
 *
 * Each thread records where its live primitives sit in each buffer, and refuses one whose words
 * overlap another's (an event over a lock's words, a condition over its own lock's): they would
 * silently corrupt each other. A place is held while its object lives (weakly: a dropped object holds
 * it until collected). Threads cannot see each other's records: a layout shared across threads is the
 * caller's to keep apart. `from(value)` on a thread that has a live primitive of the kind at the place
 * returns that object. Places are told apart by their `SharedArrayBuffer` object: every message brings
 * new ones over the same memory (and a primitive received twice rebuilds to two objects, which work
 * together as two threads' do).
 *
 * # A new kind
 *
 * Add its Kind, with the id reserved for it above, to KINDS; its constructor calls
 * `sharedMemory(KIND, buffer, byteOffset, this, init?)`, and `memory.fresh` says whether it set the
 * memory up; its `from(value)` is {@link arrived}, then the live object or a new one over the place.
 */
import { describe } from '../core/arguments.js';
import { mayBlock } from './word.js';

/** A kind of shared primitive: its number, its class's name, a phrase for messages, its bytes. */
export interface Kind {
  /** Its number in the kind word, 1 to 7: written in memory, so never changed. */
  readonly id: number;
  readonly name: string;
  /** e.g. "an event", in "no room for an event". */
  readonly what: string;
  /** The class's `BYTES`, the kind word included. */
  readonly bytes: number;
}

export const EVENT: Kind = { id: 1, name: 'SharedEvent', what: 'an event', bytes: 8 };
export const LOCK: Kind = { id: 2, name: 'SharedLock', what: 'a lock', bytes: 140 };
export const CONDITION: Kind = { id: 3, name: 'SharedCondition', what: 'a condition', bytes: 264 };
export const SEMAPHORE: Kind = { id: 4, name: 'SharedSemaphore', what: 'a semaphore', bytes: 268 };
export const BARRIER: Kind = { id: 5, name: 'SharedBarrier', what: 'a barrier', bytes: 276 };

/** Every kind. */
const KINDS = [EVENT, LOCK, CONDITION, SEMAPHORE, BARRIER];
/** The kind word's fixed bits: 'a' 'e', then the layout version (1); the kind is in bits 4..6. */
const TAG = 0x61650100;
/** Set in the kind word while the constructor that found the memory fresh writes its first state. */
const BUSY = 0x80;

/** The kind word of `kind`, once set up. */
const tagOf = (kind: Kind) => TAG | (kind.id << 4);

/** The kind a kind word names (set up or BUSY), or undefined when it names none. */
const kindOf = (word: number) =>
  (word & ~0xff) === TAG && (word & 0xf) === 0 ? KINDS.find((k) => k.id === ((word >> 4) & 7)) : undefined;

/** A primitive's place in shared memory: its buffer, its offset, and its words from `index` on. */
export interface Memory {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  /** The whole buffer's words; the primitive's start at `index`, its kind word is its last. */
  readonly words: Int32Array;
  readonly index: number;
  /** Whether this constructor found the memory fresh (and set it up): see the kind word. */
  readonly fresh: boolean;
}

/**
 * Checks `buffer` and `byteOffset` for a primitive of `kind`, or allocates a zeroed buffer of
 * `kind.bytes` when `buffer` is undefined, and claims its kind word (see the top of this file): when
 * the memory is fresh, `init` (if given) writes its first state before any other thread may use it.
 * Throws `TypeError` / `RangeError` naming the argument and showing the value; `TypeError` when the
 * words overlap those of another primitive of this thread (see {@link place}), or when the memory holds
 * another kind of primitive, or is not zeroed. `owner`, the object being built, holds the place.
 *
 * @example
 * ```ts
 * const memory = sharedMemory(SEMAPHORE, buffer, byteOffset, this, (words, index) =>
 *   Atomics.store(words, index, value),
 * );
 * ```
 */
export function sharedMemory(
  kind: Kind,
  buffer: SharedArrayBuffer | undefined,
  byteOffset: number,
  owner: object,
  init?: (words: Int32Array, index: number) => void,
): Memory {
  const { name, what, bytes } = kind;
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
  byteOffset += 0; // -0 is 0
  place(owner, name, bytes, buffer, byteOffset);
  // Whole words only: a buffer's last bytes beyond a multiple of 4 are not used.
  const words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  const index = byteOffset / 4;
  let fresh: boolean;
  try {
    fresh = claim(kind, words, index + bytes / 4 - 1, byteOffset, init);
  } catch (error) {
    unplace(buffer, byteOffset);
    throw error;
  }
  return { buffer, byteOffset, words, index, fresh };
}

/**
 * Claims the kind word at `at` for `kind`: true when it was fresh (0), after `init` ran; false when a
 * primitive of `kind` is there already (set up, or waited for while BUSY). Throws `TypeError` otherwise.
 */
function claim(
  kind: Kind,
  words: Int32Array,
  at: number,
  byteOffset: number,
  init: ((words: Int32Array, index: number) => void) | undefined,
): boolean {
  const tag = tagOf(kind);
  const busy = tag | BUSY;
  let found = Atomics.compareExchange(words, at, 0, init === undefined ? tag : busy);
  if (found === 0) {
    if (init !== undefined) {
      init(words, byteOffset / 4);
      Atomics.store(words, at, tag);
      Atomics.notify(words, at);
    }
    return true;
  }
  // Another thread's constructor is writing the first state: a few instructions.
  while (found === busy) {
    if (mayBlock()) Atomics.wait(words, at, busy, 1);
    found = Atomics.load(words, at);
  }
  if (found === tag) return false;
  const other = kindOf(found)?.name;
  throw new TypeError(
    other === undefined
      ? `${kind.name} at byteOffset ${byteOffset} needs zeroed memory or a ${kind.name}'s, ` +
          `but its last word (at byteOffset ${at * 4}) holds ${found}`
      : `${kind.name} at byteOffset ${byteOffset} would overlap a ${other}: ` +
          `the word at byteOffset ${at * 4} is that ${other}'s kind word`,
  );
}

/** Where `from(value)` found a primitive's memory: this thread's live object there, if any. */
export interface Arrived<T> {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  /** The value, checked to be an object: a clone's other fields (a condition's `sharedLock`). */
  readonly value: Readonly<Record<string, unknown>>;
  /** The live object of `kind` this thread has at the place (the newest one made there), or undefined. */
  readonly live: T | undefined;
}

/**
 * For a primitive's `from(value)`: checks that `value` has the `buffer` and `byteOffset` of a primitive
 * of `kind` whose memory says so (its kind word), and finds this thread's live object there. Throws a
 * `TypeError` naming what is wrong (`label`, "value" or "value.sharedLock", and the field) and showing
 * the value, prefixed with `caller`.
 *
 * @example
 * ```ts
 * static from(value: unknown): SharedEvent {
 *   if (value instanceof SharedEvent) return value;
 *   const at = arrived<SharedEvent>(EVENT, value);
 *   return at.live ?? new SharedEvent(at.buffer, at.byteOffset);
 * }
 * ```
 */
export function arrived<T extends object>(
  kind: Kind,
  value: unknown,
  label: string = 'value',
  caller: string = `${kind.name}.from()`,
): Arrived<T> {
  const { name, what, bytes } = kind;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `${caller}: ${label} must be a ${name} or what one becomes when posted, got ${describe(value)}`,
    );
  }
  const { buffer, byteOffset } = value as { buffer?: unknown; byteOffset?: unknown };
  if (!isSharedArrayBuffer(buffer)) {
    throw new TypeError(`${caller}: ${label}.buffer must be a SharedArrayBuffer, got ${describe(buffer)}`);
  }
  const length = buffer.byteLength;
  if (typeof byteOffset !== 'number' || !Number.isInteger(byteOffset) || byteOffset % 4 !== 0 || byteOffset < 0) {
    throw new TypeError(
      `${caller}: ${label}.byteOffset must be a non-negative multiple of 4, got ${describe(byteOffset)}`,
    );
  }
  // The kind word is a primitive's last: where it is depends on the kind. This kind's first.
  const words = new Int32Array(buffer, 0, length >> 2);
  const found = [kind, ...KINDS].find((k) => {
    const end = byteOffset + k.bytes;
    return end <= length && kindOf(Atomics.load(words, end / 4 - 1)) === k;
  });
  if (found !== kind) {
    throw new TypeError(
      found !== undefined
        ? `${caller}: ${label} is a ${found.name}, not a ${name}`
        : byteOffset + bytes > length
          ? `${caller}: ${label}.byteOffset ${byteOffset} leaves no room for ${what} (${bytes} bytes) ` +
            `in ${label}.buffer (${length} bytes)`
          : `${caller}: ${label} is not a ${name}: its memory (byteOffset ${byteOffset} of ${label}.buffer) ` +
            `holds none (its last word, at byteOffset ${byteOffset + bytes - 4}, ` +
            `is ${Atomics.load(words, (byteOffset + bytes) / 4 - 1)})`,
    );
  }
  const live = placed?.get(buffer)?.get(byteOffset);
  return {
    buffer,
    byteOffset,
    value: value as Record<string, unknown>,
    live: live?.name === name ? (live.ref.deref() as T | undefined) : undefined,
  };
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
const WIDEST = 276;

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

/** Forgets the place a constructor that then threw recorded. */
function unplace(buffer: SharedArrayBuffer, byteOffset: number): void {
  placed!.get(buffer)!.delete(byteOffset);
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
