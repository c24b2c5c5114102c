import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startPostgres } from '@queue/dev-postgres';
import { createApp, DASHBOARD_PATH } from './app.js';

const port = Number(process.env.PORT ?? 3000);

// The queue dashboard is never open to all: HTTP Basic auth with QUEUE_DASHBOARD_USER and
// QUEUE_DASHBOARD_PASSWORD, or, when no password is set, a random one made now and printed
// below. Printing a password is fine for a demo on your machine, not for a real deployment.
const generatedPassword = !process.env.QUEUE_DASHBOARD_PASSWORD;
const dashboard = {
  username: process.env.QUEUE_DASHBOARD_USER || 'admin',
  password: process.env.QUEUE_DASHBOARD_PASSWORD || randomBytes(18).toString('base64url'),
};

// DATABASE_URL when set; otherwise a throwaway embedded Postgres, stopped when the app closes.
const postgres = await startPostgres();
let demo: Awaited<ReturnType<typeof createApp>>;
try {
  demo = await createApp({ databaseUrl: postgres.url, dashboard, onClose: () => postgres.stop() });
} catch (error) {
  await postgres.stop();
  throw error;
}

// What the worker does, so a person trying the demo sees the jobs run (and the CRM retries).
const worker = demo.jobs.worker;
worker?.on('completed', ({ job, durationMs }) => {
  console.log(`job ${job.id} ${job.task} done in ${Math.round(durationMs)} ms`);
});
worker?.on('retried', ({ job, error, delayMs }) => {
  console.log(`job ${job.id} ${job.task} failed: ${(error as Error).message}; next try in ${delayMs} ms`);
});
worker?.on('failed', ({ job, error }) => {
  console.log(`job ${job.id} ${job.task} failed for good: ${(error as Error).message}`);
});

// SIGTERM/SIGINT (Ctrl-C) close the server, let running requests and jobs finish, end the pool
// and stop the embedded Postgres (the adapter's handleSignals, then onClose); a second
// Ctrl-C stops waiting for running jobs.
const server = demo.app.listen(port, async (error?: Error) => {
  if (error) {
    console.error(`cannot listen on port ${port}: ${error.message}`);
    process.exitCode = 1;
    void demo.close();
    return;
  }
  // Migrated and the worker running: only then say the demo is up.
  try {
    await demo.jobs.ready();
  } catch (error) {
    console.error(`the queue could not start: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  console.log(`demo-express listening on ${url}`);
  console.log(`queue dashboard: ${url}${DASHBOARD_PATH}/`);
  console.log(
    generatedPassword
      ? `  user ${dashboard.username}, password ${dashboard.password} (made for this run; set QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD to choose them)`
      : `  user ${dashboard.username}, password from QUEUE_DASHBOARD_PASSWORD`,
  );
  console.log(
    postgres.embedded ? `embedded Postgres at ${postgres.url}` : 'using Postgres from DATABASE_URL',
  );
});
