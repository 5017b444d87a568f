// The buffer layout the page and the lock workers share (one SharedLock, two SharedConditions, then Int32
// data words), and the consumer loop of the ring both run: the browser twin of spec/workers/lock-layout.ts.

/** Byte offsets of the lock, the two conditions and the data words, for the classes of the built bundle. */
export const layoutOf = (SharedLock, SharedCondition) => ({
  lock: 0,
  notFull: SharedLock.BYTES,
  notEmpty: SharedLock.BYTES + SharedCondition.BYTES,
  data: SharedLock.BYTES + 2 * SharedCondition.BYTES,
});

/** Data words (Int32 indexes from layout.data): counter, ring head/count/taken, the ring, seen counts. */
export const COUNTER = 0;
export const RING_HEAD = 1;
export const RING_COUNT = 2;
export const RING_TAKEN = 3;
export const RING_AT = 8;
export const RING_SIZE = 16;
/** Where consumers count each item they take (one word per item). */
export const SEEN_AT = RING_AT + RING_SIZE;

/** The buffer for `items` items. */
export const bufferBytes = (layout, items) => layout.data + 4 * (SEEN_AT + items);

/**
 * Takes items until `total` were taken by all consumers, counting each in its seen word. With `sync`,
 * every other item is taken with acquireSync() and waitSync() (which block the thread), the others with
 * acquire() and wait(). Returns how many items it took and how many times it waited on notEmpty.
 */
export async function consume(total, sync, { lock, notFull, notEmpty, data }) {
  let taken = 0;
  let waits = 0;
  for (let k = 0; ; k++) {
    const blocking = sync && k % 2 === 0;
    if (blocking) lock.acquireSync();
    else await lock.acquire();
    while (data[RING_COUNT] === 0 && data[RING_TAKEN] < total) {
      waits++;
      if (blocking) notEmpty.waitSync();
      else await notEmpty.wait();
    }
    if (data[RING_TAKEN] >= total) {
      notEmpty.notifyAll();
      lock.release();
      return { taken, waits };
    }
    const item = data[RING_AT + data[RING_HEAD]];
    data[RING_HEAD] = (data[RING_HEAD] + 1) % RING_SIZE;
    data[RING_COUNT]--;
    data[RING_TAKEN]++;
    data[SEEN_AT + item]++;
    taken++;
    notFull.notify();
    lock.release();
  }
}

/** Puts items `from` .. `from + items - 1` into the ring, waiting on notFull while it is full. */
export async function produce(from, items, { lock, notFull, notEmpty, data }) {
  for (let item = from; item < from + items; item++) {
    await lock.acquire();
    await notFull.waitFor(() => data[RING_COUNT] < RING_SIZE);
    data[RING_AT + ((data[RING_HEAD] + data[RING_COUNT]) % RING_SIZE)] = item;
    data[RING_COUNT]++;
    notEmpty.notify();
    lock.release();
  }
}
