import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'demo-express',
    include: ['test/**/*.test.ts'],
  },
});
