import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

describe('Every primitive: what its first object keeps alive (child process)', () => {
  it('the first object made of each class, once dropped, is collected with its buffer (setting up the prototype keeps none of it)', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/first-collected.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], {
      timeout: 60_000,
    });
    expect(stdout.split('\n').filter(Boolean), 'classes whose first object is still alive').to.deep.equal([]);
  });
});
