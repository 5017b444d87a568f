/**
 * Posting a shared primitive as it is: what its structured clone keeps, `from(value)` on a clone and on
 * an object of this thread, what `from` refuses and says, and the kind word each primitive's memory
 * carries (lib/shared/memory.ts). Then the same across a real worker, posted in workerData and in a message.
 */
import { expect } from 'chai';
import { SharedBarrier, SharedCondition, SharedEvent, SharedLock, SharedSemaphore } from '../../lib/index.js';
import { EVENT, sharedMemory } from '../../lib/shared/memory.js';
import { startWorker, within } from '../workers/agents.js';
import type { Posted, PostingRequest } from '../workers/posting-agent.js';

type Op = PostingRequest extends infer R ? (R extends PostingRequest ? Omit<R, 'id'> : never) : never;

/** The message of the error `fn` throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  return 'nothing thrown';
}

describe('Posting a shared primitive: its structured clone', () => {
  it('every shared primitive built at byteOffset -0 reads byteOffset 0, and posts it so', () => {
    const made = [
      new SharedEvent(new SharedArrayBuffer(SharedEvent.BYTES), -0),
      new SharedLock(new SharedArrayBuffer(SharedLock.BYTES), -0),
      new SharedSemaphore(1, new SharedArrayBuffer(SharedSemaphore.BYTES), -0),
      new SharedBarrier(2, new SharedArrayBuffer(SharedBarrier.BYTES), -0),
    ];
    for (const x of made) {
      expect(Object.is(x.byteOffset, 0), x.constructor.name).to.equal(true);
      expect(Object.is((structuredClone(x) as unknown as { byteOffset: number }).byteOffset, 0)).to.equal(true);
    }
  });

  it('SharedEvent, SharedLock: a structured clone keeps exactly buffer and byteOffset, the same memory', () => {
    for (const x of [new SharedEvent(), new SharedLock()]) {
      const clone = structuredClone(x) as unknown as Record<string, unknown>;
      expect(Object.keys(clone)).to.deep.equal(['buffer', 'byteOffset']);
      expect(clone.byteOffset).to.equal(0);
      new Int32Array(x.buffer)[0] = 7; // the clone's buffer is the same memory
      expect(new Int32Array(clone.buffer as SharedArrayBuffer)[0]).to.equal(7);
    }
  });

  it('SharedCondition: a structured clone keeps buffer, byteOffset and sharedLock, the clone of its lock', () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    expect(cond.sharedLock).to.equal(lock);
    const clone = structuredClone({ lock, cond });
    expect(Object.keys(clone.cond).sort()).to.deep.equal(['buffer', 'byteOffset', 'sharedLock']);
    expect(Object.keys(clone.cond.sharedLock)).to.deep.equal(['buffer', 'byteOffset']);
    expect(clone.cond.sharedLock).to.equal(clone.lock); // one message keeps one lock one object
  });

  it('SharedEvent: set and clear are bound functions of the prototype, not own properties', () => {
    const e = new SharedEvent();
    expect(Object.getOwnPropertyNames(e)).to.deep.equal(['buffer', 'byteOffset']);
    const { set, clear } = e;
    expect(e.set).to.equal(set); // made once
    set();
    expect(e.isSet()).to.equal(true);
    [0].forEach(clear);
    expect(e.isSet()).to.equal(false);
  });

  it('SharedEvent.from(a clone) is an event over the same memory: each sets what the other waits for', async () => {
    const e = new SharedEvent();
    const again = SharedEvent.from(structuredClone(e));
    expect(again).to.not.equal(e); // a clone's buffer is another object: a new event over the same memory
    expect(again.byteOffset).to.equal(0);
    const waited = e.wait(10_000);
    again.set();
    expect(await waited).to.equal(true);
    expect(e.isSet()).to.equal(true);
    e.clear();
    expect(again.isSet()).to.equal(false);
  });

  it('SharedLock.from(a clone) is a lock over the same memory: one holds it, the other waits for it', async () => {
    const lock = new SharedLock();
    const again = SharedLock.from(structuredClone(lock));
    await lock.acquire();
    expect(again.locked()).to.equal(true);
    const taken = again.acquire(10_000);
    lock.release();
    expect(await taken).to.equal(true);
    expect(lock.locked()).to.equal(true);
    again.release();
  });

  it('SharedCondition.from(a clone) is tied to the same lock: notify() through one wakes a waiter of the other', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    const again = SharedCondition.from(structuredClone(cond));
    expect(again.sharedLock.buffer).to.not.equal(lock.buffer); // rebuilt from the clone of the lock...
    await again.acquire();
    expect(lock.locked()).to.equal(true); // ...over the same memory
    const woken = again.wait(10_000);
    await cond.acquire();
    cond.notify();
    cond.release();
    expect(await woken).to.equal(true);
    expect(lock.locked()).to.equal(true); // the waiter has the lock back
    again.release();
  });
});

describe('Posting a shared primitive: from() on objects of this thread', () => {
  it('SharedEvent.from, SharedLock.from, SharedCondition.from: an object of this thread is returned as it is', () => {
    const e = new SharedEvent();
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    expect(SharedEvent.from(e)).to.equal(e);
    expect(SharedLock.from(lock)).to.equal(lock);
    expect(SharedCondition.from(cond)).to.equal(cond);
  });

  it("from(): a value over the buffer and offset of this thread's live object gives that object, not a second one", () => {
    const buffer = new SharedArrayBuffer(SharedEvent.BYTES + SharedLock.BYTES + SharedCondition.BYTES);
    const e = new SharedEvent(buffer, 0);
    const lock = new SharedLock(buffer, SharedEvent.BYTES);
    const cond = new SharedCondition(lock, buffer, SharedEvent.BYTES + SharedLock.BYTES);
    const { byteOffset } = cond;
    expect(SharedEvent.from({ buffer, byteOffset: 0 })).to.equal(e);
    expect(SharedLock.from({ buffer, byteOffset: SharedEvent.BYTES })).to.equal(lock);
    expect(SharedCondition.from({ buffer, byteOffset, sharedLock: { buffer, byteOffset: lock.byteOffset } })).to.equal(
      cond,
    );
    expect(SharedCondition.from({ buffer, byteOffset, sharedLock: lock })).to.equal(cond);
  });

  it("SharedCondition.from() refuses a value whose sharedLock is not the lock of this thread's condition there", () => {
    const buffer = new SharedArrayBuffer(2 * SharedLock.BYTES + SharedCondition.BYTES);
    const lock = new SharedLock(buffer, 0);
    const other = new SharedLock(buffer, SharedLock.BYTES);
    const cond = new SharedCondition(lock, buffer, 2 * SharedLock.BYTES);
    expect(thrown(() => SharedCondition.from({ buffer, byteOffset: cond.byteOffset, sharedLock: other }))).to.equal(
      "TypeError: SharedCondition.from(): value.sharedLock (at byteOffset 140) is not the lock of this thread's " +
        'SharedCondition at byteOffset 280 (a lock at byteOffset 0)',
    );
    const elsewhere = new SharedLock();
    expect(thrown(() => SharedCondition.from({ buffer, byteOffset: cond.byteOffset, sharedLock: elsewhere }))).to.match(
      /\(a lock at byteOffset 0 of another buffer\)$/,
    );
  });
});

describe('Posting a shared primitive: what from() refuses', () => {
  const lock = new SharedLock();
  const event = new SharedEvent();
  const cond = new SharedCondition(lock);

  const refusals: [string, () => unknown, string][] = [
    [
      'not an object',
      () => SharedEvent.from(42),
      'SharedEvent.from(): value must be a SharedEvent or what one becomes when posted, got 42',
    ],
    [
      'null',
      () => SharedLock.from(null),
      'SharedLock.from(): value must be a SharedLock or what one becomes when posted, got null',
    ],
    [
      'a string',
      () => SharedCondition.from('cond'),
      'SharedCondition.from(): value must be a SharedCondition or what one becomes when posted, got string "cond"',
    ],
    [
      'no buffer',
      () => SharedEvent.from({ byteOffset: 0 }),
      'SharedEvent.from(): value.buffer must be a SharedArrayBuffer, got undefined',
    ],
    [
      'an ArrayBuffer',
      () => SharedEvent.from({ buffer: new ArrayBuffer(8), byteOffset: 0 }),
      'SharedEvent.from(): value.buffer must be a SharedArrayBuffer, got ArrayBuffer object',
    ],
    [
      'no byteOffset',
      () => SharedLock.from({ buffer: lock.buffer }),
      'SharedLock.from(): value.byteOffset must be a non-negative multiple of 4, got undefined',
    ],
    [
      'a byteOffset that is a string',
      () => SharedLock.from({ buffer: lock.buffer, byteOffset: '0' }),
      'SharedLock.from(): value.byteOffset must be a non-negative multiple of 4, got string "0"',
    ],
    [
      'a byteOffset not a multiple of 4',
      () => SharedEvent.from({ buffer: event.buffer, byteOffset: 2 }),
      'SharedEvent.from(): value.byteOffset must be a non-negative multiple of 4, got 2',
    ],
    [
      'a negative byteOffset',
      () => SharedEvent.from({ buffer: event.buffer, byteOffset: -4 }),
      'SharedEvent.from(): value.byteOffset must be a non-negative multiple of 4, got -4',
    ],
    [
      'a byteOffset with no room',
      () => SharedEvent.from({ buffer: event.buffer, byteOffset: 4 }),
      'SharedEvent.from(): value.byteOffset 4 leaves no room for an event (8 bytes) in value.buffer (8 bytes)',
    ],
    [
      'memory that holds no primitive',
      () => SharedEvent.from({ buffer: new SharedArrayBuffer(8), byteOffset: 0 }),
      'SharedEvent.from(): value is not a SharedEvent: its memory (byteOffset 0 of value.buffer) holds none ' +
        '(its last word, at byteOffset 4, is 0)',
    ],
    [
      'a lock, to SharedEvent.from',
      () => SharedEvent.from(lock),
      'SharedEvent.from(): value is a SharedLock, not a SharedEvent',
    ],
    [
      "a lock's clone, to SharedEvent.from",
      () => SharedEvent.from(structuredClone(lock)),
      'SharedEvent.from(): value is a SharedLock, not a SharedEvent',
    ],
    [
      "an event's clone, to SharedLock.from",
      () => SharedLock.from(structuredClone(event)),
      'SharedLock.from(): value is a SharedEvent, not a SharedLock',
    ],
    [
      "a condition's clone, to SharedLock.from",
      () => SharedLock.from(structuredClone(cond)),
      'SharedLock.from(): value is a SharedCondition, not a SharedLock',
    ],
    [
      'a lock, to SharedCondition.from',
      () => SharedCondition.from(structuredClone(lock)),
      'SharedCondition.from(): value is a SharedLock, not a SharedCondition',
    ],
    [
      'a condition whose lock is missing',
      () => SharedCondition.from({ buffer: cond.buffer, byteOffset: 0 }),
      'SharedCondition.from(): value.sharedLock must be a SharedLock or what one becomes when posted, got undefined',
    ],
    [
      'a condition whose lock is an event',
      () => SharedCondition.from({ ...structuredClone(cond), sharedLock: structuredClone(event) }),
      'SharedCondition.from(): value.sharedLock is a SharedEvent, not a SharedLock',
    ],
    [
      "a condition whose lock's buffer is missing",
      () => SharedCondition.from({ ...structuredClone(cond), sharedLock: { byteOffset: 0 } }),
      'SharedCondition.from(): value.sharedLock.buffer must be a SharedArrayBuffer, got undefined',
    ],
  ];
  for (const [what, fn, message] of refusals) {
    it(`from() refuses ${what} with a TypeError that says so`, () => {
      expect(thrown(fn)).to.equal(`TypeError: ${message}`);
    });
  }
});

describe('Posting a shared primitive: the kind word in its memory', () => {
  it('SharedEvent, SharedLock, SharedCondition: a new primitive marks its last word with its kind, once', () => {
    const e = new SharedEvent();
    const words = new Int32Array(e.buffer);
    const mark = words[1];
    expect(mark).to.not.equal(0);
    e.set();
    e.clear();
    expect(new SharedEvent(structuredClone(e).buffer).isSet()).to.equal(false); // memory that holds one: kept
    expect(words[1]).to.equal(mark);
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    expect(new Int32Array(lock.buffer)[SharedLock.BYTES / 4 - 1]).to.not.equal(0);
    expect(new Int32Array(cond.buffer)[SharedCondition.BYTES / 4 - 1]).to.not.equal(0);
  });

  it('a constructor over memory that holds one of its kind keeps its state: an event set stays set', () => {
    const e = new SharedEvent();
    e.set();
    // Another buffer object over the same memory, as another thread has: the overlap check cannot see it.
    expect(new SharedEvent(structuredClone(e.buffer)).isSet()).to.equal(true);
  });

  it("a constructor over another kind's memory, or a last word that is not zero, is refused with a TypeError", () => {
    const lock = new SharedLock();
    const memory = structuredClone(lock.buffer); // as another thread sees it
    expect(thrown(() => new SharedEvent(memory, SharedLock.BYTES - SharedEvent.BYTES))).to.equal(
      'TypeError: SharedEvent at byteOffset 132 would overlap a SharedLock: the word at byteOffset 136 is that ' +
        "SharedLock's kind word",
    );
    const garbage = new SharedArrayBuffer(8);
    new Int32Array(garbage)[1] = 12345;
    expect(thrown(() => new SharedEvent(garbage))).to.equal(
      "TypeError: SharedEvent at byteOffset 0 needs zeroed memory or a SharedEvent's, but its last word (at byteOffset 4) holds 12345",
    );
    new Int32Array(garbage)[1] = 0;
    expect(new SharedEvent(garbage).isSet()).to.equal(false); // refused, it held no place
  });

  it('sharedMemory(): only the constructor that finds the memory fresh runs init, before the kind word is set', () => {
    const buffer = new SharedArrayBuffer(EVENT.bytes);
    const words = new Int32Array(buffer);
    const seen: number[] = [];
    const init = (w: Int32Array, index: number) => {
      seen.push(w[index + 1]!); // the kind word, while init runs
      w[index] = 42;
    };
    const first = sharedMemory(EVENT, buffer, 0, {}, init);
    expect(first.fresh).to.equal(true);
    const mark = words[1]!;
    expect(seen).to.deep.equal([mark | 0x80]); // BUSY while the first state is written
    const second = sharedMemory(EVENT, structuredClone(buffer), 0, {}, init);
    expect(second.fresh).to.equal(false);
    expect(seen).to.have.length(1);
    expect(words[0]).to.equal(42);
  });

  it('sharedMemory(): a constructor that finds the memory being set up by another thread waits until it is', async () => {
    const buffer = new SharedArrayBuffer(EVENT.bytes);
    sharedMemory(EVENT, buffer, 0, {});
    const words = new Int32Array(buffer);
    const mark = words[1]!;
    words[1] = mark | 0x80; // as while another thread's init runs
    // A worker finishes the setup 50 ms later; this thread blocks meanwhile, so only another thread can.
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(
      `const { workerData: { buffer, mark } } = require('node:worker_threads');
       const words = new Int32Array(buffer);
       Atomics.wait(words, 0, 0, 50);
       words[0] = 7;
       Atomics.store(words, 1, mark);
       Atomics.notify(words, 1);`,
      { eval: true, workerData: { buffer, mark } },
    );
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await new Promise((resolve) => worker.once('online', resolve));
    const memory = sharedMemory(EVENT, structuredClone(buffer), 0, {});
    expect(memory.fresh).to.equal(false);
    expect(words[0]).to.equal(7); // the first state was written before it went on
    await exited;
  });

  it('sharedMemory(): a thread that may not block spins until the memory another thread sets up is ready', async () => {
    const buffer = new SharedArrayBuffer(EVENT.bytes);
    sharedMemory(EVENT, buffer, 0, {});
    const words = new Int32Array(buffer);
    const mark = words[1]!;
    words[1] = mark | 0x80; // as while this thread's init runs
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(new URL('../workers/boot.mjs', import.meta.url), {
      workerData: { entry: '../fixtures/busy-kind-word.ts', buffer },
    });
    const replies: unknown[] = [];
    let next: () => void = () => {};
    worker.on('message', (m) => (replies.push(m), next()));
    const reply = () => new Promise<void>((r) => (next = r)).then(() => replies.shift());
    const spinning = reply();
    expect(await within(spinning, 10_000, 'the worker')).to.equal('spinning');
    const done = reply();
    await new Promise((r) => setTimeout(r, 30));
    words[0] = 7;
    Atomics.store(words, 1, mark);
    expect(await within(done, 10_000, 'the worker done')).to.deep.equal({ fresh: false, first: 7 });
    await worker.terminate();
  });
});

describe('Posting a shared primitive to a worker', () => {
  /** The waiters registered on `cond`, across threads: the high halves of its seats' counts words. */
  const registered = (cond: SharedCondition) =>
    Array.from(new Int32Array(cond.buffer, cond.byteOffset, SharedCondition.BYTES / 4 - 1))
      .filter((_, i) => i > 0 && i % 2 === 0)
      .reduce((n, counts) => n + (counts >>> 16), 0);

  async function start(posted: Posted) {
    return startWorker<Op>('./posting-agent.ts', undefined, { workerData: posted });
  }

  it('SharedEvent posted in workerData: rebuilt with from(), each side sets what the other waits for', async () => {
    const event = new SharedEvent();
    const agent = await start({ event });
    try {
      const waited = event.wait(10_000);
      await within(agent.call({ op: 'set' }), 10_000, 'set');
      expect(await waited).to.equal(true);
      event.clear();
      const remote = agent.call({ op: 'waitEvent', timeout: 10_000 });
      event.set();
      expect(await within(remote, 10_000, 'the worker wait')).to.equal(true);
    } finally {
      await agent.terminate();
    }
  });

  it('SharedLock posted in a message: rebuilt with from(), the worker waits while the main thread holds it', async () => {
    const lock = new SharedLock();
    const agent = await start({});
    try {
      const facts = await agent.call({ op: 'rebuild', posted: { lock } });
      expect(facts).to.include({ lockAgain: true });
      await lock.acquire();
      let taken = false;
      const remote = agent.call({ op: 'acquire' }).then(() => (taken = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(taken).to.equal(false);
      lock.release();
      await within(remote, 10_000, 'the worker acquire');
      expect(lock.locked()).to.equal(true);
      await agent.call({ op: 'release' });
      expect(lock.locked()).to.equal(false);
    } finally {
      await agent.terminate();
    }
  });

  it('SharedCondition posted with its lock: rebuilt in the worker, it is tied to the same lock, and notify() crosses both ways', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    const event = new SharedEvent();
    const agent = await start({});
    try {
      const facts = await agent.call({ op: 'rebuild', posted: { lock, condition: cond, event } });
      expect(facts).to.deep.equal({ sameLock: true, eventAgain: true, lockAgain: true, conditionAgain: true });
      // The worker waits on the condition; a notify from here wakes it holding the lock.
      const remote = agent.call({ op: 'waitCondition', timeout: 10_000 });
      for (;;) {
        // its wait released the lock: take it, and notify once it is registered
        await cond.acquire();
        if (registered(cond) > 0) break;
        cond.release();
        await new Promise((r) => setTimeout(r, 1));
      }
      cond.notify();
      cond.release();
      expect(await within(remote, 10_000, 'the worker wait')).to.deep.equal({ woken: true, held: true });
      // And the other way: a waiter here, notified by the worker.
      await cond.acquire();
      const woken = cond.wait(10_000);
      await within(agent.call({ op: 'notify' }), 10_000, 'the worker notify');
      expect(await woken).to.equal(true);
      expect(lock.locked()).to.equal(true);
      cond.release();
    } finally {
      await agent.terminate();
    }
  });

  it('SharedCondition posted alone: the worker rebuilds its lock from the clone it carries', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    const agent = await start({ condition: cond });
    try {
      await lock.acquire();
      const remote = agent.call({ op: 'waitCondition', timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 20));
      expect(lock.locked()).to.equal(true); // the worker's acquire waits for the lock held here
      lock.release();
      for (;;) {
        await cond.acquire();
        if (registered(cond) > 0) break;
        cond.release();
        await new Promise((r) => setTimeout(r, 1));
      }
      cond.notify();
      cond.release();
      expect(await within(remote, 10_000, 'the worker wait')).to.deep.equal({ woken: true, held: true });
    } finally {
      await agent.terminate();
    }
  });

  it('from() in a worker refuses what is not of its kind, with the same messages', async () => {
    const lock = new SharedLock();
    const agent = await start({});
    try {
      expect(await agent.call({ op: 'from', kind: 'SharedEvent', value: lock })).to.equal(
        'TypeError: SharedEvent.from(): value is a SharedLock, not a SharedEvent',
      );
      expect(
        await agent.call({ op: 'from', kind: 'SharedCondition', value: { buffer: lock.buffer, byteOffset: 0 } }),
      ).to.equal('TypeError: SharedCondition.from(): value is a SharedLock, not a SharedCondition');
      expect(await agent.call({ op: 'from', kind: 'SharedLock', value: lock })).to.equal('taken');
    } finally {
      await agent.terminate();
    }
  });
});
