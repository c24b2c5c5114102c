import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'metrics',
    include: ['test/**/*.test.ts'],
    // Real workers and Postgres on a shared 2-core machine need room above the 5 s default.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
