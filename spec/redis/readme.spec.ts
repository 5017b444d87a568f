// The README's Redis examples (examples/readme/redis-*.ts, checked word for word against README.md and
// docs/redis.md by spec/readme.spec.ts) run to their end against a server of this suite's own.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RedisServer } from './server.js';

/** Each example and the first line it prints (a token is a number: any). */
const expected: Record<string, RegExp> = {
  'redis-fleet.ts': /^migrated, 7 receipts$/,
  'redis-fencing.ts': /^invoice paid with token \d+$/,
};

describe('README examples for awaitable-event/redis', () => {
  let server: RedisServer;
  before(async () => {
    server = await RedisServer.start();
  });
  after(() => server.stop());

  for (const [file, line] of Object.entries(expected)) {
    it(`${file} runs to its end, exits by itself and prints ${String(line)}`, async () => {
      const path = fileURLToPath(new URL(`../../examples/readme/${file}`, import.meta.url));
      const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${server.port}` };
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path], {
        env,
        timeout: 20_000,
      });
      expect(stdout.split('\n')[0]).to.match(line);
    });
  }
});
