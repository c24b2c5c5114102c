import { randomBytes } from 'node:crypto';
import { startPostgres } from '@queue/dev-postgres';
import { createApp, DASHBOARD_PATH } from './app.js';

// The queue dashboard is never open to all: HTTP Basic auth with QUEUE_DASHBOARD_USER and
// QUEUE_DASHBOARD_PASSWORD, or, when no password is set, a random one made now and printed
// below. Printing a password is fine for a demo on your machine, not for a real deployment.
const generatedPassword = !process.env.QUEUE_DASHBOARD_PASSWORD;
const dashboard = {
  username: process.env.QUEUE_DASHBOARD_USER || 'admin',
  password: process.env.QUEUE_DASHBOARD_PASSWORD || randomBytes(18).toString('base64url'),
};

// DATABASE_URL when set; otherwise an embedded Postgres. On SIGTERM/SIGINT it stops last,
// after the app (its part in @queue/core's shutdown, which the queue plugin's handleSignals
// starts): requests stop, running jobs finish, the queue closes, then the database stops.
const postgres = await startPostgres();
if (postgres.embedded) console.log(`embedded Postgres at ${postgres.url}`);

const app = await createApp({
  databaseUrl: postgres.url,
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  dashboard,
}).catch(async (error) => {
  await postgres.stop();
  throw error;
});

try {
  const url = await app.listen({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`demo-fastify serving on ${url}; try:
  curl -i -X POST ${url}/signup -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada"}'`);
  console.log(`queue dashboard: ${url}${DASHBOARD_PATH}/`);
  console.log(
    generatedPassword
      ? `  user ${dashboard.username}, password ${dashboard.password} (made for this run; set QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD to choose them)`
      : `  user ${dashboard.username}, password from QUEUE_DASHBOARD_PASSWORD`,
  );
} catch (error) {
  app.log.error({ err: error }, 'could not start');
  await app.close();
  await postgres.stop();
  process.exitCode = 1;
}
