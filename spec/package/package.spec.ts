/**
 * The package as a user gets it (see packed.ts): used through `import` and `require` (one ESM build, which
 * Node's `require()` loads from 20.19 and 22.12), type-checked under both, checked by publint and
 * arethetypeswrong, bundled by esbuild, rollup and vite.
 */
import { expect } from 'chai';
import { build, transform } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rollup } from 'rollup';
import { build as vite } from 'vite';
import { packed, run } from './packed.js';

const root = resolve(import.meta.dirname, '../..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

/**
 * The oldest browsers whose engines run dist as shipped: class static blocks (Chrome 91, Edge 94,
 * Firefox 93, Safari 16.4 in esbuild's tables) and `AbortSignal.reason` (Chrome and Edge 98, Firefox 97,
 * Safari 15.4). README's Install section states the same.
 */
const TARGETS = { chrome: '98', edge: '98', firefox: '97', safari: '16.4', node: '20.19' };

/** At most this many bytes of gzip for a minified bundle of `import { Event }`: 2.5 KiB. */
const EVENT_BUDGET = 2_560;

/** At most this many bytes for the whole tarball, as `npm pack` makes it (every entry point, README included). */
const PACKED_BUDGET = 80_000;

describe('the packed package', () => {
  let app: string;
  let pkg: string;
  let files: string[];
  let tarball: string;

  before(async function () {
    this.timeout(300_000);
    ({ app, pkg, files, tarball } = await packed());
  });

  it('the tarball of a fresh clone ships the build and the declarations of both entries, once', () => {
    for (const entry of ['index', 'redis']) {
      expect(files).to.include.members(['.js', '.d.ts'].map((ext) => `dist/${entry}${ext}`));
    }
    expect(files).to.include('dist/shared.js'); // what both entries use
    expect(
      files.filter((f) => /\.c[jt]s$/.test(f)),
      'no second (CommonJS) copy',
    ).to.deep.equal([]);
    expect(files).to.include('redis/package.json'); // awaitable-event/redis where exports are not read (node10)
    expect(files.filter((f) => f.startsWith('lib/') || f.startsWith('spec/'))).to.deep.equal([]);
  });

  it(`the tarball is at most ${PACKED_BUDGET / 1000} kB, every file in it counted`, () => {
    const size = statSync(tarball).size;
    expect(size <= PACKED_BUDGET ? 'within budget' : `${size} B`).to.equal('within budget');
  });

  it('a stack trace through the package points at the line that threw, readable as written: no map needed', () => {
    expect(files.filter((f) => f.endsWith('.map'))).to.deep.equal([]);
    writeFileSync(
      join(app, 'trace.mjs'),
      "import { Semaphore } from 'awaitable-event';\ntry { new Semaphore(-1); } catch (e) { console.log(e.stack); }\n",
    );
    const frame = /\/(dist\/\w+\.js):(\d+):\d+\)/.exec(run('node', ['trace.mjs'], app));
    const line =
      readFileSync(join(pkg, frame?.[1] ?? 'dist/index.js'), 'utf8').split('\n')[Number(frame?.[2]) - 1] ?? '';
    expect(line.trim()).to.match(/^throw new .*Error\b.{0,200}$/);
  });

  it('the declarations keep the TSDoc, examples included (editors show it); the JavaScript keeps no comment but #__PURE__', () => {
    const declarations = readFileSync(join(pkg, 'dist/index.d.ts'), 'utf8');
    expect(declarations).to.include('An event for one thread');
    expect(declarations.match(/@example/g)).to.have.length.above(20);
    // Event's set and clear: methods, bound to their object (the API site lists them as methods, and they can be
    // passed as callbacks). SharedEvent's: getters giving a bound function, so that an event has no own function
    // property and posts as it is.
    expect(declarations.match(/^ {4}(set|clear)\(this: void\): void;$/gm)).to.have.length(2);
    expect(declarations.match(/^ {4}get (set|clear)\(\): \(this: void\) => void;$/gm)).to.have.length(2);
    for (const file of files.filter((f) => /^dist\/.*\.c?js$/.test(f))) {
      const comments = readFileSync(join(pkg, file), 'utf8').match(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm) ?? [];
      expect(
        comments.filter((c) => !/^\/\*[#@]__PURE__\*\/$/.test(c)),
        file,
      ).to.deep.equal([]);
    }
  });

  it('import and require give the same exports, from the same module; an Event, and a guard disposed by hand, work through both', () => {
    const body = (load: string) => `${load}
const e = new lib.Event();
const later = e.wait(1000);
e.set();
const lock = new lib.Lock();
const disposed = lock.lock().then((guard) => {
  guard[Symbol.dispose]();
  if (lock.locked()) throw new Error('guard[Symbol.dispose]() did not release the lock');
});
Promise.all([later, e.wait(), disposed]).then(([a, b]) => {
  if (a !== true || b !== true) throw new Error('wait() did not resolve true');
  console.log(Object.keys(lib).sort().join(','));
});
`;
    writeFileSync(join(app, 'esm.mjs'), body("import * as lib from 'awaitable-event';"));
    writeFileSync(join(app, 'cjs.cjs'), body("const lib = require('awaitable-event');"));
    const esm = run('node', ['esm.mjs'], app).trim();
    expect(esm).to.include('Event');
    expect(run('node', ['cjs.cjs'], app).trim()).to.equal(esm);
    writeFileSync(
      join(app, 'same.mjs'),
      "import { createRequire } from 'node:module';\nimport { Event } from 'awaitable-event';\n" +
        "console.log(createRequire(import.meta.url)('awaitable-event').Event === Event);\n",
    );
    expect(run('node', ['same.mjs'], app).trim()).to.equal('true');
  });

  it('a Condition imported waits and notifies on a Lock required', () => {
    writeFileSync(
      join(app, 'dual.mjs'),
      `import { createRequire } from 'node:module';
import { Condition } from 'awaitable-event';
const { Lock } = createRequire(import.meta.url)('awaitable-event');
const cond = new Condition(new Lock());
await cond.acquire();
const plain = cond.wait();
await cond.acquire();
const timed = cond.wait(60_000);
await cond.acquire();
cond.notifyAll();
cond.release();
const first = await plain;
cond.release();
const second = await timed;
cond.release();
console.log(first, second, cond.locked());
`,
    );
    expect(run('node', ['dual.mjs'], app).trim()).to.equal('true true false');
  });

  it('the declarations type-check under import and require, `using` a guard included, with no lib setting', () => {
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
    writeFileSync(join(app, 'typed.mts'), `import { Event, Semaphore } from 'awaitable-event';\n${typed}`);
    writeFileSync(
      join(app, 'typed.cts'),
      `import lib = require('awaitable-event');\nconst { Event } = lib;\ntype Semaphore = lib.Semaphore;\n${typed}`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'nodenext', lib: ['es2024', 'dom'], types: [] },
        files: ['typed.mts', 'typed.cts'],
      }),
    );
    run(bin('tsc'), ['-p', app], app);
  });

  it('publint and arethetypeswrong find nothing wrong', () => {
    run(bin('publint'), ['run', '--strict', tarball], root);
    // require() of the ESM build is what the package means CommonJS users to do (Node 20.19+, 22.12+: the
    // engines field says so, and the test above runs it); arethetypeswrong still counts it as a problem.
    run(bin('attw'), [tarball, '--format', 'table-flipped', '--ignore-rules', 'cjs-resolves-to-esm'], root);
  });

  it(`dist runs unchanged on ${Object.entries(TARGETS)
    .map(([b, v]) => b + v)
    .join(', ')} (as README states)`, async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).to.include(
      `Chrome and Edge ${TARGETS.chrome}, Firefox ${TARGETS.firefox}, Safari ${TARGETS.safari}`,
    );
    const target = Object.entries(TARGETS).map(([b, v]) => b + v);
    for (const file of ['dist/index.js', 'dist/shared.js', 'dist/redis.js']) {
      const code = readFileSync(join(pkg, file), 'utf8');
      // esbuild lowers (or refuses) what a target lacks: unchanged output means nothing was missing.
      const asIs = (await transform(code, { format: 'esm', target: 'esnext' })).code;
      expect((await transform(code, { format: 'esm', target })).code === asIs, file).to.equal(true);
    }
  });

  it('the core entry imports nothing but the chunk it shares with the Redis entry, and has nothing of Redis', () => {
    const imports = (file: string) =>
      readFileSync(join(pkg, file), 'utf8').match(/\bfrom\s+'[^']*'|require\('[^']*'\)/g);
    expect(imports('dist/index.js')).to.deep.equal(["from './shared.js'"]);
    expect(imports('dist/shared.js')).to.equal(null);
    for (const file of ['dist/index.js', 'dist/shared.js']) {
      expect(readFileSync(join(pkg, file), 'utf8'), file).to.not.match(/redis/i);
    }
    const same =
      "import { TimeoutError } from 'awaitable-event';\nimport { RedisLock } from 'awaitable-event/redis';\n";
    writeFileSync(join(app, 'errors.mjs'), same + 'console.log(typeof RedisLock, TimeoutError.name);\n');
    expect(run('node', ['errors.mjs'], app).trim()).to.equal('function TimeoutError');
  });

  describe('tree-shaking', () => {
    const entry = "import { Event } from 'awaitable-event';\nglobalThis.AsyncEvent = Event;\n";
    const bundlers = {
      esbuild: async (input: string, dir: string, minify: boolean) => {
        const out = await build({
          entryPoints: [input],
          absWorkingDir: dir,
          bundle: true,
          format: 'esm',
          minify,
          write: false,
          logLevel: 'silent',
        });
        return out.outputFiles[0]!.text;
      },
      rollup: async (input: string, _dir: string, minify: boolean) => {
        const bundle = await rollup({
          input,
          onwarn: () => {},
          plugins: [
            { name: 'package', resolveId: (id) => (id === 'awaitable-event' ? join(pkg, 'dist/index.js') : null) },
          ],
        });
        const { code } = (await bundle.generate({ format: 'es' })).output[0];
        await bundle.close();
        return minify ? (await transform(code, { minify: true, format: 'esm' })).code : code;
      },
      vite: async (input: string, dir: string, minify: boolean) => {
        const out = (await vite({
          root: dir,
          configFile: false,
          logLevel: 'silent',
          build: { write: false, minify, modulePreload: false, rollupOptions: { input } },
        })) as { output: { type: string; code?: string }[] };
        return out.output.find((o) => o.type === 'chunk')!.code!;
      },
    };

    for (const [name, bundle] of Object.entries(bundlers)) {
      it(`${name}: import { Event } bundles to at most 2.5 KiB gzip, without SharedEvent, Lock, Condition or Atomics`, async () => {
        const input = join(app, 'event-entry.js');
        writeFileSync(input, entry);
        const plain = await bundle(input, app, false);
        const size = gzipSync(await bundle(input, app, true)).length;
        const others = plain.match(/\b(SharedEvent|Lock|Condition|Atomics)\b/g) ?? [];
        expect({
          size: size <= EVENT_BUDGET ? 'within budget' : `${size} B gzip`,
          others: [...new Set(others)],
        }).to.deep.equal({
          size: 'within budget',
          others: [],
        });
      });

      it(`${name}: importing dist for its side effects alone bundles to nothing`, async () => {
        // A copy outside the package, so that its "sideEffects": false cannot hide what the code does.
        const bare = join(app, 'bare');
        mkdirSync(bare, { recursive: true });
        cpSync(join(pkg, 'dist'), bare, { recursive: true });
        writeFileSync(join(bare, 'package.json'), '{"type":"module"}');
        const input = join(app, 'bare-entry.js');
        writeFileSync(input, "import './bare/index.js';\n");
        const code = (await bundle(input, app, true)).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').trim();
        const left = code === '' ? 'nothing' : `${code.length} bytes: ${code.slice(0, 120)}…`;
        expect(left).to.equal('nothing');
      });
    }
  });
});
