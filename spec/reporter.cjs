// Mocha's spec reporter, plus a closing "N passed, N failed" line and the counts in .tmp/results/unit.json
// (spec/summary.mjs adds them up with the browser suite's at the end of npm test).
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Spec } = require('mocha').reporters;

class Reporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const { passes, failures } = this.stats;
      const dir = join(__dirname, '..', '.tmp', 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'unit.json'), JSON.stringify({ passed: passes, failed: failures }));
      console.log(`\nunit: ${passes} passed, ${failures} failed`);
    });
  }
}

module.exports = Reporter;
