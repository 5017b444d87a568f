// Starts a TypeScript worker under tsx: Node 20 runs no `--import` preload in a worker, so the worker
// registers tsx itself, then imports its entry. workerData.noWaitAsync then removes Atomics.waitAsync,
// as on a runtime that lacks it (only after the import: Node's loader hooks use it themselves).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(new URL(workerData.entry, import.meta.url).href);
if (workerData.noWaitAsync) delete Atomics.waitAsync;
