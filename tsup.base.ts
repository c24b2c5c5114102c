import type { Options } from 'tsup';

/** How every publishable package builds: ESM + CJS with types, for Node 20. */
export const library: Options = {
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
};
