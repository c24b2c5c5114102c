import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'demo-fastify',
    include: ['test/**/*.test.ts'],
    // Projects do not inherit the root config's timeouts. main.test.ts starts the app under tsx
    // in a child process, on a shared 2-core machine: room above the 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
