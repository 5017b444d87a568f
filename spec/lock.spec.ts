/** Lock, after the intent of CPython's LockTests (test_asyncio/test_locks.py); the shared contract is in lock-suite.ts. */
import { expect } from 'chai';
import { inspect } from 'node:util';
import { Lock } from '../lib/index.js';
import { isLock } from '../lib/lock.js';
import { inspected, lockSuite } from './lock-suite.js';
import { withFakeClock } from './helpers.js';

lockSuite(
  'Lock',
  inspected(() => new Lock()),
);

describe('Lock', () => {
  withFakeClock(() => {});

  it('Lock.release() on a free lock throws an Error', () => {
    const lock = new Lock();
    expect(() => lock.release()).to.throw(Error, /not held/);
  });

  it('Lock shows its state in util.inspect and Object.prototype.toString', async () => {
    const lock = new Lock();
    expect(inspect(lock)).to.equal('Lock { locked: false, waiters: 0 }');
    await lock.acquire();
    const p = lock.acquire();
    expect(inspect(lock)).to.equal('Lock { locked: true, waiters: 1 }');
    expect(Object.prototype.toString.call(lock)).to.equal('[object Lock]');
    lock.release();
    await p;
    lock.release();
  });

  it('Lock is recognised by its registered brand, not by instanceof', () => {
    expect(isLock(new Lock())).to.equal(true);
    expect(isLock({ [Symbol.for('awaitable-event/Lock.enter@2')]: () => {} })).to.equal(true);
    expect(isLock({ acquire() {}, release() {} })).to.equal(false);
    expect(isLock(null)).to.equal(false);
  });
});
