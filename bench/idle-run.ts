/** `npx tsx bench/idle-run.ts` (after `npx rollup -c`): the idle-CPU case of the bench alone. */
import { printCase } from './report.js';
import { idleThreads } from './idle.js';

printCase(await idleThreads(process.argv.includes('--quick')));
