import { expect } from 'chai';
import { Condition, Queue } from '../lib/index.js';
import { Collected, collectGarbage } from './helpers.js';
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

describe('Every primitive: what a settled wait keeps alive', () => {
  it('Queue.get() with a timeout or a signal keeps no reference to the item it returned', async () => {
    for (const options of [60_000, { signal: new AbortController().signal }, { timeout: 60_000 }]) {
      const queue = new Queue<object>();
      const collected = new Collected();
      await (async () => {
        const got = queue.get(options);
        const item = { payload: new Array(1_000).fill(0) };
        collected.add(item);
        queue.tryPut(item);
        expect(await got).to.equal(item);
      })();
      await collectGarbage(() => collected.count === 1);
      expect(collected.count, `the item got with ${JSON.stringify(options)}`).to.equal(1);
    }
  });

  it('Condition.waitFor() with a timeout keeps no reference to the value its predicate returned', async () => {
    const cond = new Condition();
    const items: object[] = [];
    const collected = new Collected();
    await cond.acquire();
    await (async () => {
      const taken = cond.waitFor(() => items.shift(), 60_000);
      await cond.acquire();
      const item = { payload: new Array(1_000).fill(0) };
      collected.add(item);
      items.push(item);
      cond.notify();
      cond.release();
      expect(await taken).to.equal(item);
    })();
    cond.release();
    await collectGarbage(() => collected.count === 1);
    expect(collected.count).to.equal(1);
  });
});
