import { startPostgres } from '@queue/dev-postgres';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);

// DATABASE_URL when set; otherwise a throwaway embedded Postgres, stopped when the app closes.
const postgres = await startPostgres();
let demo: Awaited<ReturnType<typeof createApp>>;
try {
  demo = await createApp({ databaseUrl: postgres.url, onClose: () => postgres.stop() });
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
// and stop the embedded Postgres (the adapter's signal handling, then onClose); a second
// Ctrl-C stops waiting for running jobs.
demo.app.listen(port, (error?: Error) => {
  if (error) {
    console.error(`cannot listen on port ${port}: ${error.message}`);
    process.exitCode = 1;
    void demo.close();
    return;
  }
  console.log(`demo-express listening on http://localhost:${port}`);
  console.log(
    postgres.embedded ? `embedded Postgres at ${postgres.url}` : 'using Postgres from DATABASE_URL',
  );
});
