import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // vitest.*.config.ts: a package's second project (fastify's untyped type tests).
    projects: ['packages/*/vitest.config.ts', 'packages/*/vitest.*.config.ts', 'apps/*/vitest.config.ts'],
    globalSetup: ['./packages/test-utils/src/global-setup.ts'],
    // In CI a JSON report lets .ci/run print one plain "N passed, N failed" line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]]
      : ['default'],
  },
});
