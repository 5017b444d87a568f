// The runtime conformance checks: plain JavaScript that every runtime runs as is (Node, Bun, Deno),
// given the package's exports. Threads are node:worker_threads workers (worker.mjs), which all three
// provide. Primitives the package does not export are not checked, so the same file serves every
// version of the package. Timing is real here (no fake clock crosses threads or runtimes): timeouts are
// short and every wait that should succeed has a generous one.
import { Worker } from 'node:worker_threads';

/** Which runtime this is, as "name x.y.z". */
export function runtime() {
  if (globalThis.Bun) return `bun ${globalThis.Bun.version}`;
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`;
  return `node ${process.versions.node}`;
}

/** How SharedEvent.wait() waits here: the engine's Atomics.waitAsync, or the library's polling fallback. */
export const waitPath = () => (typeof Atomics.waitAsync === 'function' ? 'Atomics.waitAsync' : 'polling fallback');

class AssertionError extends Error {}
const assert = (ok, message) => {
  if (!ok) throw new AssertionError(message);
};
const equal = (actual, expected, what) =>
  assert(Object.is(actual, expected), `${what}: expected ${String(expected)}, got ${String(actual)}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const rejection = (promise) =>
  promise.then(
    (value) => ({ value }),
    (error) => ({ error }),
  );

/**
 * Starts worker.mjs on `job`. `next()` resolves with its next message and rejects when it failed or
 * exited first; `exited` resolves with its exit code; `alive()` tells whether it is still running.
 */
function spawn(specifier, job, data) {
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { job, specifier, ...data } });
  const messages = [];
  let failure;
  let running = true;
  let wake = () => {};
  worker.on('message', (message) => {
    messages.push(message);
    wake();
  });
  worker.on('error', (error) => {
    failure = error;
    wake();
  });
  const exited = new Promise((resolve) =>
    worker.on('exit', (code) => {
      running = false;
      resolve(code);
      wake();
    }),
  );
  const next = async () => {
    while (messages.length === 0) {
      if (failure) throw new Error(`the ${job} worker failed: ${failure?.stack ?? failure}`);
      if (!running) throw new Error(`the ${job} worker exited before it replied`);
      await new Promise((resolve) => (wake = resolve));
    }
    return messages.shift();
  };
  return { worker, next, exited, alive: () => running };
}

/**
 * Runs every check that applies to `pkg` (the package's exports). `specifier` is what worker.mjs
 * imports the package by; `required`, when given, is the package as `require()` loads it.
 * Resolves with one `{ name, ok, error? }` per check.
 */
