// Issue 10, item 1, on Fastify: a real server process whose route is inside withTransaction
// when its session is terminated. With @fastify/postgres' `transact` instead, the same
// process dies of an unhandled 'error' event (57P01) and exits with code 1.
import { fileURLToPath } from 'node:url';
import { runLostSessionSuite } from '@queue/test-utils';
import { expect } from 'vitest';

runLostSessionSuite({
  framework: 'Fastify',
  fixture: fileURLToPath(new URL('./fixtures/lost-session-app.ts', import.meta.url)),
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  // Fastify's error handler sends the pg error's code and message.
  errorBody: { code: '57P01', message: expect.stringMatching(/terminating connection/) },
});
