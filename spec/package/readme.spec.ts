/**
 * Every README example (examples/readme, checked word for word against the README by spec/readme.spec.ts)
 * runs to its end against the packed package, as a user's script would: a TypeScript file under tsx, the
 * worker as plain JavaScript.
 */
import { expect } from 'chai';
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packed, run } from './packed.js';

const root = resolve(import.meta.dirname, '../..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/** Each example and the first line it prints. */
const expected = {
  'quickstart.ts': 'false',
  'coming-from.ts': "[ 'rejected', 'rejected' ]",
  'readiness.ts': 'rows for /orders',
  'shutdown.ts': 'stopped after 1 round',
  'abort.ts': 'gave up: Error: shutting down',
  'condition.ts': 'consumed bread',
  'workers.ts': 'the worker has loaded',
};

describe('README examples, run against the packed package', () => {
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    const { app } = await packed();
    dir = join(app, 'readme');
    cpSync(join(root, 'examples/readme'), dir, { recursive: true });
  });

  for (const [file, line] of Object.entries(expected)) {
    it(`${file} runs to its end and prints "${line}"`, () => {
      const out = run(process.execPath, ['--import', tsx, file], dir);
      expect(out.split('\n')[0]).to.equal(line);
    });
  }
});
