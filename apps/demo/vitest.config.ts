import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'demo',
    include: ['test/**/*.test.ts'],
    // Each test runs the built demo as a real process: two app processes, a kill, a burst.
    // On a shared 2-core machine one run takes 10-30 s.
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
