/** SharedLock.tryAcquire() and tryLock() across threads: they take a free lock, and never barge in ahead of another thread's waiter. */
import { expect } from 'chai';
import { SharedLock } from '../../lib/index.js';
import { bufferBytes, layout } from '../workers/lock-layout.js';
import { startLockAgent } from '../workers/lock-agents.js';
import { until, within } from '../workers/agents.js';

describe('SharedLock: tryAcquire and tryLock across threads', () => {
  it('SharedLock.tryAcquire() fails while a worker holds the lock or waits for it, and takes it once it is free', async () => {
    const buffer = new SharedArrayBuffer(bufferBytes(0));
    const lock = new SharedLock(buffer, layout.lock);
    const worker = await startLockAgent(buffer);
    try {
      expect(await worker.call({ op: 'acquire' })).to.equal(true);
      expect(lock.tryAcquire()).to.equal(false);
      expect(lock.tryLock()).to.equal(undefined);
      await worker.call({ op: 'release' });
      expect(lock.tryAcquire()).to.equal(true);
      const queued = worker.call({ op: 'acquire', timeout: 10_000 });
      await until(() => Atomics.load(new Int32Array(buffer, layout.lock, 1), 0) !== 1, 'the worker in line');
      lock.release(); // handed to the worker in line
      expect(lock.tryAcquire(), 'no barging in ahead of the worker it was handed to').to.equal(false);
      expect(await within(queued, 10_000, 'the worker')).to.equal(true);
      await worker.call({ op: 'release' });
      const guard = lock.tryLock();
      expect(guard).not.to.equal(undefined);
      guard!.release();
      expect(lock.locked()).to.equal(false);
    } finally {
      await worker.terminate();
    }
  });
});
