export { Condition } from './condition.js';
export type { WaitOptions } from './core/arguments.js';
export { TimeoutError } from './errors.js';
export { Event } from './event.js';
export { Lock } from './lock.js';
export { SharedCondition } from './shared/shared-condition.js';
export { SharedEvent } from './shared/shared-event.js';
export { SharedLock } from './shared/shared-lock.js';
