import { Barrier } from '../lib/index.js';
import { barrierSuite } from './barrier-suite.js';

barrierSuite('Barrier', (parties) => new Barrier(parties));
