/**
 * The older majors of both clients (node-redis v5, ioredis v5), which the subpath accepts as well: the
 * event and lock behaviour suites once each.
 */
import { RedisLock } from '../../lib/redis/index.js';
import { V5_KINDS } from './clients.js';
import { redisEventSuite } from './event-suite.js';
import { redisLockSuite } from './lock-suite.js';

for (const kind of V5_KINDS) {
  redisEventSuite(kind);
  redisLockSuite(kind, { label: 'RedisLock', create: (client, name, options) => new RedisLock(client, name, options) });
}
