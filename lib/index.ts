export { Event } from './event.js';
export { SharedEvent } from './shared-event.js';
export type { WaitOptions } from './waiters.js';
