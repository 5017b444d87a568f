import { MAIN_KINDS } from './clients.js';
import { redisEventSuite } from './event-suite.js';

for (const kind of MAIN_KINDS) redisEventSuite(kind);
