export { LeaseLostError } from './errors.js';
export type { RedisGuard } from './lease.js';
export { RedisEvent } from './redis-event.js';
export { type LeaseOptions, RedisLock, RedisSemaphore } from './redis-semaphore.js';
