import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'fastify',
    include: ['test/**/*.test.ts'],
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
