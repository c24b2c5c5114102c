import { defineConfig } from 'tsup';

// esbuild compiles the legacy decorators but emits no decorator metadata (tsup says it would
// need @swc/core for that). None is needed: every injection in src names its token.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
