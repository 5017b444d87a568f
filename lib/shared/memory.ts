/*
 * Where a cross-thread primitive's words live: the `buffer` / `byteOffset` arguments every shared
 * primitive takes, checked once, with one set of messages.
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
 * naming the argument and showing the value.
 */
export function sharedMemory(
  name: string,
  what: string,
  bytes: number,
  buffer: SharedArrayBuffer | undefined,
  byteOffset: number,
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
  return { buffer, byteOffset, words: new Int32Array(buffer), index: byteOffset / 4 };
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
