/** The contenders' names in the Redis cases, as the table prints them and the goals find them. */

/** The limit of each hand-off case: the raw floor on the same client. */
export const RAW_LOCK = { ioredis: 'raw floor (ioredis)', 'node-redis': 'raw floor (node-redis)' } as const;
export const RAW_EVENT = {
  ioredis: 'raw PUBLISH -> message (ioredis)',
  'node-redis': 'raw PUBLISH -> message (node-redis)',
} as const;
export const OURS_LOCK = { ioredis: 'RedisLock (ioredis)', 'node-redis': 'RedisLock (node-redis)' } as const;
export const OURS_EVENT = { ioredis: 'RedisEvent (ioredis)', 'node-redis': 'RedisEvent (node-redis)' } as const;
/** The peers, which poll, on ioredis (the client both support). */
export const PEERS = ['redis-semaphore Mutex (ioredis)', 'redlock (ioredis)'] as const;
