/**
 * Memory follows the number of live waiters, under steady contention too: a queue that never empties
 * must reuse its slots, not grow with every hand-off. The heap is measured while the contention goes on
 * (the queue still holds waiters), at an early and at a late hand-off.
 */
import { expect } from 'chai';
import { Condition, Event, Lock, Queue, ReadWriteLock, Semaphore, SharedEvent } from '../../lib/index.js';

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

  it('Event and Lock: a burst of 100,000 waiters, once released, leaves the heap where it was', async () => {
    const e = new Event();
    const lock = new Lock();
    await lock.acquire();
    const before = await heapAfterGc();
    const waits: Promise<boolean>[] = [];
    // Timed and plain waits in turn, so that each plain one has an entry of its own (plain waits in a row share one).
    for (let i = 0; i < 100_000; i++) {
      const timeout = i % 2 === 0 ? 60_000 : undefined;
      waits.push(e.wait(timeout), lock.acquire(timeout));
    }
    e.set();
    for (let i = 0; i < 100_000; i++) lock.release();
    await Promise.all(waits);
    waits.length = 0;
    lock.release();
    const after = await heapAfterGc();
    expect(after - before, 'heap growth in bytes').to.be.below(1 * MB);
  });

  it('Semaphore: a burst of 100,000 weighted waiters, once served, leaves the heap where it was', async () => {
    const sem = new Semaphore(0);
    const before = await heapAfterGc();
    const waits: Promise<boolean>[] = [];
    for (let i = 0; i < 100_000; i++) waits.push(sem.acquire({ permits: 2 + (i % 3) }));
    for (let i = 0; i < 100_000; i++) sem.release(2 + (i % 3));
    expect(sem.value).to.equal(0);
    await Promise.all(waits);
    waits.length = 0;
    const after = await heapAfterGc();
    expect(after - before, 'heap growth in bytes').to.be.below(1 * MB);
  });

  for (const [name, make] of [
    ['Event', () => new Event()],
    ['SharedEvent', () => new SharedEvent()],
  ] as const) {
    it(`${name}: the promise plain waiters shared is let go of once set() released them, the event kept`, async () => {
      const e = make();
      const refs: WeakRef<Promise<boolean>>[] = [];
      const wait = async () => {
        const p = e.wait();
        refs.push(new WeakRef(p));
        await p;
      };
      const waits = [wait(), wait(), wait()];
      e.set();
      await Promise.all(waits);
      e.clear();
      // The executor every waiter's promise is made with holds the resolving functions of the last promise
      // it made, whichever primitive made it, until the next: one more wait elsewhere moves that on.
      void new Event().wait();
      await heapAfterGc();
      expect(refs.map((r) => r.deref())).to.deep.equal([undefined, undefined, undefined]);
      expect(e.isSet()).to.equal(false); // the event itself still alive, and clear
    });
  }

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

  it('Condition: a waitFor() woken 1 million times by notifications that leave its predicate false keeps the heap where it was', async () => {
    const cond = new Condition();
    const wakes = 1_000_000;
    const heap: number[] = [];
    let notified = 0;
    let checks = 0;
    await cond.acquire();
    const waited = cond.waitFor(() => (checks++, notified === wakes));
    while (notified < wakes) {
      await cond.acquire();
      notified++;
      // Measured while holding the lock, the waiter back in the condition's queue.
      if (notified === EARLY || notified === wakes) heap.push(await heapAfterGc());
      cond.notify();
      cond.release();
    }
    expect(await waited).to.equal(true);
    cond.release();
    expect(checks).to.equal(wakes + 1);
    expect(heap[1]! - heap[0]!, 'heap growth in bytes').to.be.below(1 * MB);
  });

  it('Queue: a queue that never empties (2,000 items in, 1 million through) keeps the heap where it was', async () => {
    const q = new Queue<{ n: number }>();
    for (let i = 0; i < 2_000; i++) q.tryPut({ n: i });
    const heap: number[] = [];
    const total = 1_000_000;
    for (let i = 0; i < total; i++) {
      q.tryPut({ n: i });
      const item = await q.get();
      q.taskDone();
      if (item.n < 0) throw new Error('never');
      if (i === EARLY || i === total - 1) heap.push(await heapAfterGc());
    }
    expect(q.size).to.equal(2_000);
    expect(heap[1]! - heap[0]!, 'heap growth in bytes').to.be.below(1 * MB);
  });

  it('Queue(8): producers always waiting for room and consumers always waiting for items keep the heap where it was', async () => {
    const q = new Queue<number>(8);
    const total = 1_000_000;
    const heap: number[] = [];
    let taken = 0;
    const producer = async (from: number) => {
      for (let i = from; i < total; i += 2) await q.put(i, { timeout: 60_000 });
    };
    const consumer = async () => {
      while (taken < total) {
        await q.get();
        taken++;
        if (taken === EARLY || taken === total - 8) heap.push(await heapAfterGc());
      }
    };
    const consumers = Promise.all([consumer(), consumer(), consumer()]);
    await Promise.all([producer(0), producer(1)]);
    q.shutdown();
    await consumers.catch(() => {}); // the consumers left waiting are refused at shutdown
    expect(taken).to.be.at.least(total);
    expect(heap[1]! - heap[0]!, 'heap growth in bytes').to.be.below(1 * MB);
  });

  it('ReadWriteLock: 3 readers and 2 writers always contending 1 million times keep the heap where it was', async () => {
    const rw = new ReadWriteLock();
    const total = 1_000_000;
    const heap: number[] = [];
    let done = 0;
    const reader = async () => {
      while (done < total) {
        await rw.acquireRead();
        done++;
        if (done === EARLY || done === total) heap.push(await heapAfterGc());
        rw.releaseRead();
      }
    };
    const writer = async () => {
      while (done < total) {
        await rw.acquireWrite(60_000);
        done++;
        rw.releaseWrite();
      }
    };
    await Promise.all([reader(), writer(), reader(), writer(), reader()]);
    expect(heap).to.have.length(2);
    expect(heap[1]! - heap[0]!, 'heap growth in bytes').to.be.below(1 * MB);
  });

  it('Semaphore: weighted requests always contending 1 million times keep the heap where it was', async () => {
    const sem = new Semaphore(4);
    const total = 1_000_000;
    const heap: number[] = [];
    let done = 0;
    const task = async (permits: number) => {
      while (done < total) {
        await sem.acquire({ permits });
        done++;
        if (done === EARLY || done === total) heap.push(await heapAfterGc());
        sem.release(permits);
      }
    };
    await Promise.all([task(1), task(3), task(2), task(4), task(1)]);
    expect(heap).to.have.length(2);
    expect(heap[1]! - heap[0]!, 'heap growth in bytes').to.be.below(1 * MB);
  });
});
