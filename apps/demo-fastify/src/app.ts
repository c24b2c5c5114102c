import fastifyPostgres from '@fastify/postgres';
import { queueDashboard } from '@queue/dashboard/fastify';
import {
  answers,
  type DemoTasks,
  demoTasks,
  geocodeInBackground,
  insertUser,
  migrateDemo,
  parseSignup,
} from '@queue/demo-kit';
import { fastifyQueue, withTransaction } from '@queue/fastify';
import Fastify, { type FastifyServerOptions } from 'fastify';

// Types `app.queue.enqueue` by the demo's tasks: names and payloads are checked.
declare module '@queue/fastify' {
  interface Register {
    tasks: DemoTasks;
  }
}

export interface AppOptions {
  databaseUrl: string;
  /** Chance that a CRM sync attempt fails, to show retries (default: CRM_FAILURE_RATE or 0.2). */
  crmFailureRate?: number;
  logger?: FastifyServerOptions['logger'];
  /**
   * HTTP Basic credentials for the queue dashboard at /admin/queue. Without them the dashboard
   * is still registered, closed: it answers 401 to every request.
   */
  dashboard?: { username: string; password: string };
}

/** Where the queue dashboard is served. */
export const DASHBOARD_PATH = '/admin/queue';

/** The signup API, not yet listening: `main.ts` serves it, the tests boot it on a free port. */
export async function createApp({ databaseUrl, crmFailureRate, logger = false, dashboard }: AppOptions) {
  const app = Fastify({ logger });
  try {
    await app.register(fastifyPostgres, { connectionString: databaseUrl });
    // The queue shares the app's pool. Registered after @fastify/postgres, so it closes
    // first: the worker drains while the pool its handlers use is still open. By default it
    // migrates its tables while it loads, and on SIGTERM/SIGINT closes the app: requests
    // stop, running jobs finish, and a second signal aborts them (handleSignals).
    await app.register(fastifyQueue, (parent) => ({
      pool: parent.pg.pool,
      tasks: demoTasks(parent.pg.pool, { crmFailureRate }),
    }));
    // After the queue's plugin, whose migrate waits for a Postgres that is down or restarting.
    await migrateDemo(app.pg.pool);
    // The queue dashboard: an encapsulated plugin under its prefix, closed unless credentials
    // are given; every action needs the page's CSRF token.
    await app.register(queueDashboard, {
      prefix: DASHBOARD_PATH,
      queue: app.queue,
      ...(dashboard ? { basicAuth: dashboard } : {}),
      title: 'demo-fastify',
      // The open page polls the dashboard's API every 2 s: keep those requests out of the info log.
      logLevel: 'warn',
    });
  } catch (error) {
    await app.close();
    throw error;
  }

  const worker = app.queueWorker!;
  worker.on('completed', ({ job, durationMs }) =>
    app.log.info({ job: job.id, task: job.task, durationMs }, 'job done'),
  );
  worker.on('retried', ({ job, error, delayMs }) =>
    app.log.warn(
      { job: job.id, task: job.task, err: (error as Error).message, delayMs },
      'job failed; will retry',
    ),
  );
  worker.on('failed', ({ job, error }) =>
    app.log.error({ job: job.id, task: job.task, err: error }, 'job failed for good'),
  );

  app.get('/health', async () => {
    await app.pg.query('SELECT 1');
    return { ok: true, runningJobs: worker.activeCount };
  });

  app.post('/signup', async (request, reply) => {
    const check = parseSignup(request.body);
    if (!check.ok) {
      const answer = answers.invalid(check);
      return reply.code(answer.status).send(answer.body);
    }
    // The user and both jobs commit together or not at all: no welcome email for a signup
    // that rolled back, and no committed signup whose email is lost to a crash or deploy.
    // withTransaction (not @fastify/postgres' transact) keeps an 'error' listener on the
    // client, so a Postgres restart mid-request fails this request, not the process.
    const user = await withTransaction(app.pg.pool, async (client) => {
      const user = await insertUser(client, check.value);
      if (!user) return null;
      const payload = { userId: user.id };
      await app.queue.enqueueMany(
        [
          { task: 'sendWelcomeEmail', payload },
          { task: 'syncCrm', payload },
        ],
        { client },
      );
      return user;
    });
    if (!user) {
      const answer = answers.duplicate();
      return reply.code(answer.status).send(answer.body);
    }
    // Best effort, a plain promise: optional and cheap to lose if the process dies now
    // (demo-kit's geocode.ts says when each fits). The jobs above are the guaranteed part.
    geocodeInBackground(app.pg.pool, user.id, check.value.email);
    const answer = answers.created(user.id);
    return reply.code(answer.status).send(answer.body);
  });

  return app;
}
