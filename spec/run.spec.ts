/**
 * npm test itself (spec/run.mjs, spec/skip.mjs, spec/summary.mjs): a failing step says what failed and how; a
 * suite whose program is missing says it did not run, why and how to enable it, which fails under CI only.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// @ts-expect-error a plain .mjs script, without declarations
import { runSteps } from './run.mjs';

const root = resolve(import.meta.dirname, '..');
type Step = [string, string, string[]];

describe('npm test (spec/run.mjs)', () => {
  let results: string;
  const outside = { ...process.env, CI: '' };
  const underCI = { ...process.env, CI: 'true' };

  beforeEach(() => {
    results = mkdtempSync(join(tmpdir(), 'awaitable-event-results-'));
  });
  afterEach(() => rmSync(results, { recursive: true, force: true }));

  async function report(steps: Step[], env: NodeJS.ProcessEnv): Promise<{ failed: number; lines: string }> {
    const lines: string[] = [];
    const failed = (await runSteps(steps, { env, log: (line: string) => lines.push(line) })) as number;
    return { failed, lines: lines.join('\n').replace(/\(\d+\.\d s\)/g, '(T)') };
  }

  it('a failing step prints its command, its exit code and its output', async () => {
    const step: Step = ['lint', 'sh', ['-c', 'echo found 2 problems; echo details >&2; exit 3']];
    expect(await report([step], outside)).to.deep.equal({
      failed: 1,
      lines:
        'lint: FAILED: `sh -c echo found 2 problems; echo details >&2; exit 3` exited with code 3 (T); its output:\n  found 2 problems\n  details',
    });
  });

  it('a step killed by a signal, or that cannot start, says so', async () => {
    const steps: Step[] = [
      ['unit', 'sh', ['-c', 'kill -TERM $$']],
      ['docs', 'no-such-command-here', []],
    ];
    expect(await report(steps, outside)).to.deep.equal({
      failed: 2,
      lines: [
        'unit: FAILED: `sh -c kill -TERM $$` was killed by SIGTERM (T); its output:\n  (no output)',
        'docs: FAILED: `no-such-command-here` could not start (spawn no-such-command-here ENOENT) (T); its output:\n  (no output)',
      ].join('\n'),
    });
  });

  it('without a Chromium, the browser suite prints one line (why, how to enable it) and does not fail; under CI it fails', async () => {
    const env = { CHROMIUM_PATH: '/nonexistent/chromium', TEST_RESULTS_DIR: results };
    const step: Step = ['browser', 'node', ['spec/browser/run.mjs']];
    const line =
      "browser: did not run: no Chromium at /nonexistent/chromium; to run it, install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary";
    expect(await report([step], { ...outside, ...env })).to.deep.equal({ failed: 0, lines: line });
    const ci = await report([step], { ...underCI, ...env });
    expect(ci.failed).to.equal(1);
    expect(ci.lines).to.include('exited with code 77, and under CI every suite must run').and.include(line);
  });

  it('the total line names a suite that did not run, and why: passing outside CI, failing under it', () => {
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'unit.json'), JSON.stringify({ passed: 5, failed: 0 }));
    writeFileSync(join(results, 'package.json'), JSON.stringify({ passed: 2, failed: 0 }));
    writeFileSync(join(results, 'redis.json'), JSON.stringify({ passed: 3, failed: 0 }));
    writeFileSync(join(results, 'browser.json'), JSON.stringify({ skipped: 'no Chromium at /usr/bin/chromium' }));
    const summary = (env: NodeJS.ProcessEnv) => {
      const { status, stdout } = spawnSync('node', ['spec/summary.mjs'], {
        cwd: root,
        env: { ...env, TEST_RESULTS_DIR: results },
        encoding: 'utf8',
      });
      return { status, stdout };
    };
    const stdout = 'total: 10 passed, 0 failed; browser did not run (no Chromium at /usr/bin/chromium)\n';
    expect(summary(outside)).to.deep.equal({ status: 0, stdout });
    expect(summary(underCI)).to.deep.equal({ status: 1, stdout });
  });
});
