// The last line of npm test: the tests of the unit, package, redis and browser suites added up, from the counts
// each writes to .tmp/results, and the suites that did not run with why (spec/skip.mjs). A suite that
// wrote nothing counts as a failure; one that did not run counts as one under CI only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inCI, resultsDir } from './skip.mjs';

const suites = ['unit', 'package', 'redis', 'browser'];
let passed = 0;
let failed = 0;
const missing = [];
const skipped = [];
for (const name of suites) {
  const file = join(resultsDir(), `${name}.json`);
  if (!existsSync(file)) {
    missing.push(name);
    continue;
  }
  const counts = JSON.parse(readFileSync(file, 'utf8'));
  if (counts.skipped !== undefined) {
    skipped.push(`${name} did not run (${counts.skipped})`);
    continue;
  }
  passed += counts.passed;
  failed += counts.failed;
}
const notes = [...skipped, ...(missing.length > 0 ? [`no results from ${missing.join(', ')}`] : [])];
console.log(`total: ${passed} passed, ${failed} failed${notes.map((n) => `; ${n}`).join('')}`);
process.exit(failed === 0 && missing.length === 0 && (skipped.length === 0 || !inCI()) ? 0 : 1);
