// Preloaded (`--require`) by the README examples' runs: Node 20 runs no `--import` preload in a worker,
// so a worker registers tsx here, and the examples' workers can be TypeScript like the rest.
const { isMainThread } = require('node:worker_threads');
if (!isMainThread) require('tsx/esm/api').register();
