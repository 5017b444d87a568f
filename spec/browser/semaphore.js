// The browser suite's SharedSemaphore checks: a SharedSemaphore(2) posted as it is to module Web Workers
// (semaphore-worker.js), rebuilt there with from(), and shared with the page.
import { SharedSemaphore } from '/dist/index.js';
import { startWorker } from '/replies.js';

/** Whether this engine has Atomics.waitAsync (else every async wait polls: 1 ms, doubling to 32 ms). */
const waitAsync = typeof Atomics.waitAsync === 'function';

/** Words of the shared tally: entries made, tasks inside now, the most inside at once. */
const ENTRIES = 0;
const INSIDE = 1;
const MOST = 2;

/** A task holding a permit comes in (counted, the most inside kept), then goes out. */
export function enter(tally) {
  const inside = Atomics.add(tally, INSIDE, 1) + 1;
  for (let most = Atomics.load(tally, MOST); inside > most; most = Atomics.load(tally, MOST)) {
    if (Atomics.compareExchange(tally, MOST, most, inside) === most) break;
  }
  Atomics.add(tally, ENTRIES, 1);
}
export const leave = (tally) => Atomics.sub(tally, INSIDE, 1);

export function semaphoreTests(test, assert) {
  test('SharedSemaphore(2) posted to 4 Web Workers, rebuilt with from(): with the page, never more than 2 inside, every entry counted', async () => {
    const semaphore = new SharedSemaphore(2);
    const tally = new Int32Array(new SharedArrayBuffer(3 * 4));
    // A polling hand-off waits for the next poll (up to 32 ms): 200 entries a thread there. JavaScriptCore
    // (WebKitGTK 2.50) now and then loses an Atomics.waitAsync wake-up (see lock.js): 2,000 entries a thread
    // hung there in 5 runs of 15, each time with a seat granted and never claimed (its owner's wake-up
    // lost), so that engine makes 500.
    const javaScriptCore =
      /AppleWebKit/.test(self.navigator.userAgent) && !/Chrome|Firefox/.test(self.navigator.userAgent);
    const n = !waitAsync ? 200 : javaScriptCore ? 500 : 2_000;
    const workers = Array.from({ length: 4 }, () => startWorker('/semaphore-worker.js'));
    const runs = workers.map(({ ask }, i) => ask({ op: 'count', semaphore, tally, n, sync: i % 2 === 0 }));
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) {
        await semaphore.runExclusive(() => {
          enter(tally);
          leave(tally);
        });
        continue;
      }
      if (!(await semaphore.acquire(i % 3 === 1 ? 1 : undefined))) await semaphore.acquire();
      enter(tally);
      await null;
      leave(tally);
      semaphore.release();
    }
    await Promise.all(runs);
    for (const { worker } of workers) worker.terminate();
    assert(tally[ENTRIES] === 5 * n, `${tally[ENTRIES]} entries, not ${5 * n}`);
    assert(tally[MOST] <= 2, `${tally[MOST]} inside at once`);
    assert(tally[INSIDE] === 0, `${tally[INSIDE]} still inside`);
    assert(semaphore.value === 2, `${semaphore.value} permits free at the end`);
  });

  test("SharedSemaphore.acquireSync() on the page's main thread throws an Error naming acquire()", () => {
    let message = 'no error';
    try {
      new SharedSemaphore(1).acquireSync();
    } catch (error) {
      message = `${error.name}: ${error.message}`;
    }
    assert(
      /^Error: SharedSemaphore\.acquireSync\(\) cannot block this thread.*await semaphore\.acquire\(\)/.test(message),
      message,
    );
  });
}
