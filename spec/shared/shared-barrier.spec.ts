import { SharedBarrier } from '../../lib/index.js';
import { barrierSuite } from '../barrier-suite.js';

// On one thread, a SharedBarrier keeps every promise of the one-thread Barrier.
barrierSuite('SharedBarrier', (parties) => new SharedBarrier(parties));
