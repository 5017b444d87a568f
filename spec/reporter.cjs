// Mocha reporter for npm test: silent while tests pass; at the end, every failure in full, then one line
// "<suite>: N passed, N failed", with the counts also written to .tmp/results/<suite>.json
// (spec/summary.mjs adds them up at the end of npm test). `--reporter-option suite=NAME`, default unit.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Base } = require('mocha').reporters;

class Reporter extends Base {
  constructor(runner, options) {
    super(runner, options);
    const suite = options?.reporterOption?.suite ?? 'unit';
    runner.once('end', () => {
      const { passes, failures, duration } = this.stats;
      if (failures > 0) Base.list(this.failures);
      const dir = join(__dirname, '..', '.tmp', 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${suite}.json`), JSON.stringify({ passed: passes, failed: failures }));
      console.log(`${suite}: ${passes} passed, ${failures} failed (${(duration / 1000).toFixed(1)} s)`);
    });
  }
}

module.exports = Reporter;
