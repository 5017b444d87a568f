export { Barrier } from './barrier.js';
export { Condition } from './condition.js';
export type { WaitOptions } from './core/arguments.js';
export { BrokenBarrierError, TimeoutError } from './errors.js';
export { Event } from './event.js';
export type { Guard } from './guard.js';
export { Lock } from './lock.js';
export { BoundedSemaphore, Semaphore } from './semaphore.js';
export { SharedEvent } from './shared/shared-event.js';
