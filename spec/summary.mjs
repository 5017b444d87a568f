// The last line of npm test: the unit (mocha) and browser suites' counts added up.
import { readFileSync } from 'node:fs';

const read = (name) => JSON.parse(readFileSync(new URL(`../.tmp/results/${name}.json`, import.meta.url), 'utf8'));
const suites = [read('unit'), read('browser')];
const passed = suites.reduce((n, s) => n + s.passed, 0);
const failed = suites.reduce((n, s) => n + s.failed, 0);
console.log(`\ntotal: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
