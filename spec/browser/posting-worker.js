// The Web Worker side of the browser suite's posting checks (posting.js): rebuilds what the page posted
// with from() and does what it asks.
import { SharedCondition, SharedEvent, SharedLock } from '/dist/index.js';

const loadModel = () => new Promise((resolve) => setTimeout(resolve, 10));

self.onmessage = async ({ data }) => {
  try {
    switch (data.op) {
      case 'load': {
        // As the README's worker.js, with the event in the message instead of workerData.
        const loaded = SharedEvent.from(data.loaded);
        await loadModel();
        loaded.set();
        return;
      }
      case 'consume': {
        const lock = SharedLock.from(data.lock);
        const notEmpty = SharedCondition.from(data.notEmpty);
        const ready = SharedEvent.from(data.ready);
        await notEmpty.acquire();
        ready.set();
        await notEmpty.waitFor(() => Atomics.load(data.items, 0) !== 0);
        const item = Atomics.load(data.items, 0);
        const held = lock.locked();
        notEmpty.release();
        return self.postMessage({ sameLock: notEmpty.sharedLock === lock, item, held });
      }
      case 'refuse':
        try {
          SharedEvent.from(data.value);
          return self.postMessage({ message: 'taken' });
        } catch (error) {
          return self.postMessage({ message: `${error.name}: ${error.message}` });
        }
    }
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
