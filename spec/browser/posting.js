// The browser suite's posting checks: shared primitives posted as they are to a module Web Worker
// (posting-worker.js) and rebuilt there with from(). The first is the README's worker example, the page
// in the place of main.ts: the event posted, rebuilt with SharedEvent.from(), set by the worker.
import { SharedCondition, SharedEvent, SharedLock } from '/dist/index.js';
import { startWorker } from '/replies.js';

export function postingTests(test, assert) {
  test("The README's worker example: an event posted as it is, rebuilt in a Web Worker with SharedEvent.from(), wakes the page", async () => {
    const loaded = new SharedEvent();
    const { worker, post } = startWorker('/posting-worker.js');
    post({ op: 'load', loaded }); // posted as it is
    assert((await loaded.wait(10_000)) === true, 'the worker never set the event');
    worker.terminate();
  });

  test('SharedLock, SharedCondition and SharedEvent posted together: rebuilt with from() in a Web Worker, the condition is tied to the same lock, and notify() from the page wakes it', async () => {
    const lock = new SharedLock();
    const notEmpty = new SharedCondition(lock);
    const ready = new SharedEvent();
    const items = new Int32Array(new SharedArrayBuffer(4));
    const { worker, post, next } = startWorker('/posting-worker.js');
    post({ op: 'consume', lock, notEmpty, ready, items });
    assert((await ready.wait(10_000)) === true, 'the worker never got ready');
    // The worker holds the lock until its waitFor() has registered and let it go: no notify is lost.
    assert(await notEmpty.acquire(10_000), 'the page never got the lock');
    items[0] = 42;
    notEmpty.notify();
    notEmpty.release();
    const { sameLock, item, held } = await next();
    assert(sameLock === true, 'the rebuilt condition is not over the rebuilt lock');
    assert(item === 42, `the worker took ${item}`);
    assert(held === true, 'the worker did not hold the lock when woken');
    assert(!lock.locked(), 'the lock is still held');
    worker.terminate();
  });

  test('SharedEvent.from() in a Web Worker refuses a lock, naming what it got', async () => {
    const { worker, post, next } = startWorker('/posting-worker.js');
    post({ op: 'refuse', value: new SharedLock() });
    const { message } = await next();
    assert(message === 'TypeError: SharedEvent.from(): value is a SharedLock, not a SharedEvent', message);
    worker.terminate();
  });
}
