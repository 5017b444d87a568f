// The browser suite's SharedLock and SharedCondition checks: the page's main thread and module Web
// Workers (lock-worker.js) share one lock and two conditions over one buffer (lock-layout.js).
import { SharedCondition, SharedLock } from '/dist/index.js';
import { COUNTER, RING_COUNT, RING_TAKEN, SEEN_AT, bufferBytes, consume, layoutOf } from '/lock-layout.js';

const layout = layoutOf(SharedLock, SharedCondition);
/** Whether this engine has Atomics.waitAsync (else every async wait polls: 1 ms, doubling to 32 ms). */
const waitAsync = typeof Atomics.waitAsync === 'function';

/**
 * Settles as `promise`, or rejects when it has not settled after `ms`: a check fails instead of hanging.
 * `state()`, if given, describes what was left then.
 */
function within(promise, ms, what, state = () => '') {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms ${state()}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Resolves once `ok()` holds, looking every 5 ms; rejects after `ms`. */
async function until(ok, what, ms = 10_000) {
  for (const deadline = performance.now() + ms; !ok();) {
    if (performance.now() > deadline) throw new Error(`${what}: not so after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The error message `fn` throws, as `name: message`. */
function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return `${error.name}: ${error.message}`;
  }
  return 'no error';
}

/** One lock and two conditions over a new buffer with room for `items` ring items, on this thread. */
function sharedMemory(items = 0) {
  const buffer = new SharedArrayBuffer(bufferBytes(layout, items));
  const lock = new SharedLock(buffer, layout.lock);
  return {
    buffer,
    lock,
    notFull: new SharedCondition(lock, buffer, layout.notFull),
    notEmpty: new SharedCondition(lock, buffer, layout.notEmpty),
    data: new Int32Array(buffer, layout.data),
    words: new Int32Array(buffer),
  };
}

// The words, as the protocols at the top of lib/shared/shared-lock.ts and shared-condition.ts lay them
// out: the lock word, its ticket counter, then 32 seat words; a condition's ticket counter, then 32 seats
// of two words (state, then counts: registered << 16 | notified). A seat word is ticket | state (bits
// 0..2, lib/shared/seats.ts).
const STATES = ['FREE', 'RESERVED', 'WAITING', 'POLLING', 'GRANTED', 'DEAD', 'FLIGHT'];

/** The lock's and conditions' words, for a failure's message: the lock word, then every seat in use. */
function dump({ words, data }) {
  const seat = (v) => `${STATES[v & 7]}(${v >>> 3})`;
  const l = Atomics.load(words, layout.lock / 4);
  const lines = [`ring: ${data[RING_TAKEN]} taken, ${data[RING_COUNT]} in it`];
  lines.push(`lock: ${l & 1 ? 'LOCKED' : 'free'}, ${l >>> 1} counted, tickets at ${words[layout.lock / 4 + 1] >>> 3}`);
  for (let k = 0; k < 32; k++) {
    const v = Atomics.load(words, layout.lock / 4 + 2 + k);
    if (v !== 0) lines.push(`  lock seat ${k}: ${seat(v)}`);
  }
  for (const name of ['notFull', 'notEmpty']) {
    const at = layout[name] / 4;
    lines.push(`${name}: tickets at ${words[at] >>> 3}`);
    for (let k = 0; k < 32; k++) {
      const v = Atomics.load(words, at + 1 + 2 * k);
      const counts = Atomics.load(words, at + 2 + 2 * k);
      if (v !== 0)
        lines.push(`  ${name} seat ${k}: ${seat(v)}, ${counts >>> 16} registered, ${counts & 0xffff} notified`);
    }
  }
  return `\n${lines.join('\n')}`;
}

/** Starts `count` lock workers over `buffer`; each `call(op)` resolves with the worker's answer. */
async function startWorkers(buffer, count) {
  const start = async () => {
    const worker = new Worker('/lock-worker.js', { type: 'module' });
    const pending = new Map();
    let ready;
    let failed = (error) => ready?.reject(error);
    worker.onmessage = ({ data }) => {
      if (data.ready) return ready.resolve();
      const { resolve, reject } = pending.get(data.id);
      pending.delete(data.id);
      if ('error' in data) reject(new Error(`worker: ${data.error}`));
      else resolve(data.result);
    };
    worker.onerror = (e) => {
      const error = new Error(`worker: ${e.message}`);
      failed(error);
      for (const { reject } of pending.values()) reject(error);
    };
    let id = 0;
    const call = (req) =>
      new Promise((resolve, reject) => {
        pending.set(++id, { resolve, reject });
        worker.postMessage({ id, ...req });
      });
    await new Promise((resolve, reject) => {
      ready = { resolve, reject };
      worker.postMessage({ buffer });
    });
    failed = () => {};
    return { worker, call };
  };
  return Promise.all(Array.from({ length: count }, start));
}

const terminateAll = (workers) => workers.forEach(({ worker }) => worker.terminate());

/** The lock's seat words (index in `words`) a thread has published: WAITING or POLLING. */
const lockSeats = (words) =>
  Array.from({ length: 32 }, (_, k) => layout.lock / 4 + 2 + k).filter((at) =>
    [2, 3].includes(Atomics.load(words, at) & 7),
  );

/** The condition's seats' counts words (index in `words`) with waiters registered. */
const conditionSeats = (words, cond) =>
  Array.from({ length: 32 }, (_, k) => cond.byteOffset / 4 + 2 + 2 * k).filter(
    (at) => Atomics.load(words, at) >>> 16 > 0,
  );

/**
 * Resolves once no engine waiter is left on the `words` at `seats` (the seats of terminated workers):
 * `worker.terminate()` takes effect later, with no event to await (Chromium stops a worker blocked in
 * Atomics.wait only after about 2 s), and a release before then would hand the lock to the dying worker.
 * Each probe is an Atomics.notify of those words only: a thread still alive takes it for a spurious
 * wake-up and waits again, so ten probes in a row must wake nobody.
 */
async function gone(words, seats) {
  for (let quiet = 0; quiet < 10;) {
    const woken = seats.reduce((n, at) => n + Atomics.notify(words, at), 0);
    quiet = woken === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Registers the SharedLock and SharedCondition checks with the page's `test(name, fn)`. */
export function lockTests(test, assert) {
  // Producer/consumer, 100,000 items, except:
  // - without Atomics.waitAsync (Firefox before 145) every async waiter polls, the page's included, and a
  //   hand-off to a sleeping poller waits for its next poll (up to 32 ms): 10,000 items took 84 s in
  //   Firefox ESR 140 (100,000 would take about 15 minutes), so that engine passes 2,000;
  // - JavaScriptCore (WebKitGTK 2.50) now and then loses an Atomics.waitAsync wake-up: Atomics.notify
  //   counts the waiter as woken, but its promise never settles (pure Atomics code, no library, shows it
  //   after 60,000 to 1,500,000 wake-ups), and the thread waits for ever. 100,000 items hit it in about
  //   one run of four, so that engine passes 10,000.
  const javaScriptCore =
    /AppleWebKit/.test(self.navigator.userAgent) && !/Chrome|Firefox/.test(self.navigator.userAgent);
  const items = !waitAsync ? 2_000 : javaScriptCore ? 10_000 : 100_000;
  test(`SharedCondition: 2 producer and 2 consumer Web Workers plus a consumer on the page pass ${items.toLocaleString('en')} items through a ring in shared memory, each exactly once`, async () => {
    const shared = sharedMemory(items);
    const workers = await startWorkers(shared.buffer, 4);
    try {
      const [a, b, c, d] = workers;
      const consumers = [
        a.call({ op: 'consume', items, sync: true }),
        b.call({ op: 'consume', items, sync: true }),
        consume(items, false, shared),
      ];
      const producers = [
        c.call({ op: 'produce', from: 0, items: items / 2 }),
        d.call({ op: 'produce', from: items / 2, items: items / 2 }),
      ];
      const parties = [...consumers, ...producers];
      const settled = parties.map(() => false);
      parties.forEach((p, i) => p.then(() => (settled[i] = true)));
      const left = () => {
        const names = ['consumer a', 'consumer b', 'page consumer', 'producer c', 'producer d'];
        return `(${names.filter((_, i) => !settled[i]).join(', ')} not done)${dump(shared)}`;
      };
      const done = await within(Promise.all(parties), 90_000, 'the items', left);
      const taken = done.slice(0, 3).map((r) => r.taken);
      const { data } = shared;
      assert(taken[0] + taken[1] + taken[2] === items, `the consumers took ${taken.join(' + ')} items`);
      assert(taken[2] > 0 && done[2].waits > 0, `the page took ${taken[2]} items, waiting ${done[2].waits} times`);
      assert(
        data[RING_TAKEN] === items && data[RING_COUNT] === 0,
        `${data[RING_TAKEN]} taken, ${data[RING_COUNT]} left`,
      );
      for (let i = 0; i < items; i++) assert(data[SEEN_AT + i] === 1, `item ${i} seen ${data[SEEN_AT + i]} times`);
      assert(!shared.lock.locked(), 'the lock is still held');
    } finally {
      terminateAll(workers);
    }
  });

  // Mutual exclusion. Without Atomics.waitAsync a hand-off to a polling thread waits for its next poll
  // (up to 32 ms), so that engine counts fewer.
  const n = waitAsync ? 20_000 : 200;
  test(`SharedLock: 4 Web Workers and the page, ${n.toLocaleString('en')} increments each of a plain counter under the lock, mixing acquire, acquireSync, runExclusive, timeouts and aborts, count exactly`, async () => {
    const shared = sharedMemory();
    const { lock, data } = shared;
    const workers = await startWorkers(shared.buffer, 4);
    try {
      const runs = workers.map(({ call }, i) => call({ op: 'count', n, tasks: 3, sync: i % 2 === 0 }));
      const increment = () => {
        data[COUNTER] = data[COUNTER] + 1;
      };
      /** One task of the page: increments i = k, k + 2, ... < n, each its own way. */
      const task = async (k) => {
        for (let i = k; i < n; i += 2) {
          const how = i % 5;
          if (how === 0) {
            await lock.runExclusive(increment);
            continue;
          }
          if (how === 1) {
            await lock.runExclusive(increment, 1).catch((error) => {
              if (error.name !== 'TimeoutError') throw error;
              return lock.runExclusive(increment);
            });
            continue;
          }
          let taken = true;
          if (how === 2) taken = await lock.acquire(1);
          else if (how === 3) {
            const ac = new AbortController();
            const p = lock.acquire({ signal: ac.signal });
            if (i % 7 === 3) ac.abort();
            taken = await p.catch(() => false);
          } else await lock.acquire();
          if (!taken) await lock.acquire(); // timed out or aborted: it holds nothing
          const v = data[COUNTER];
          if (i % 3 === 0) await null; // hold across a task switch
          data[COUNTER] = v + 1;
          lock.release();
        }
      };
      await within(Promise.all([...runs, task(0), task(1)]), 90_000, 'the counting');
      assert(data[COUNTER] === 5 * n, `counted ${data[COUNTER]}, not ${5 * n}`);
      assert(!lock.locked(), 'the lock is still held');
    } finally {
      terminateAll(workers);
    }
  });

  test("SharedLock.acquireSync() and SharedCondition.waitSync() on the page's main thread throw an Error naming acquire() and wait(), which work there", async () => {
    const shared = sharedMemory();
    const { lock, notEmpty } = shared;
    const [worker] = await startWorkers(shared.buffer, 1);
    try {
      const lockMessage = thrown(() => lock.acquireSync(10));
      assert(
        /^Error: SharedLock\.acquireSync\(\) cannot block this thread.*use await lock\.acquire\(\) instead$/.test(
          lockMessage,
        ),
        lockMessage,
      );
      assert(!lock.locked(), 'acquireSync took the lock while throwing');
      // acquire() waits for a worker to release the lock, without blocking the page.
      assert((await worker.call({ op: 'acquire' })) === true, 'the worker did not take the free lock');
      const mine = lock.acquire();
      await until(() => lockSeats(shared.words).length === 1, 'the page in line');
      await worker.call({ op: 'release' });
      assert((await within(mine, 10_000, 'acquire() on the page')) === true, 'acquire() did not resolve true');

      const waitMessage = thrown(() => notEmpty.waitSync(10));
      assert(
        /^Error: SharedCondition\.waitSync\(\) cannot block this thread.*use await cond\.wait\(\) instead$/.test(
          waitMessage,
        ),
        waitMessage,
      );
      assert(lock.locked(), 'waitSync let go of the lock while throwing');
      // wait() lets go of the lock, is notified by a worker, and has the lock again when it resolves.
      const woken = notEmpty.wait(10_000);
      await worker.call({ op: 'notify', n: 1 });
      assert((await within(woken, 10_000, 'wait() on the page')) === true, 'wait() did not resolve true');
      assert(lock.locked(), 'wait() resolved without the lock');
      assert((await notEmpty.wait(20)) === false, 'wait(20) with nobody notifying did not time out');
      lock.release();
      assert(!lock.locked(), 'the lock is still held');
    } finally {
      terminateAll([worker]);
    }
  });

  // A terminated worker's waiter is skipped because the releaser's Atomics.notify wakes nobody on its
  // seat. Without Atomics.waitAsync every seat is POLLING (even one blocked in acquireSync or waitSync),
  // and nothing tells a polling thread from a terminated one: the library documents that such a worker
  // can be handed the lock and keep it, so these checks run only where Atomics.waitAsync exists.
  if (!waitAsync) return;

  test('SharedLock: Web Workers terminated while they wait (in acquire() and blocked in acquireSync()) hold nobody up: the lock goes to a live waiter', async () => {
    const shared = sharedMemory();
    const { lock, words } = shared;
    const workers = await startWorkers(shared.buffer, 3);
    try {
      const [a, b, c] = workers;
      await lock.acquire();
      void a.call({ op: 'acquire' });
      await until(() => lockSeats(words).length === 1, 'the async waiter in line');
      void b.call({ op: 'acquireSync' });
      await until(() => lockSeats(words).length === 2, 'the blocked waiter in line');
      const dead = lockSeats(words);
      const live = c.call({ op: 'acquire', timeout: 20_000 });
      await until(() => lockSeats(words).length === 3, 'the live waiter in line');
      a.worker.terminate();
      b.worker.terminate();
      await within(gone(words, dead), 10_000, "the terminated workers' engine waiters");
      lock.release(); // the two seats ahead are dead: skipped
      assert((await within(live, 10_000, 'the live waiter')) === true, 'the live waiter timed out');
      await c.call({ op: 'release' });
      assert(!lock.locked(), 'the lock is still held');
    } finally {
      terminateAll(workers);
    }
  });

  test('SharedCondition: Web Workers terminated while they wait (in wait() and blocked in waitSync()) are not counted: notify(1) reaches a live waiter', async () => {
    const shared = sharedMemory();
    const { lock, notEmpty, words } = shared;
    const workers = await startWorkers(shared.buffer, 3);
    try {
      const [a, b, c] = workers;
      void a.call({ op: 'wait' });
      await until(() => conditionSeats(words, notEmpty).length === 1, 'the async waiter registered');
      void b.call({ op: 'waitSync' });
      await until(() => conditionSeats(words, notEmpty).length === 2, 'the blocked waiter registered');
      const dead = conditionSeats(words, notEmpty);
      const live = c.call({ op: 'wait', timeout: 20_000 });
      await until(() => conditionSeats(words, notEmpty).length === 3, 'the live waiter registered');
      a.worker.terminate();
      b.worker.terminate();
      await within(gone(words, dead), 10_000, "the terminated workers' engine waiters");
      await lock.acquire();
      notEmpty.notify(1); // the two seats ahead are dead: skipped, the notification goes on
      lock.release();
      assert((await within(live, 10_000, 'the live waiter')) === true, 'the live waiter timed out');
      assert(!lock.locked(), 'the lock is still held');
    } finally {
      terminateAll(workers);
    }
  });
}
