import { defineProject } from 'vitest/config';

export default defineProject({
  // Transform the tests as the package's build (tsup/esbuild) and tsx do: legacy decorators
  // without emitted metadata. Vite's Oxc would otherwise emit it from tsconfig, and a missing
  // @Inject() token would pass here yet fail in the built package.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: false } },
  test: {
    name: 'nest',
    include: ['test/**/*.test.ts'],
    // Real Nest apps, child processes and Postgres on a shared 2-core machine: room above the 5 s default.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Type tests (test/types/*.test-d.ts) are compiled by tsc over test/types/tsconfig.json,
    // within `vitest run`; a type error or an unmet @ts-expect-error fails the test it is in.
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: 'test/types/tsconfig.json',
    },
  },
});
