// The worker side of the runtime conformance checks (conformance.mjs): runs one job on primitives
// rebuilt from the shared buffer it is given, reports through postMessage, and then has nothing left
// to do, so it must exit by itself. It never listens for messages (a listener would keep it alive):
// the main thread signals it through SharedEvents of the same buffer. The job runs in a function that
// nothing awaits: a pending top-level await keeps a Deno worker alive by itself, which would hide
// whether the library's own wait keeps the worker alive.
import { parentPort, workerData } from 'node:worker_threads';

const { job, specifier, buffer, fallback } = workerData;
if (fallback) delete Atomics.waitAsync;
const pkg = await import(specifier);
const post = (message) => parentPort.postMessage(message);
const event = (i) => new pkg.SharedEvent(buffer, i * pkg.SharedEvent.BYTES);

async function run() {
  switch (job) {
    case 'set':
      event(0).set();
      break;
    case 'wait': {
      // Nothing but this wait is pending: the worker lives on it alone.
      const woken = event(0).wait();
      post({ waiting: true });
      post({ result: await woken });
      break;
    }
    case 'raced': {
      // Another thread's set() lands between wait() sampling the word and the engine wait starting, so
      // Atomics.waitAsync answers "not-equal" at once: emulated with a second view of the same word.
      const waiting = event(0);
      const other = event(0);
      const { waitAsync } = Atomics;
      Atomics.waitAsync = (...args) => {
        Atomics.waitAsync = waitAsync;
        other.set();
        return waitAsync(...args);
      };
      post({ result: await waiting.wait() });
      break;
    }
    case 'waitSync':
      post({ waiting: true });
      post({ result: event(0).waitSync(5_000) });
      break;
    case 'pulses': {
      const [armed, target, done] = [event(0), event(1), event(2)];
      let lost = 0;
      for (let r = 0; r < workerData.rounds; r++) {
        const woken = target.wait(5_000);
        armed.set();
        if (!(await woken)) lost++;
        await done.wait();
        done.clear();
      }
      post({ result: lost });
      break;
    }
    case 'lock': {
      // The main thread holds the lock: a timed acquire fails, then the main thread lets it go.
      const lock = new pkg.SharedLock(buffer, workerData.byteOffset);
      post({ timedOut: (await lock.acquire(20)) === false });
      post({ acquired: await lock.acquire(5_000) });
      post({ holding: lock.locked() });
      await event(0).wait(); // until the main thread is waiting for the lock
      lock.release();
      break;
    }
    case 'count': {
      // A plain read-modify-write of a shared counter, under the lock, with a yield inside.
      const lock = new pkg.SharedLock(buffer, workerData.byteOffset);
      const counter = new Int32Array(buffer, workerData.counterOffset, 1);
      for (let i = 0; i < workerData.times; i++) {
        await lock.acquire();
        const seen = counter[0];
        if (i % 64 === 0) await null;
        counter[0] = seen + 1;
        lock.release();
      }
      post({ done: true });
      break;
    }
    case 'condition': {
      // Waits on a SharedCondition until the main thread has raised the shared value to 3.
      const lock = new pkg.SharedLock(buffer, workerData.byteOffset);
      const condition = new pkg.SharedCondition(lock, buffer, workerData.conditionOffset);
      const value = new Int32Array(buffer, workerData.valueOffset, 1);
      await condition.acquire();
      post({ waiting: true });
      const seen = await condition.waitFor(() => Atomics.load(value, 0) >= 3, 5_000);
      condition.release();
      post({ result: seen });
      break;
    }
    default:
      throw new Error(`unknown job ${job}`);
  }
}

void run();
