// Starts a TypeScript worker of the demo under tsx (Node 20 runs no --import preload in workers).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(new URL(workerData.entry, import.meta.url).href);
