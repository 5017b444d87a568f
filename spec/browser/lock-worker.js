// A module Web Worker of the browser suite that does what the page asks with one SharedLock and two
// SharedConditions (notFull, notEmpty) over the buffer it is given (the layout of lock-layout.js),
// answering each request { id, op, ... } with { id, result } or { id, error }. With `fallback`,
// Atomics.waitAsync is removed before the library loads (its waits poll).
import { COUNTER, consume, layoutOf, produce } from '/lock-layout.js';

let shared;

/**
 * Increments the plain counter n times under the lock, in `tasks` tasks, mixing every way to take it:
 * acquireSync with a timeout (with `sync`), acquire with a timeout, acquire with a signal (aborted now
 * and then), runExclusive, and plain acquire, holding the lock across a task switch now and then.
 * Returns how many tries timed out or were aborted.
 */
async function count(n, tasks, sync) {
  const { lock, data } = shared;
  let gaveUp = 0;
  const task = async (k) => {
    for (let i = k; i < n; i += tasks) {
      const how = i % 5;
      if (how === 3) {
        await lock.runExclusive(() => {
          data[COUNTER] = data[COUNTER] + 1;
        });
        continue;
      }
      let taken = true;
      if (how === 0 && sync) taken = lock.acquireSync(2);
      else if (how === 1) taken = await lock.acquire(1);
      else if (how === 2) {
        const ac = new AbortController();
        const p = lock.acquire({ signal: ac.signal });
        if (i % 7 === 0) ac.abort();
        taken = await p.catch(() => false);
      } else await lock.acquire();
      if (!taken) {
        // Timed out or aborted: it holds nothing; take the lock the plain way for this increment.
        gaveUp++;
        await lock.acquire();
      }
      const v = data[COUNTER];
      if (i % 3 === 0) await null; // hold across a task switch
      data[COUNTER] = v + 1;
      lock.release();
    }
  };
  await Promise.all(Array.from({ length: tasks }, (_, k) => task(k)));
  return gaveUp;
}

async function handle(req) {
  const { lock, notEmpty } = shared;
  switch (req.op) {
    case 'count':
      return count(req.n, req.tasks, req.sync);
    case 'consume':
      return consume(req.items, req.sync, shared);
    case 'produce':
      return produce(req.from, req.items, shared);
    case 'acquire':
      return lock.acquire(req.timeout);
    case 'acquireSync':
      return lock.acquireSync(req.timeout);
    case 'release':
      return lock.release();
    case 'wait': {
      await lock.acquire();
      try {
        return await notEmpty.wait(req.timeout);
      } finally {
        lock.release();
      }
    }
    case 'waitSync': {
      lock.acquireSync();
      try {
        return notEmpty.waitSync(req.timeout);
      } finally {
        lock.release();
      }
    }
    case 'notify':
      await lock.acquire();
      notEmpty.notify(req.n);
      return lock.release();
  }
  throw new Error(`unknown op ${req.op}`);
}

self.onmessage = async ({ data: req }) => {
  if (req.buffer) {
    if (req.fallback) delete Atomics.waitAsync;
    const { SharedCondition, SharedLock } = await import('/dist/index.js');
    const layout = layoutOf(SharedLock, SharedCondition);
    const lock = new SharedLock(req.buffer, layout.lock);
    shared = {
      lock,
      notFull: new SharedCondition(lock, req.buffer, layout.notFull),
      notEmpty: new SharedCondition(lock, req.buffer, layout.notEmpty),
      data: new Int32Array(req.buffer, layout.data),
    };
    return self.postMessage({ ready: true });
  }
  handle(req).then(
    (result) => self.postMessage({ id: req.id, result }),
    (error) => self.postMessage({ id: req.id, error: `${error?.name}: ${error?.message}` }),
  );
};
