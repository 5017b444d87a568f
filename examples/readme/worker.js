// README "Workers", the worker: loading its model takes 10 ms here.
const loadModel = () => new Promise((resolve) => setTimeout(resolve, 10));

// #region README
// worker.js
import { workerData } from 'node:worker_threads';
import { SharedEvent } from 'awaitable-event';

const loaded = SharedEvent.from(workerData.loaded); // the same event, over the same memory
await loadModel();
loaded.set();
// #endregion
