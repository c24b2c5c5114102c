import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The server side: the framework-neutral core and one entry per mount, so that
    // `@queue/dashboard/express` is the only file that imports express, and so on.
    entry: {
      index: 'src/index.ts',
      express: 'src/mounts/express.ts',
      fastify: 'src/mounts/fastify.ts',
      nest: 'src/mounts/nest.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    // import.meta.url locates dist/assets in the CommonJS build too.
    shims: true,
    external: ['@queue/core', 'express', 'fastify', 'fastify-plugin', '@nestjs/common', '@nestjs/core'],
  },
  {
    // The browser side: one script and the static files beside it, served from dist/assets.
    entry: { app: 'src/client/main.ts' },
    outDir: 'dist/assets',
    format: ['iife'],
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    dts: false,
    clean: false,
    publicDir: 'src/client/public',
    outExtension: () => ({ js: '.js' }),
  },
]);
