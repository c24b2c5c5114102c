import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'fastify',
    include: ['test/**/*.test.ts'],
    // As in the other adapters: real servers and a second app process, which under a loaded CI
    // machine (load average 40 seen) took longer than vitest's 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Type tests with a declared task map (test/types/typed), compiled by tsc within `vitest run`;
    // a type error or an unmet @ts-expect-error fails the test it is in. The untyped ones need a
    // program of their own: vitest.untyped-types.config.ts.
    typecheck: {
      enabled: true,
      include: ['test/types/typed/**/*.test-d.ts'],
      tsconfig: 'test/types/typed/tsconfig.json',
    },
  },
});
