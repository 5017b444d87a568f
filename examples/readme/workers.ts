// README "Workers", the main thread: waits until the worker (worker.js beside it) has loaded.

// #region README
// main.ts
import { Worker } from 'node:worker_threads';
import { SharedEvent } from 'awaitable-event';

const loaded = new SharedEvent();
new Worker(new URL('./worker.js', import.meta.url), { workerData: { loaded } }); // posted as it is
await loaded.wait(); // until the worker has loaded
// #endregion

console.log('the worker has loaded');
