// `npm test`: runs every suite in turn and prints one line for each that passes; a suite that fails prints
// all it wrote. Every suite runs, even after a failure; the last line adds up the tests counted in
// .tmp/results (spec/summary.mjs) and the exit code is 1 if anything failed.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';

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

function run(cmd, args) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => done({ code, output }));
  });
}

rmSync(resolve(root, '.tmp/results'), { recursive: true, force: true });
let failed = 0;
for (const [name, cmd, args] of steps) {
  const start = performance.now();
  const { code, output } = await run(cmd, args);
  const seconds = `${((performance.now() - start) / 1000).toFixed(1)} s`;
  if (code === 0) {
    // A suite that counts its tests ends with "<name>: N passed, N failed ..."; the others say nothing.
    const last = output.trim().split('\n').at(-1) ?? '';
    console.log(/^[\w ]+: /.test(last) ? last : `${name}: ok (${seconds})`);
  } else {
    failed++;
    console.log(`${name}: FAILED (exit code ${code}, ${seconds})\n${output.replace(/^/gm, '  ')}`);
  }
}
const summary = await run('node', ['spec/summary.mjs']);
process.stdout.write(summary.output);
process.exit(failed === 0 && summary.code === 0 ? 0 : 1);
