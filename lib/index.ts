export { Event } from './event.js';
export type { WaitOptions } from './waiters.js';
