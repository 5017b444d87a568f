// Runs the conformance checks on the installed package, in whichever runtime runs this file (run.mjs
// copies it beside the package's scratch install), and prints the results as one JSON line.
import { createRequire } from 'node:module';
import * as pkg from 'awaitable-event';
import { conformance, runtime, waitPath } from './conformance.mjs';

const required = createRequire(import.meta.url)('awaitable-event');
const results = await conformance(pkg, { specifier: 'awaitable-event', required });
console.log(JSON.stringify({ runtime: runtime(), path: waitPath(), results }));
process.exit(results.every((r) => r.ok) ? 0 : 1);
