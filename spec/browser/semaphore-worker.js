// The Web Worker side of the browser suite's SharedSemaphore checks (semaphore.js): rebuilds the
// semaphore the page posted with from() and enters n times, mixing every way to take a permit.
import { SharedSemaphore } from '/dist/index.js';
import { enter, leave } from '/semaphore.js';

async function count(semaphore, tally, n, sync) {
  const task = async (k) => {
    for (let i = k; i < n; i += 2) {
      const how = i % 4;
      let taken = true;
      if (how === 0 && sync) taken = semaphore.acquireSync(2);
      else if (how === 1) taken = await semaphore.acquire(1);
      else if (how === 2) {
        const ac = new AbortController();
        const p = semaphore.acquire({ signal: ac.signal });
        if (i % 7 === 2) ac.abort();
        taken = await p.catch(() => false);
      } else await semaphore.acquire();
      if (!taken) await semaphore.acquire(); // it holds nothing: take a permit the plain way
      enter(tally);
      if (i % 3 === 0) await null; // hold across a task switch
      leave(tally);
      semaphore.release();
    }
  };
  await Promise.all([task(0), task(1)]);
}

self.onmessage = async ({ data }) => {
  try {
    const semaphore = SharedSemaphore.from(data.semaphore);
    await count(semaphore, data.tally, data.n, data.sync);
    self.postMessage({ done: true });
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
