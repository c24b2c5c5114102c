import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'demo-fastify',
    include: ['test/**/*.test.ts'],
  },
});
