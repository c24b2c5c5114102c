import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'testing',
    include: ['test/**/*.test.ts'],
    // Projects do not inherit the root config's timeouts. Workers and Postgres on a shared
    // 2-core machine need room above the 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Type tests (test/types/*.test-d.ts) are compiled by tsc over test/types/tsconfig.json,
    // within `vitest run`; a type error or an unmet @ts-expect-error fails the test it is in.
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: 'test/types/tsconfig.json',
    },
  },
});
