// `npm run test:redis`: the redis suite (spec/redis/**/*.spec.ts) against real redis-servers it starts
// itself. Where redis-server is not installed it says so, as every suite that cannot run does (spec/skip.mjs).
// Arguments go to mocha (`npm run test:redis -- --grep churn`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { skip } from '../skip.mjs';

const root = resolve(import.meta.dirname, '../..');
const server = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const cli = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';

const absent = [server, cli].filter((path) => !existsSync(path));
if (absent.length > 0) skip('redis', `${absent.join(' and ')} not installed`, 'apt-get install redis-server');

const mocha = resolve(root, 'node_modules/mocha/bin/mocha.js');
const child = spawn(process.execPath, [mocha, '--config', 'spec/redis/.mocharc.json', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
