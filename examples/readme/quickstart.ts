// README "Quick start": as a reader copies it into start.mjs; it prints false, true, true.
// #region README
import { Event } from 'awaitable-event';

const ready = new Event();
setTimeout(ready.set, 100); // in a service: db.connect().then(ready.set)

console.log(await ready.wait(10)); // false: not set within 10 ms
console.log(await ready.wait()); // true, once set
console.log(ready.isSet()); // true, until ready.clear()
// #endregion
