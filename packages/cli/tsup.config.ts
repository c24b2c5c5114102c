import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The programmatic entry (`run(argv)`), for embedding the commands in other tools.
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    external: ['@queue/core', '@queue/dashboard'],
  },
  {
    // The `queue` executable.
    entry: ['src/cli.ts'],
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    external: ['@queue/core', '@queue/dashboard'],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
