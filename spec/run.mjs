// `npm test`: runs every suite in turn and prints one line for each that passes; a suite that fails prints
// its command, how it ended (exit code or signal) and all it wrote. A suite that cannot run on this machine
// (spec/skip.mjs: it exits 77) prints one line saying so, why, and how to enable it; under CI that is a
// failure. Every suite runs, even after a failure; the last line adds up the tests counted in .tmp/results
// (spec/summary.mjs) and names the suites that did not run. The exit code is 1 if anything failed.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SKIPPED, inCI } from './skip.mjs';

const root = resolve(import.meta.dirname, '..');
const steps = [
  ['typecheck', 'npm', ['run', '-s', 'typecheck']],
  ['lint', 'npm', ['run', '-s', 'lint']],
  ['unit', 'npm', ['run', '-s', 'test:unit']],
  ['build', 'npm', ['run', '-s', 'build']],
  ['package', 'npm', ['run', '-s', 'test:package']],
  ['redis', 'npm', ['run', '-s', 'test:redis']],
  ['browser', 'node', ['spec/browser/run.mjs']],
  ['docs', 'npm', ['run', '-s', 'docs']],
  ['bench smoke', 'npm', ['run', '-s', 'bench:smoke']],
];

/** Runs a command; resolves with how it ended ({ code, signal }, or { error } when it could not start). */
function run(cmd, args, env) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => done({ error, output }));
    child.on('close', (code, signal) => done({ code, signal, output }));
  });
}

const ended = ({ error, code, signal }) =>
  error !== undefined
    ? `could not start (${error.message})`
    : signal !== null
      ? `was killed by ${signal}`
      : `exited with code ${code}`;

/** Runs `steps` ([name, command, args]) in turn, printing a line or more for each; resolves with how many failed. */
export async function runSteps(steps, { env = process.env, log = console.log } = {}) {
  let failed = 0;
  for (const [name, cmd, args] of steps) {
    const start = performance.now();
    const result = await run(cmd, args, env);
    const seconds = `${((performance.now() - start) / 1000).toFixed(1)} s`;
    const last = result.output.trim().split('\n').at(-1) ?? '';
    if (result.code === 0) {
      // A suite that counts its tests ends with "<name>: N passed, N failed ..."; the others say nothing.
      log(/^[\w ]+: /.test(last) ? last : `${name}: ok (${seconds})`);
    } else if (result.code === SKIPPED && !inCI(env)) {
      log(last);
    } else {
      failed++;
      const why = result.code === SKIPPED ? ', and under CI every suite must run' : '';
      const output = result.output.trimEnd() === '' ? '  (no output)' : result.output.trimEnd().replace(/^/gm, '  ');
      log(`${name}: FAILED: \`${[cmd, ...args].join(' ')}\` ${ended(result)}${why} (${seconds}); its output:`);
      log(output);
    }
  }
  return failed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(resolve(root, '.tmp/results'), { recursive: true, force: true });
  const failed = await runSteps(steps);
  const summary = await run('node', ['spec/summary.mjs']);
  process.stdout.write(summary.output);
  process.exit(failed === 0 && summary.code === 0 ? 0 : 1);
}
