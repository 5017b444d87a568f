import { RedisLock, RedisSemaphore } from '../../lib/redis/index.js';
import { MAIN_KINDS } from './clients.js';
import { type LockFactory, redisLockSuite } from './lock-suite.js';

const lockFactories: LockFactory[] = [
  { label: 'RedisLock', create: (client, name, options) => new RedisLock(client, name, options) },
  { label: 'RedisSemaphore(1)', create: (client, name, options) => new RedisSemaphore(client, name, 1, options) },
];

for (const kind of MAIN_KINDS) for (const factory of lockFactories) redisLockSuite(kind, factory);
