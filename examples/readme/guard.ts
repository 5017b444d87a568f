// README "Guards and using": the lock is released at the end of the block, however the block ends.
import assert from 'node:assert/strict';
import { Lock } from 'awaitable-event';

const lock = new Lock();
let written = 0;
async function writeConfig(): Promise<void> {
  await Promise.resolve();
  assert.ok(lock.locked());
  written++;
}
async function tellWatchers(): Promise<void> {
  await Promise.resolve();
  assert.ok(!lock.locked());
}

// #region README
{
  using guard = await lock.lock({ timeout: 1_000 }); // rejects with a TimeoutError after 1 s
  await writeConfig();
  guard.release(); // early, by hand: the end of the block then does nothing
  await tellWatchers(); // without the lock
} // released here, had it not been released already
// #endregion

assert.equal(written, 1);
assert.equal(lock.locked(), false);
console.log('written under the lock, then released');
