/** The buffer layout the lock agents and their specs share, and the consumer loop both run. */
import { SharedCondition, SharedLock } from '../../lib/index.js';

/** Where things are in the buffer: the lock, two conditions, then Int32 data words. */
export const layout = {
  lock: 0,
  notFull: SharedLock.BYTES,
  notEmpty: SharedLock.BYTES + SharedCondition.BYTES,
  data: SharedLock.BYTES + 2 * SharedCondition.BYTES,
};

/** Data words (Int32 indexes from layout.data): counter, ring head/tail/count, tallies. */
export const COUNTER = 0;
export const RING_HEAD = 1;
export const RING_COUNT = 2;
export const RING_TAKEN = 3;
export const RING_AT = 8;
export const RING_SIZE = 16;
/** Where consumers mark each item seen (one word per item). */
export const SEEN_AT = RING_AT + RING_SIZE;
export const bufferBytes = (items: number) => layout.data + 4 * (SEEN_AT + items);

/** Takes items until `total` were taken by all consumers; -1 marks the end. Returns how many it took. */
export async function consumeWith(
  total: number,
  sync: boolean,
  l: SharedLock,
  full: SharedCondition,
  empty: SharedCondition,
  d: Int32Array,
): Promise<number> {
  let mine = 0;
  for (let k = 0; ; k++) {
    const blocking = sync && k % 2 === 0;
    if (blocking) l.acquireSync();
    else await l.acquire();
    while (d[RING_COUNT] === 0 && d[RING_TAKEN]! < total) {
      if (blocking) empty.waitSync();
      else await empty.wait();
    }
    if (d[RING_TAKEN]! >= total) {
      empty.notifyAll();
      l.release();
      return mine;
    }
    const item = d[RING_AT + d[RING_HEAD]!]!;
    d[RING_HEAD] = (d[RING_HEAD]! + 1) % RING_SIZE;
    d[RING_COUNT] = d[RING_COUNT]! - 1;
    d[RING_TAKEN] = d[RING_TAKEN]! + 1;
    d[SEEN_AT + item] = d[SEEN_AT + item]! + 1;
    mine++;
    full.notify();
    l.release();
  }
}
