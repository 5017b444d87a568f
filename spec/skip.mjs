// A suite that cannot run on this machine (a program it needs is not installed) says so instead of
// installing it: skip() prints one line (what did not run, why, how to enable it), records the same in
// .tmp/results/<suite>.json for the total (spec/summary.mjs), and exits 77, the "skipped" code of
// automake's test harness. spec/run.mjs reports such a step as not run; under CI (the CI variable set, as
// every CI service does) a suite that did not run is a failure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const SKIPPED = 77;

/** Whether this runs under CI, where every suite must run. */
export const inCI = (env = process.env) => !['', '0', 'false'].includes(env.CI ?? '');

/** Where the suites write their counts (TEST_RESULTS_DIR: elsewhere, for the tests of this mechanism). */
export const resultsDir = () => process.env.TEST_RESULTS_DIR ?? resolve(import.meta.dirname, '../.tmp/results');

/** Ends the process: `suite` did not run because `why`; `enable` says what makes it run. */
export function skip(suite, why, enable) {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${suite}.json`), JSON.stringify({ skipped: why }));
  console.log(`${suite}: did not run: ${why}; to run it, ${enable}`);
  process.exit(SKIPPED);
}
