export { Condition } from './condition.js';
export type { WaitOptions } from './core/arguments.js';
export { TimeoutError } from './errors.js';
export { Event } from './event.js';
export { Lock } from './lock.js';
export { SharedEvent } from './shared/shared-event.js';
