import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'bench',
    include: ['test/**/*.test.ts'],
    // The smoke run spawns worker processes and runs several workloads one after another.
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
