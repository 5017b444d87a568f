import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

const input = 'lib/index.ts';
const DISPOSABLE = '/// <reference lib="esnext.disposable" />';

export default [
  {
    input,
    output: [
      { file: 'dist/index.js', format: 'es', sourcemap: true },
      { file: 'dist/index.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
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
  {
    input,
    // Guard extends Disposable: the declarations bring in the lib that declares it (rollup-plugin-dts drops
    // the source's own reference), so users need no `lib` setting to compile against them.
    output: [
      { file: 'dist/index.d.ts', format: 'es', banner: DISPOSABLE },
      { file: 'dist/index.d.cts', format: 'es', banner: DISPOSABLE },
    ],
    plugins: [dts({ tsconfig: './tsconfig.json' })],
  },
];
