// Issue 10, item 1, on Nest: a real server process whose route is inside withTransaction when
// its session is terminated. With a bare pool.connect() instead (what this package's README
// showed before), the same process dies of an unhandled 'error' event (57P01), exit code 1.
import { fileURLToPath } from 'node:url';
import { runLostSessionSuite } from '@queue/test-utils';

runLostSessionSuite({
  framework: 'Nest',
  fixture: fileURLToPath(new URL('./fixtures/lost-session-app.ts', import.meta.url)),
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  // Nest's exception filter answers 500 to an error that is not an HttpException.
  errorBody: { statusCode: 500, message: 'Internal server error' },
});
