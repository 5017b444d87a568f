/**
 * ReadWriteLock: its write side keeps the lock contract of lock-suite.ts; the read side and the order of
 * the line (readers together at the head share the lock, a queued writer holds back the readers that
 * arrive after it, readers queued before a writer are not held back by it) are checked here.
 */
import { expect } from 'chai';
import type * as sinon from 'sinon';
import { inspect } from 'node:util';
import { ReadWriteLock, TimeoutError } from '../lib/index.js';
import { badWaitArguments } from './event-suite.js';
import { lockSuite } from './lock-suite.js';
import { abortListeners, flush, queueLooks, recorder, track, waiterCount, withFakeClock } from './helpers.js';

lockSuite('ReadWriteLock (write side)', () => {
  const rw = new ReadWriteLock();
  return {
    lock: {
      locked: () => rw.writing,
      acquire: ((arg?: number) => rw.acquireWrite(arg)) as never,
      release: () => rw.releaseWrite(),
      lock: (options) => rw.writeLock(options),
    },
    waiters: () => waiterCount(rw),
  };
});

describe('ReadWriteLock', () => {
  let clock!: sinon.SinonFakeTimers;
  withFakeClock((c) => (clock = c));

  it('ReadWriteLock: readers share the lock, and a writer waits until the last one leaves', async () => {
    const rw = new ReadWriteLock();
    expect(await Promise.all([rw.acquireRead(), rw.acquireRead(0), rw.acquireRead({})])).to.deep.equal([
      true,
      true,
      true,
    ]);
    expect(rw.readers).to.equal(3);
    const writer = track(rw.acquireWrite());
    rw.releaseRead();
    rw.releaseRead();
    await flush();
    expect(writer.state).to.equal('pending');
    rw.releaseRead();
    await flush();
    expect(writer.value).to.equal(true);
    expect(rw.writing).to.equal(true);
    expect(rw.readers).to.equal(0);
    rw.releaseWrite();
  });

  it('ReadWriteLock: a writer holds the lock alone; on release every reader at the head of the line goes in together', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireWrite();
    const { log, note } = recorder();
    note('r1', rw.acquireRead());
    note('r2', rw.acquireRead(1000));
    note('r3', rw.acquireRead({ signal: new AbortController().signal }));
    expect(await rw.acquireRead(0)).to.equal(false);
    await flush();
    expect(log).to.deep.equal([]);
    rw.releaseWrite();
    await flush();
    expect(log).to.deep.equal(['r1:true', 'r2:true', 'r3:true']);
    expect(rw.readers).to.equal(3);
    expect(clock.countTimers()).to.equal(0);
    for (let i = 0; i < 3; i++) rw.releaseRead();
  });

  it('ReadWriteLock: a queued writer holds back the readers that arrive after it (writers do not starve)', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireRead();
    const { log, note } = recorder();
    note('writer', rw.acquireWrite());
    note('late reader', rw.acquireRead());
    expect(await rw.acquireRead(0), 'no reader barges in ahead of the writer').to.equal(false);
    rw.releaseRead();
    await flush();
    expect(log).to.deep.equal(['writer:true']);
    rw.releaseWrite();
    await flush();
    expect(log).to.deep.equal(['writer:true', 'late reader:true']);
    rw.releaseRead();
  });

  it('ReadWriteLock: readers queued before a writer are not held back by it, and those after it wait for it', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireWrite();
    const { log, note } = recorder();
    note('r1', rw.acquireRead());
    note('r2', rw.acquireRead());
    note('w2', rw.acquireWrite());
    note('r3', rw.acquireRead());
    rw.releaseWrite();
    await flush();
    expect(log).to.deep.equal(['r1:true', 'r2:true']);
    rw.releaseRead();
    rw.releaseRead();
    await flush();
    expect(log).to.deep.equal(['r1:true', 'r2:true', 'w2:true']);
    rw.releaseWrite();
    await flush();
    expect(log).to.deep.equal(['r1:true', 'r2:true', 'w2:true', 'r3:true']);
    rw.releaseRead();
    expect(inspect(rw)).to.equal('ReadWriteLock { readers: 0, writing: false, waiters: 0 }');
  });

  it('ReadWriteLock: a queued writer that times out lets the readers behind it in at once', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireRead();
    const { log, note } = recorder();
    note('writer', rw.acquireWrite(50));
    note('r2', rw.acquireRead());
    note('r3', rw.acquireRead(100));
    await clock.tickAsync(50);
    expect(log).to.deep.equal(['writer:false', 'r2:true', 'r3:true']);
    expect(rw.readers).to.equal(3);
    expect(clock.countTimers()).to.equal(0);
    for (let i = 0; i < 3; i++) rw.releaseRead();
  });

  it('ReadWriteLock: a queued writer aborted lets the readers behind it in, and its listener goes', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireRead();
    const ac = new AbortController();
    const { log, note } = recorder();
    note('writer', rw.acquireWrite({ signal: ac.signal }));
    note('reader', rw.acquireRead());
    ac.abort(new Error('stop'));
    await flush();
    expect(log).to.deep.equal(['writer:rejected:stop', 'reader:true']);
    expect(abortListeners(ac.signal)).to.equal(0);
    rw.releaseRead();
    rw.releaseRead();
  });

  for (const how of ['one signal', 'one deadline'] as const) {
    it(`ReadWriteLock: 2,000 queued writers giving up together (${how}) ahead of 1,000 others leave in time linear in their number`, async () => {
      const n = 2_000;
      const rw = new ReadWriteLock();
      await rw.acquireWrite();
      const ac = new AbortController();
      const timed = how === 'one deadline';
      const gone = Array.from({ length: n }, () => track(rw.acquireWrite(timed ? 100 : { signal: ac.signal })));
      const after = Array.from({ length: n / 2 }, () => track(rw.acquireWrite()));
      const looks = queueLooks(() => (timed ? clock.tick(100) : ac.abort()));
      await flush();
      expect(looks, 'looks at the waiters in line').to.be.below(10 * n);
      expect(gone.every((t) => t.state !== 'pending') && after.every((t) => t.state === 'pending')).to.equal(true);
      expect(waiterCount(rw)).to.equal(n / 2);
      rw.releaseWrite();
      await flush();
      expect(after[0]!.value).to.equal(true);
    });
  }

  it('ReadWriteLock: a reader timing out in the same instant as the writer ahead of it is not let in', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireRead();
    const { log, note } = recorder();
    note('writer', rw.acquireWrite(10));
    note('reader', rw.acquireRead(10));
    await clock.tickAsync(10);
    expect(log).to.have.members(['writer:false', 'reader:false']);
    expect(rw.readers).to.equal(1);
    rw.releaseRead();
  });

  it('ReadWriteLock: a writer handed the lock in the same tick it is aborted holds it, and the line goes on after it', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireRead();
    const ac = new AbortController();
    const writer = track(rw.acquireWrite({ signal: ac.signal }));
    const reader = track(rw.acquireRead());
    rw.releaseRead();
    ac.abort();
    await flush();
    expect(writer.value).to.equal(true);
    expect(reader.state).to.equal('pending');
    rw.releaseWrite();
    await flush();
    expect(reader.value).to.equal(true);
    rw.releaseRead();
  });

  it('ReadWriteLock.releaseRead() and releaseWrite() with nothing held throw an Error and change nothing', async () => {
    const rw = new ReadWriteLock();
    expect(() => rw.releaseRead()).to.throw(
      Error,
      'ReadWriteLock.releaseRead() called with no reader holding the lock',
    );
    expect(() => rw.releaseWrite()).to.throw(
      Error,
      'ReadWriteLock.releaseWrite() called with no writer holding the lock',
    );
    await rw.acquireRead();
    expect(() => rw.releaseWrite()).to.throw(Error);
    expect(rw.readers).to.equal(1);
    rw.releaseRead();
    await rw.acquireWrite();
    expect(() => rw.releaseRead()).to.throw(Error);
    expect(rw.writing).to.equal(true);
    rw.releaseWrite();
  });

  it('ReadWriteLock.readLock() guards share the lock and give back their read hold once', async () => {
    const rw = new ReadWriteLock();
    const a = await rw.readLock();
    {
      using _b = await rw.readLock(1000);
      expect(rw.readers).to.equal(2);
    }
    expect(rw.readers).to.equal(1);
    a.release();
    a.release();
    expect(rw.readers).to.equal(0);
  });

  it('ReadWriteLock.readLock() rejects with a TimeoutError naming it while a writer holds the lock', async () => {
    const rw = new ReadWriteLock();
    const w = await rw.writeLock();
    const t = track(rw.readLock({ timeout: 20 }));
    await clock.tickAsync(20);
    expect(t.reason).to.be.instanceOf(TimeoutError);
    expect((t.reason as Error).message).to.equal(
      'ReadWriteLock.readLock() timed out after 20 ms waiting for a read lock',
    );
    w.release();
    expect(rw.writing).to.equal(false);
  });

  it('ReadWriteLock shows its state in util.inspect and Object.prototype.toString', async () => {
    const rw = new ReadWriteLock();
    await rw.acquireRead();
    const w = rw.acquireWrite();
    expect(inspect(rw)).to.equal('ReadWriteLock { readers: 1, writing: false, waiters: 1 }');
    rw.releaseRead();
    await w;
    expect(inspect(rw)).to.equal('ReadWriteLock { readers: 0, writing: true, waiters: 0 }');
    expect(Object.prototype.toString.call(rw)).to.equal('[object ReadWriteLock]');
    rw.releaseWrite();
  });

  for (const [label, arg, type, message] of badWaitArguments) {
    it(`ReadWriteLock.acquireRead(${label}) and readLock() reject with a ${type.name}, never throw, taking nothing`, async () => {
      const rw = new ReadWriteLock();
      const read = rw.acquireRead.bind(rw) as (a: unknown) => Promise<boolean>;
      const guard = rw.readLock.bind(rw) as (a: unknown) => Promise<unknown>;
      const ts: ReturnType<typeof track<unknown>>[] = [];
      expect(() => ts.push(track(read(arg)), track(guard(arg)))).not.to.throw();
      await rw.acquireWrite();
      ts.push(track(read(arg)));
      await flush();
      for (const t of ts) {
        expect(t.reason).to.be.instanceOf(type);
        expect((t.reason as Error).message).to.match(message);
      }
      expect(rw.readers).to.equal(0);
      expect(waiterCount(rw)).to.equal(0);
      rw.releaseWrite();
    });
  }
});
