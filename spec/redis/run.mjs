// `npm run test:redis`: the redis suite (spec/redis/**/*.spec.ts) against real redis-servers it starts
// itself. Where redis-server is not installed it prints one line saying so, why, and how to enable it,
// records the same in .tmp/results/redis.json, and exits 0; under CI (the CI variable set) that is a failure.
// Arguments go to mocha (`npm run test:redis -- --grep churn`).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const server = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const cli = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const inCI = !['', '0', 'false'].includes(process.env.CI ?? '');

const absent = [server, cli].filter((path) => !existsSync(path));
if (absent.length > 0) {
  const why = `${absent.join(' and ')} not found`;
  mkdirSync(resolve(root, '.tmp/results'), { recursive: true });
  writeFileSync(resolve(root, '.tmp/results/redis.json'), JSON.stringify({ skipped: why }));
  const ci = inCI ? ' (a failure under CI, where every suite must run)' : '';
  console.log(`redis: did not run: ${why}; to run it, apt-get install redis-server${ci}`);
  process.exit(inCI ? 1 : 0);
}

const mocha = resolve(root, 'node_modules/mocha/bin/mocha.js');
const child = spawn(process.execPath, [mocha, '--config', 'spec/redis/.mocharc.json', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
