import { randomBytes } from 'node:crypto';
import { startPostgres } from '@queue/dev-postgres';
import { createApp } from './app.js';
import { DASHBOARD_PATH } from './app.module.js';

// The queue dashboard is never open to all: HTTP Basic auth with QUEUE_DASHBOARD_USER and
// QUEUE_DASHBOARD_PASSWORD, or, when no password is set, a random one made now and printed
// below. Printing a password is fine for a demo on your machine, not for a real deployment.
const generatedPassword = !process.env.QUEUE_DASHBOARD_PASSWORD;
const dashboard = {
  username: process.env.QUEUE_DASHBOARD_USER || 'admin',
  password: process.env.QUEUE_DASHBOARD_PASSWORD || randomBytes(18).toString('base64url'),
};

// DATABASE_URL when set; otherwise an embedded Postgres, which on SIGTERM/SIGINT stops last,
// in @queue/core's shutdown: after the HTTP server, the worker's running jobs and the queue.
const postgres = await startPostgres();

const app = await createApp({ databaseUrl: postgres.url, dashboard });
// SIGTERM/SIGINT: QueueModule's handleSignals (on by default) stops the HTTP server, lets
// running jobs finish and closes the queue; a second signal aborts the jobs (they run again
// later). The shutdown hooks run the app's own onApplicationShutdown too (the demo's pool).
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000));
const url = await app.getUrl();
console.log(`demo-nest listening on ${url}`);
console.log(`queue dashboard: ${url}/${DASHBOARD_PATH}/`);
console.log(
  generatedPassword
    ? `  user ${dashboard.username}, password ${dashboard.password} (made for this run; set QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD to choose them)`
    : `  user ${dashboard.username}, password from QUEUE_DASHBOARD_PASSWORD`,
);
console.log(`Postgres: ${postgres.embedded ? `embedded, ${postgres.url}` : 'DATABASE_URL'}`);
