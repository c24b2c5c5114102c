import { defineProject } from 'vitest/config';

export default defineProject({
  // Transform as tsx runs the app: legacy decorators, no emitted metadata (Vite's Oxc would
  // emit it from tsconfig, hiding a missing @Inject() token that would break `pnpm start`).
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: false } },
  test: {
    name: 'demo-nest',
    include: ['test/**/*.test.ts'],
    // Real Nest apps, child processes and Postgres on a shared 2-core machine: room above the 5 s default.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
