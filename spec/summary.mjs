// The last line of npm test: the tests of the unit, package and browser suites added up, from the counts
// each writes to .tmp/results. A suite that wrote none (it did not get to run) counts as a failure.
import { existsSync, readFileSync } from 'node:fs';

const suites = ['unit', 'package', 'browser'];
let passed = 0;
let failed = 0;
const missing = [];
for (const name of suites) {
  const file = new URL(`../.tmp/results/${name}.json`, import.meta.url);
  if (!existsSync(file)) {
    missing.push(name);
    continue;
  }
  const counts = JSON.parse(readFileSync(file, 'utf8'));
  passed += counts.passed;
  failed += counts.failed;
}
const note = missing.length > 0 ? `; no results from ${missing.join(', ')}` : '';
console.log(`total: ${passed} passed, ${failed} failed${note}`);
process.exit(failed === 0 && missing.length === 0 ? 0 : 1);
