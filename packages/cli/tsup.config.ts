import { defineConfig } from 'tsup';
import { library } from '../../tsup.base.js';

export default defineConfig([
  {
    // The programmatic entry (`run(argv)`), for embedding the commands in other tools.
    ...library,
    entry: ['src/index.ts'],
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
