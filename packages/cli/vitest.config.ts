import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cli',
    include: ['test/**/*.test.ts'],
    // Each test spawns the real CLI (a Node process that connects to Postgres).
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
