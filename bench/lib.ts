/**
 * The library as users run it: the built `dist/index.js` (npm run bench builds it first), typed as the
 * source. Running the TypeScript source through tsx instead adds what tsx adds (a `__name` call per arrow
 * function in a class field, for one), which users never pay.
 */
import type * as Lib from '../lib/index.js';

const lib = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Lib;

export const {
  Condition,
  Event,
  Lock,
  Queue,
  ReadWriteLock,
  Semaphore,
  SharedBarrier,
  SharedEvent,
  SharedLock,
  SharedSemaphore,
} = lib;
