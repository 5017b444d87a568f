/**
 * Guards: `using` as the project's TypeScript compiles it for Node 20, `Symbol.dispose` called by hand,
 * and a guard that releases exactly once. The lock contract of `lock()` is in lock-suite.ts.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import ts from 'typescript';
import { Lock, Semaphore } from '../lib/index.js';
import { disposeKey } from '../lib/guard.js';
import type * as Fixture from './fixtures/using.js';

/** Compiles spec/fixtures/using.ts as `tsc` does with the project's tsconfig, and imports the result. */
async function compiledFixture(): Promise<{ module: typeof Fixture; js: string }> {
  const config = ts.readConfigFile(new URL('../tsconfig.json', import.meta.url).pathname, ts.sys.readFile);
  const { options } = ts.convertCompilerOptionsFromJson(config.config.compilerOptions, '.');
  const source = readFileSync(new URL('./fixtures/using.ts', import.meta.url), 'utf8');
  const { outputText: js } = ts.transpileModule(source, {
    compilerOptions: { ...options, module: ts.ModuleKind.ESNext, noEmit: false },
  });
  const dir = mkdtempSync(join(tmpdir(), 'awaitable-event-using-'));
  try {
    const file = join(dir, 'using.mjs');
    writeFileSync(file, js);
    return { module: (await import(pathToFileURL(file).href)) as typeof Fixture, js };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Guard', () => {
  it('Guard: `using`, compiled by the project’s TypeScript for its target, releases the lock at the end of the block on Node 20', async () => {
    const { module, js } = await compiledFixture();
    expect(js, 'lowered: Node 20 cannot parse `using`').not.to.match(/^\s*using /m);
    const lock = new Lock();
    let heldInside = false;
    await module.hold(
      () => lock.lock(),
      () => (heldInside = lock.locked()),
    );
    expect(heldInside).to.equal(true);
    expect(lock.locked()).to.equal(false);

    const pool = new Semaphore(2);
    const boom = new Error('boom');
    let caught: unknown;
    await module.holdAndThrow(() => pool.lock(), boom).catch((e: unknown) => (caught = e));
    expect(caught).to.equal(boom);
    expect(pool.value).to.equal(2);
  });

  it('Guard: calling guard[Symbol.dispose]() by hand, as plain JavaScript does, releases once', async () => {
    const lock = new Lock();
    const guard = await lock.lock();
    const dispose = (guard as unknown as Record<symbol, () => void>)[Symbol.dispose]!;
    expect(dispose).to.be.a('function');
    dispose.call(guard);
    expect(lock.locked()).to.equal(false);
    await lock.acquire();
    dispose.call(guard);
    guard.release();
    expect(lock.locked(), 'a spent guard leaves the next holder alone').to.equal(true);
  });

  it('Guard: the dispose key is Symbol.dispose, or Symbol.for("Symbol.dispose") where the host has none', () => {
    expect(disposeKey(Symbol)).to.equal(Symbol.dispose);
    expect(disposeKey({})).to.equal(Symbol.for('Symbol.dispose'));
  });

  it('Guard shows whether it was released in util.inspect and Object.prototype.toString', async () => {
    const guard = await new Lock().lock();
    expect(inspect(guard)).to.equal('Guard { released: false }');
    expect(Object.prototype.toString.call(guard)).to.equal('[object Guard]');
    guard.release();
    expect(inspect(guard)).to.equal('Guard { released: true }');
  });

  it('Guard: a release that throws still spends the guard', async () => {
    const lock = new Lock();
    const guard = await lock.lock();
    lock.release(); // released behind the guard's back
    expect(() => guard.release()).to.throw(Error, /not held/);
    expect(() => guard.release()).not.to.throw();
  });
});
