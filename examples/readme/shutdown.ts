// README "A graceful shutdown loop": the process sends itself SIGTERM after 50 ms of work.
import assert from 'node:assert/strict';
import { Event } from 'awaitable-event';

let rounds = 0;
const doSomeWork = () => {
  rounds++;
  return Promise.resolve();
};
setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);

// #region README
const stop = new Event();
process.once('SIGTERM', stop.set); // set and clear stay bound: pass them as callbacks

while (!stop.isSet()) {
  await doSomeWork();
  await stop.wait(1_000); // sleep a second, but wake at once on SIGTERM
}
// #endregion

assert.equal(rounds, 1);
console.log('stopped after 1 round');