export async function conformance(pkg, { specifier, required } = {}) {
  const tests = [];
  const test = (name, fn) => tests.push({ name, fn });
  const { Event, Lock, Condition, SharedEvent, TimeoutError } = pkg;
  const start = (job, data) => spawn(specifier, job, data);

  if (required) {
    test('require() and import give the same exports', () => {
      equal(Object.keys(required).sort().join(), Object.keys(pkg).sort().join(), 'export names');
    });
  }

  test('Event.wait() resolves true for a set() made while it waits, even if clear() follows', async () => {
    const event = new Event();
    const waiting = event.wait(5_000);
    event.set();
    event.clear();
    equal(await waiting, true, 'wait()');
    equal(event.isSet(), false, 'isSet() after clear()');
  });

  test('Event.wait(ms) resolves false when nobody sets the event', async () => {
    equal(await new Event().wait(10), false, 'wait(10)');
  });

  test('Event.wait({ signal }) rejects with the reason of an abort', async () => {
    const controller = new AbortController();
    const waiting = rejection(new Event().wait({ signal: controller.signal }));
    const reason = new Error('stop');
    controller.abort(reason);
    equal((await waiting).error, reason, 'the rejection');
  });

  test('Lock.acquire() grants waiters in FIFO order', async () => {
    const lock = new Lock();
    await lock.acquire();
    const order = [];
    const waiters = [1, 2, 3].map((n) => lock.acquire().then(() => order.push(n)));
    for (let i = 0; i < 3; i++) {
      lock.release();
      await waiters[i];
    }
    lock.release();
    equal(order.join(), '1,2,3', 'grant order');
    equal(lock.locked(), false, 'locked() at the end');
  });

  test('Lock.acquire(ms) resolves false while another task holds the lock', async () => {
    const lock = new Lock();
    await lock.acquire();
    equal(await lock.acquire(10), false, 'acquire(10)');
    equal(lock.locked(), true, 'locked()');
  });

  test('Lock.runExclusive() rejects with TimeoutError when the lock stays held', async () => {
    const lock = new Lock();
    await lock.acquire();
    const outcome = await rejection(lock.runExclusive(() => 1, { timeout: 10 }));
    assert(outcome.error instanceof TimeoutError, `rejected with ${outcome.error}`);
  });

  test('Condition.notify(1) wakes one waiter and notifyAll() the rest', async () => {
    const condition = new Condition();
    const woken = [];
    const waiter = async (n) => {
      await condition.acquire();
      await condition.wait(5_000);
      woken.push(n);
      condition.release();
    };
    const all = [waiter(1), waiter(2), waiter(3)];
    await condition.acquire(); // granted after the three, so all three wait by now
    condition.notify(1);
    condition.release();
    await all[0];
    equal(woken.join(), '1', 'woken by notify(1)');
    await condition.acquire();
    condition.notifyAll();
    condition.release();
    await Promise.all(all);
    equal(woken.join(), '1,2,3', 'woken in all');
  });

  test('Condition.wait(ms) resolves false with the lock held again when nobody notifies', async () => {
    const condition = new Condition();
    await condition.acquire();
    equal(await condition.wait(10), false, 'wait(10)');
    equal(condition.locked(), true, 'locked() after the timeout');
    condition.release();
  });

  test('SharedEvent.wait(ms) resolves false when nobody sets the event', async () => {
    equal(await new SharedEvent().wait(10), false, 'wait(10)');
  });

  test('SharedEvent.waitSync(0) answers at once on the main thread', () => {
    const event = new SharedEvent();
    equal(event.waitSync(0), false, 'waitSync(0) while clear');
    event.set();
    equal(event.waitSync(0), true, 'waitSync(0) once set');
  });

  for (const fallback of [false, true]) {
    const how = fallback ? ' (worker without Atomics.waitAsync: the polling fallback)' : '';

    test(`SharedEvent.set() in a worker wakes wait() on the main thread${how}`, async () => {
      const event = new SharedEvent();
      const woken = event.wait(5_000);
      const worker = start('set', { buffer: event.buffer, fallback });
      equal(await woken, true, 'wait() on the main thread');
      equal(await worker.exited, 0, 'exit code');
    });

    test(`SharedEvent.set() on the main thread wakes wait() in a worker${how}`, async () => {
      const event = new SharedEvent();
      const worker = start('wait', { buffer: event.buffer, fallback });
      await worker.next();
      event.set();
      equal((await worker.next()).result, true, "the worker's wait()");
      equal(await worker.exited, 0, 'exit code');
    });

    test(`a worker whose only task is a pending SharedEvent.wait() stays alive until the event is set, then exits${how}`, async () => {
      const event = new SharedEvent();
      const worker = start('wait', { buffer: event.buffer, fallback });
      await worker.next();
      await sleep(100); // long enough for an idle worker to have exited
      assert(worker.alive(), 'the worker exited while its wait() was pending');
      event.set();
      equal((await worker.next()).result, true, "the worker's wait()");
      equal(await worker.exited, 0, 'exit code');
    });

    test(`SharedEvent: a set(); clear() pulse on the main thread releases the worker, 300 times of 300${how}`, async () => {
      const buffer = new SharedArrayBuffer(3 * SharedEvent.BYTES);
      const [armed, target, done] = [0, 1, 2].map((i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
      const worker = start('pulses', { buffer, rounds: 300, fallback });
      for (let r = 0; r < 300; r++) {
        assert(await armed.wait(5_000), `round ${r}: the worker never armed`);
        armed.clear();
        target.set();
        target.clear();
        done.set();
      }
      equal((await worker.next()).result, 0, 'wake-ups lost');
      equal(await worker.exited, 0, 'exit code');
    });
  }

  test('a worker exits by itself after a wait() that a set() on another thread raced', async () => {
    const worker = start('raced', { buffer: new SharedEvent().buffer });
    equal((await worker.next()).result, true, "the worker's wait()");
    const exit = await Promise.race([worker.exited, sleep(2_000).then(() => 'still running 2 s later')]);
    if (worker.alive()) await worker.worker.terminate();
    equal(exit, 0, 'exit');
  });

  test('SharedEvent.waitSync() in a worker returns true when the main thread sets the event', async () => {
    const event = new SharedEvent();
    const worker = start('waitSync', { buffer: event.buffer });
    await worker.next();
    await sleep(10);
    event.set();
    equal((await worker.next()).result, true, 'waitSync()');
    equal(await worker.exited, 0, 'exit code');
  });

  if (pkg.Semaphore) {
    const { Semaphore } = pkg;

    test('Semaphore.acquire() grants waiters in FIFO order as permits are released', async () => {
      const semaphore = new Semaphore(1);
      await semaphore.acquire();
      const order = [];
      const waiters = [1, 2, 3].map((n) => semaphore.acquire().then(() => order.push(n)));
      semaphore.release(2);
      await Promise.all(waiters.slice(0, 2));
      equal(order.join(), '1,2', 'granted by release(2)');
      semaphore.release();
      await waiters[2];
      equal(order.join(), '1,2,3', 'grant order');
      equal(semaphore.value, 0, 'value');
    });

    test('Semaphore.acquire(ms) resolves false when no permit comes in time', async () => {
      const semaphore = new Semaphore(0);
      equal(semaphore.locked(), true, 'locked()');
      equal(await semaphore.acquire(10), false, 'acquire(10)');
      equal(semaphore.value, 0, 'value');
    });
  }

  if (pkg.BoundedSemaphore) {
    test('BoundedSemaphore.release() beyond the initial value throws RangeError', async () => {
      const semaphore = new pkg.BoundedSemaphore(1);
      let error;
      try {
        semaphore.release();
      } catch (e) {
        error = e;
      }
      assert(error instanceof RangeError, `release() threw ${error}`);
      equal(semaphore.value, 1, 'value');
    });
  }

  if (pkg.Barrier) {
    const { Barrier } = pkg;

    test('Barrier.wait() releases a round of parties with distinct arrival indexes', async () => {
      const barrier = new Barrier(3);
      const first = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
      equal(first.join(), '0,1,2', 'first round');
      const second = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
      equal(second.join(), '0,1,2', 'second round');
    });

    if (pkg.BrokenBarrierError) {
      test('Barrier.wait(ms) timing out breaks the barrier with BrokenBarrierError', async () => {
        const barrier = new Barrier(2);
        const outcome = await rejection(barrier.wait(10));
        assert(outcome.error instanceof pkg.BrokenBarrierError, `rejected with ${outcome.error}`);
        equal(barrier.broken, true, 'broken');
      });
    }
  }

  if (pkg.SharedLock) {
    const { SharedLock } = pkg;

    test('SharedLock: a worker times out while the main thread holds it, then takes it when released', async () => {
      const buffer = new SharedArrayBuffer(SharedEvent.BYTES + SharedLock.BYTES);
      const go = new SharedEvent(buffer, 0);
      const lock = new SharedLock(buffer, SharedEvent.BYTES);
      await lock.acquire();
      const worker = start('lock', { buffer, byteOffset: lock.byteOffset });
      equal((await worker.next()).timedOut, true, "the worker's acquire(20) timed out");
      lock.release();
      equal((await worker.next()).acquired, true, "the worker's acquire()");
      equal((await worker.next()).holding, true, "the worker's locked()");
      equal(lock.locked(), true, 'locked() on the main thread');
      const mine = lock.acquire(5_000);
      go.set();
      equal(await mine, true, 'acquire() on the main thread after the worker released');
      lock.release();
      equal(await worker.exited, 0, 'exit code');
    });

    test('SharedLock keeps a plain shared counter exact across the main thread and 2 workers', async () => {
      const times = 2_000;
      const buffer = new SharedArrayBuffer(4 + SharedLock.BYTES);
      const lock = new SharedLock(buffer, 4);
      const counter = new Int32Array(buffer, 0, 1);
      const workers = [1, 2].map(() => start('count', { buffer, byteOffset: 4, counterOffset: 0, times }));
      for (let i = 0; i < times; i++) {
        await lock.acquire();
        const seen = counter[0];
        if (i % 64 === 0) await null;
        counter[0] = seen + 1;
        lock.release();
      }
      for (const worker of workers) equal(await worker.exited, 0, 'exit code');
      equal(counter[0], 3 * times, 'the counter');
    });
  }

  if (pkg.SharedLock && pkg.SharedCondition) {
    const { SharedLock, SharedCondition } = pkg;

    test('SharedCondition.notifyAll() on the main thread wakes waitFor() in a worker', async () => {
      const buffer = new SharedArrayBuffer(4 + SharedLock.BYTES + SharedCondition.BYTES);
      const lock = new SharedLock(buffer, 4);
      const condition = new SharedCondition(lock, buffer, 4 + SharedLock.BYTES);
      const value = new Int32Array(buffer, 0, 1);
      const worker = start('condition', {
        buffer,
        byteOffset: lock.byteOffset,
        conditionOffset: condition.byteOffset,
        valueOffset: 0,
      });
      await worker.next();
      for (let i = 0; i < 3; i++) {
        await condition.acquire();
        Atomics.add(value, 0, 1);
        condition.notifyAll();
        condition.release();
      }
      equal((await worker.next()).result, true, "the worker's waitFor()");
      equal(await worker.exited, 0, 'exit code');
    });
  }

  const results = [];
  for (const { name, fn } of tests) {
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('did not finish within 20 s')), 20_000);
    });
    try {
      await Promise.race([fn(), limit]);
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: String(error?.stack ?? error) });
    } finally {
      clearTimeout(timer);
    }
  }
  return results;
}
