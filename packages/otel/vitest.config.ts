import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'otel',
    include: ['test/**/*.test.ts'],
    // Projects do not inherit the root config's timeouts. Real server and worker processes
    // started through tsx on a shared 2-core machine need room above the 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
