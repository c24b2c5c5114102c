import { defineProject } from 'vitest/config';

export default defineProject({
  // Transform as tsx runs the app: legacy decorators, no emitted metadata (Vite's Oxc would
  // emit it from tsconfig, hiding a missing @Inject() token that would break `pnpm start`).
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: false } },
  test: {
    name: 'demo-nest',
    include: ['test/**/*.test.ts'],
  },
});
