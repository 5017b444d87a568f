// README "Why": the headline example. A database that connects after 10 ms stands in for a real one.
import assert from 'node:assert/strict';

const db = { connect: () => new Promise<void>((resolve) => setTimeout(resolve, 10)) };

// #region README
import { Event } from 'awaitable-event';

const ready = new Event();
db.connect().then(ready.set, console.error);

await ready.wait(5_000); //=> true if connected within 5 s, else false
await ready.wait(); //=> true, once connected
// #endregion

assert.equal(ready.isSet(), true);
console.log('connected');
