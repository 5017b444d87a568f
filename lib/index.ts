export { Condition } from './condition.js';
export { TimeoutError } from './errors.js';
export { Event } from './event.js';
export { Lock } from './lock.js';
export { SharedEvent } from './shared-event.js';
export type { WaitOptions } from './waiters.js';
