// README "Coming from async-mutex / p-limit / events.once": acquire(timeout) that resolves false holds
// nothing; lock() and runExclusive() release for you; one AbortController cancels every wait given its signal.
import assert from 'node:assert/strict';

let saved = 0;
const save = async (): Promise<void> => {
  assert.ok(lock.locked(), 'save() ran without the lock');
  saved++;
  await Promise.resolve();
};

// #region README
import { Event, Lock } from 'awaitable-event';

const lock = new Lock();
if (await lock.acquire(100)) {
  try {
    await save();
  } finally {
    lock.release(); // only when acquire() resolved true
  }
}
await lock.runExclusive(() => save(), 100); // rejects with a TimeoutError after 100 ms; releases for you

const ready = new Event();
const shutdown = new AbortController();
const { signal } = shutdown;
const waits = Promise.allSettled([ready.wait({ signal }), ready.wait({ timeout: 5_000, signal })]);
shutdown.abort(new Error('shutting down')); // every wait given the signal rejects with its reason
console.log((await waits).map((r) => r.status)); // [ 'rejected', 'rejected' ]
// #endregion

assert.equal(saved, 2);
assert.equal(lock.locked(), false);
