import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

// Two entries: the core (no dependencies at all) and `awaitable-event/redis`. What both use (the waiter
// queue, TimeoutError...) goes into one shared chunk, so an error thrown by one is an instance of the
// class the other exports.
const input = { index: 'lib/index.ts', redis: 'lib/redis/index.ts' };
const DISPOSABLE = '/// <reference lib="esnext.disposable" />';
const external = (id) => id.startsWith('node:');

export default [
  {
    input,
    external,
    output: [
      { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: 'shared.js' },
      {
        dir: 'dist',
        format: 'cjs',
        sourcemap: true,
        exports: 'named',
        entryFileNames: '[name].cjs',
        chunkFileNames: 'shared.cjs',
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
          sourceMap: true,
          inlineSources: true, // the maps carry the TypeScript: lib/ is not shipped
        },
      }),
    ],
  },
  // Guard extends Disposable: the declarations bring in the lib that declares it (rollup-plugin-dts drops
  // the source's own reference), so users need no `lib` setting to compile against them.
  ...Object.entries(input).map(([name, file]) => ({
    input: file,
    external,
    output: [
      { file: `dist/${name}.d.ts`, format: 'es', banner: DISPOSABLE },
      { file: `dist/${name}.d.cts`, format: 'es', banner: DISPOSABLE },
    ],
    plugins: [dts({ tsconfig: './tsconfig.json' })],
  })),
];
