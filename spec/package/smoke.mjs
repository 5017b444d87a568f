// Packs the library, installs the tarball into a scratch folder and uses it as a user would: through
// `import` and `require`, type-checked under both conditions; then checks the tarball with publint and
// arethetypeswrong. Run by `npm test` after `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

const scratch = mkdtempSync(join(tmpdir(), 'awaitable-event-smoke-'));
try {
  const [{ filename }] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], root));
  const tarball = join(scratch, filename);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'smoke', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], scratch);

  const body = (what) => `
const names = Object.keys(${what}).sort().join(',');
const e = new ${what}.Event();
const later = e.wait(1000);
e.set();
const lock = new ${what}.Lock();
const disposed = lock.lock().then((guard) => {
  guard[Symbol.dispose]();
  if (lock.locked()) throw new Error('guard[Symbol.dispose]() did not release the lock');
});
Promise.all([later, e.wait(), disposed]).then(([a, b]) => {
  if (a !== true || b !== true) throw new Error('wait() did not resolve true');
  console.log('ok', names);
});
`;
  writeFileSync(join(scratch, 'esm.mjs'), `import * as lib from 'awaitable-event';\n${body('lib')}`);
  writeFileSync(join(scratch, 'cjs.cjs'), `const lib = require('awaitable-event');\n${body('lib')}`);
  const esm = run('node', ['esm.mjs'], scratch).trim();
  const cjs = run('node', ['cjs.cjs'], scratch).trim();
  if (esm !== cjs) throw new Error(`import and require disagree: ${esm} / ${cjs}`);
  console.log(`import and require: ${esm}`);

  const typed = `
const e = new Event();
const plain: Promise<true> = e.wait();
const timed: Promise<boolean> = e.wait(5);
// @ts-expect-error wait(5) may resolve false
const wrong: Promise<true> = e.wait(5);
async function held(pool: Semaphore): Promise<number> {
  using _guard = await pool.lock(100);
  return pool.value;
}
export { plain, timed, wrong, held };
`;
  writeFileSync(join(scratch, 'typed.mts'), `import { Event, Semaphore } from 'awaitable-event';\n${typed}`);
  writeFileSync(
    join(scratch, 'typed.cts'),
    `import lib = require('awaitable-event');\nconst { Event } = lib;\ntype Semaphore = lib.Semaphore;\n${typed}`,
  );
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', lib: ['es2024', 'dom'], types: [] },
      files: ['typed.mts', 'typed.cts'],
    }),
  );
  run(bin('tsc'), ['-p', scratch], scratch);
  console.log('types: checked under import and require');

  process.stdout.write(run(bin('publint'), ['run', '--strict'], root));
  process.stdout.write(run(bin('attw'), [tarball, '--format', 'table-flipped'], root));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
