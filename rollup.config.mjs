import typescript from '@rollup/plugin-typescript';
import { parse } from 'acorn';
import { rmSync } from 'node:fs';
import { dts } from 'rollup-plugin-dts';

// dist holds what this build makes, nothing older (a file of an earlier layout would be packed with it).
rmSync('dist', { recursive: true, force: true });

// Two entries: the core (no dependencies at all) and `awaitable-event/redis`. What both use (the waiter
// queue, TimeoutError...) goes into one shared chunk, once in the package, and an error thrown by one is an
// instance of the class the other exports.
const input = { index: 'lib/index.ts', redis: 'lib/redis/index.ts' };
/**
 * The JavaScript ships without comments (the TSDoc is in the declaration files, which editors show) and
 * without source maps, indented two spaces a level: unminified, a stack trace into it reads as the
 * TypeScript does. Every comment acorn
 * finds goes, with the line it stood alone on, except the `#__PURE__` annotations bundlers tree-shake by
 * (tsc's removeComments would drop those too).
 */
const ANNOTATION = /^\s*[#@]__(PURE|NO_SIDE_EFFECTS)__\s*$/;
const withoutComments = {
  name: 'without-comments',
  renderChunk(code, _chunk, { format }) {
    const comments = [];
    parse(code, { ecmaVersion: 'latest', sourceType: format === 'es' ? 'module' : 'script', onComment: comments });
    let out = '';
    let at = 0;
    for (const { value, start, end } of comments) {
      if (ANNOTATION.test(value)) continue;
      let from = start;
      let to = end;
      while (from > at && (code[from - 1] === ' ' || code[from - 1] === '\t')) from--;
      while (to < code.length && (code[to] === ' ' || code[to] === '\t')) to++;
      const lineEnd = to === code.length || code[to] === '\n';
      if (!lineEnd)
        from = start; // code follows on the line: keep the spacing before the comment
      else if (from === 0 || code[from - 1] === '\n') to++; // alone on its line: the line goes
      out += code.slice(at, from);
      at = Math.min(to, code.length);
    }
    // Two spaces a level, not tsc's four: the same lines, read the same, 2 kB less in the tarball.
    const code2 = (out + code.slice(at)).replace(/^(?: {4})+/gm, (indent) => ' '.repeat(indent.length / 2));
    return { code: code2, map: null };
  },
};
const DISPOSABLE = '/// <reference lib="esnext.disposable" />';
const external = (id) => id.startsWith('node:');

export default [
  {
    input,
    external,
    output: [
      {
        dir: 'dist',
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: 'shared.js',
        plugins: [withoutComments],
      },
    ],
    plugins: [
      typescript({
        tsconfig: './tsconfig.json',
        include: ['lib/**/*.ts'],
        compilerOptions: {
          noEmit: false,
          module: 'esnext',
          moduleResolution: 'bundler',
        },
      }),
    ],
  },
  // The declarations, with their TSDoc. Guard extends Disposable: each brings in the lib that declares it
  // (rollup-plugin-dts drops the source's own reference), so users need no `lib` setting to compile against them.
  ...Object.entries(input).map(([name, file]) => ({
    input: file,
    external,
    output: { file: `dist/${name}.d.ts`, format: 'es', banner: DISPOSABLE },
    plugins: [dts({ tsconfig: './tsconfig.json' })],
  })),
];
