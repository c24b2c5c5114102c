// Issue 10, item 1, as it was found: a real server process whose route is inside
// transaction() when its session is terminated. Before the fix the process died of an
// unhandled 'error' event (57P01) and exited with code 1.
import { fileURLToPath } from 'node:url';
import { runLostSessionSuite } from '@queue/test-utils';
import { expect } from 'vitest';

runLostSessionSuite({
  framework: 'Express',
  fixture: fileURLToPath(new URL('./fixtures/lost-session-app.ts', import.meta.url)),
  cwd: fileURLToPath(new URL('../../..', import.meta.url)),
  // The app's error handler sends the pg error's code and message (next(err)).
  errorBody: { code: '57P01', message: expect.stringMatching(/terminating connection/) },
});
