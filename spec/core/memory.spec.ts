/**
 * Memory follows the number of live waiters, under steady contention too: a queue that never empties
 * must reuse its slots, not grow with every hand-off. The heap is measured while the contention goes on
 * (the queue still holds waiters), at an early and at a late hand-off.
 */
import { expect } from 'chai';
import { Condition, Lock } from '../../lib/index.js';

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in use after a full collection. */
async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc!();
  }
  return process.memoryUsage().heapUsed;
}

const MB = 1024 * 1024;
const EARLY = 10_000;

describe('Memory under steady contention', function () {
  this.timeout(120_000);

  before(function () {
    if (gc === undefined) throw new Error('these tests need node --expose-gc (see .mocharc.json)');
  });

  it('Lock: 3 tasks passing the lock 5 million times keep the heap where it was at the start', async () => {
    const lock = new Lock();
    const handOffs = 5_000_000;
    const heap: number[] = [];
    let done = 0;
    const task = async () => {
      while (done < handOffs) {
        await lock.acquire();
        done++;
        // Measured while holding the lock, the two other tasks queued behind it.
        if (done === EARLY || done === handOffs) heap.push(await heapAfterGc());
        lock.release();
      }
    };
    await Promise.all([task(), task(), task()]);
    expect(done).to.be.within(handOffs, handOffs + 2);
    expect(heap[1]! - heap[0]!, 'heap growth in bytes').to.be.below(1 * MB);
  });

  it('Condition: 4 consumers taking 1 million items keep the heap where it was at the start', async () => {
    const cond = new Condition();
    const items: number[] = [];
    const total = 1_000_000;
    const heap: number[] = [];
    let taken = 0;
    let produced = 0;
    const consumer = async () => {
      for (;;) {
        await cond.acquire();
        try {
          await cond.waitFor(() => items.length > 0 || produced === total);
          if (items.length === 0) return;
          items.shift();
          taken++;
        } finally {
          cond.release();
        }
      }
    };
    const producer = async () => {
      while (produced < total) {
        await cond.acquire();
        try {
          items.push(produced++);
          if (produced === EARLY || produced === total - 1) heap.push(await heapAfterGc());
          if (produced === total) cond.notifyAll();
          else cond.notify();
        } finally {
          cond.release();
        }
      }
    };
    await Promise.all([consumer(), consumer(), consumer(), consumer(), producer()]);
    expect(taken).to.equal(total);
    expect(heap[1]! - heap[0]!, 'heap growth in bytes').to.be.below(1 * MB);
  });
});
