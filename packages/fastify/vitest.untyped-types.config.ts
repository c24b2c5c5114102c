import { defineProject } from 'vitest/config';

/**
 * Fastify's type tests for an app that declares no task map (test/types/untyped). A project of
 * their own because vitest's typecheck compiles one program per project, and the typed tests'
 * Register augmentation (vitest.config.ts) would apply to any program they share.
 */
export default defineProject({
  test: {
    name: 'fastify-untyped-types',
    include: [],
    typecheck: {
      enabled: true,
      only: true,
      include: ['test/types/untyped/**/*.test-d.ts'],
      tsconfig: 'test/types/untyped/tsconfig.json',
    },
  },
});
