import { queueDashboard } from '@queue/dashboard/express';
import {
  answers,
  type DemoTasks,
  demoTasks,
  geocodeInBackground,
  insertUser,
  migrateDemo,
  parseSignup,
  type Signup,
} from '@queue/demo-kit';
import { createQueue, type ExpressQueue, transaction } from '@queue/express';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import pg from 'pg';

// Types req.queue.enqueue with the demo's tasks and their payloads, everywhere in the app.
declare module '@queue/express' {
  interface Register {
    tasks: DemoTasks;
  }
}

export interface DemoAppOptions {
  databaseUrl: string;
  /** Chance that a CRM sync attempt fails, to show retries (0..1). */
  crmFailureRate?: number;
  /**
   * HTTP Basic credentials for the queue dashboard at /admin/queue. Without them the dashboard
   * is still mounted, closed: it answers 401 to every request.
   */
  dashboard?: { username: string; password: string };
  /** Runs after the app has shut down (server, worker and pool), e.g. to stop an embedded Postgres. */
  onClose?: () => unknown;
}

/** Where the queue dashboard is served. */
export const DASHBOARD_PATH = '/admin/queue';

export interface DemoApp {
  /** Listen with app.listen(port): the queue's worker follows that server. */
  app: Express;
  jobs: ExpressQueue<DemoTasks>;
  /** Closes the server, the worker (running jobs finish) and the pool, then runs onClose. */
  close(): Promise<void>;
}

/**
 * The signup API: builds the app, creates its own tables, and wires the queue to the server.
 * The queue's tables are created when the server listens (`migrate`, on by default), before
 * the worker starts; `jobs.ready()` resolves once both are done.
 */
export async function createApp(options: DemoAppOptions): Promise<DemoApp> {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 10,
    application_name: 'demo-express',
  });
  pool.on('error', (error) => console.warn(`an idle database connection failed: ${error.message}`));

  const app = express();
  app.disable('x-powered-by');
  // First, so every route below has req.queue. When app.listen is listening, the queue's
  // tables are migrated and the worker starts; it stops, with its running jobs finished, when
  // the server closes or on SIGTERM (handleSignals, on by default).
  const jobs = createQueue(app, {
    pool,
    tasks: demoTasks(pool, { crmFailureRate: options.crmFailureRate }),
    worker: { concurrency: 4 },
    onClose: async () => {
      await pool.end();
      await options.onClose?.();
    },
  });
  try {
    // The queue's migrate() waits for a Postgres that is down or restarting (startupTimeout),
    // as a replacement instance during a deploy needs; the demo's own tables come after it.
    await jobs.queue.migrate();
    await migrateDemo(pool);
  } catch (error) {
    await jobs.close();
    throw error;
  }

  // The queue dashboard: an Express router, closed unless credentials are given. It reads
  // its own bodies and checks a CSRF token on every action.
  app.use(
    DASHBOARD_PATH,
    queueDashboard({
      queue: jobs.queue,
      ...(options.dashboard ? { basicAuth: options.dashboard } : {}),
      title: 'demo-express',
    }),
  );
  app.use(express.json());
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  // Validation first, so a bad request never takes a database connection.
  // transaction(pool, handler): the handler runs in the request's transaction, as req.tx.
  app.post(
    '/signup',
    validateSignup,
    transaction(pool, async (req, res) => {
      const signup = res.locals.signup as Signup;
      const user = await insertUser(req.tx, signup);
      if (!user) {
        // 409 is an error status: transaction() rolls back, so nothing of this request is kept.
        const { status, body } = answers.duplicate();
        res.status(status).json(body);
        return;
      }
      // Guaranteed work, as jobs in the signup's own transaction: they exist if and only if the
      // user does, and they run even if this process dies right after answering.
      await req.queue.enqueueMany(
        [
          { task: 'sendWelcomeEmail', payload: { userId: user.id } },
          { task: 'syncCrm', payload: { userId: user.id } },
        ],
        { client: req.tx },
      );
      // Best-effort work, as a plain promise: quick, optional and cheap to lose (no map pin if
      // the process dies first). It starts once the answer is sent, so after the COMMIT, when
      // the user row is visible to other connections.
      res.once('finish', () => {
        if (res.statusCode === 201) geocodeInBackground(pool, user.id, signup.email);
      });
      const { status, body } = answers.created(user.id);
      res.status(status).json(body);
    }),
  );
  app.use(handleErrors);

  return { app, jobs, close: () => jobs.close() };
}

const validateSignup: RequestHandler = (req, res, next) => {
  const check = parseSignup(req.body);
  if (!check.ok) {
    const { status, body } = answers.invalid(check);
    res.status(status).json(body);
    return;
  }
  res.locals.signup = check.value;
  next();
};

const handleErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  // express.json() marks a malformed body as the client's fault.
  if (error?.type === 'entity.parse.failed') {
    res.status(400).json({ error: 'invalid_json', message: 'the body must be valid JSON' });
    return;
  }
  console.error('request failed:', error);
  res.status(500).json({ error: 'internal', message: 'something went wrong; nothing was saved' });
};
