// createQueue after the routes: Express runs those routes before the middleware that sets
// req.queue. createQueue refuses an app that already has routes, at startup, and a request
// that still reaches a req.queue read before the middleware gets the same named error.
import { silentLogger } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import type express5 from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueue, type ExpressQueue, QueueAfterRoutesError } from '../src/index.js';
import { expressVersions, listen, postJson, route } from './helpers.js';

const db = useTestDatabase();
const open: ExpressQueue<any>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});

const tasks = { record: async (_p: { value: string }) => {} };
const options = () => ({ connectionString: db.url, tasks, worker: false as const, logger: silentLogger });
const FIX =
  'createQueue(app, …) must run before the routes that use req.queue: call it right after express()';

const errorHandler: express5.ErrorRequestHandler = (error, _req, res, _next) => {
  res.status(500).json({ code: error.code ?? null, message: error.message });
};

for (const [label, express] of expressVersions) {
  describe(`createQueue after the routes, on ${label}`, () => {
    it('throws QueueAfterRoutesError at once, naming the routes and the fix', () => {
      const app = express();
      app.use(express.json());
      app.post('/signup', (_req, res) => {
        res.end();
      });
      app.get('/users/:id', (_req, res) => {
        res.end();
      });
      let thrown: unknown;
      try {
        createQueue(app, options());
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(QueueAfterRoutesError);
      expect(thrown).toMatchObject({ code: 'QUEUE_AFTER_ROUTES' });
      expect((thrown as Error).message).toBe(
        `${FIX} (routes registered before it: POST /signup, GET /users/:id)`,
      );
      // Nothing was claimed: the same call fails the same way, not as a second queue on the app.
      expect(() => createQueue(app, options())).toThrow(QueueAfterRoutesError);
    });

    it('counts the routes of a router mounted before it', () => {
      const app = express();
      const api = express.Router();
      api.all('/status', (_req, res) => {
        res.end();
      });
      app.use('/api', api);
      expect(() => createQueue(app, options())).toThrow(`${FIX} (routes registered before it: ALL /status)`);
    });

    it('lets middleware without routes come first', async () => {
      const app = express();
      app.use(express.json());
      app.use((_req, res, next) => {
        res.set('x-first', 'yes');
        next();
      });
      app.use(express.Router()); // a router with no routes yet is not one
      const jobs = createQueue(app, options());
      open.push(jobs);
      app.post(
        '/enqueue',
        route(async (req, res) => {
          const job = await req.queue.enqueue('record', { value: req.body.value });
          res.status(201).json({ id: job.id });
        }),
      );
      const { baseUrl } = await listen(app);
      await jobs.ready();
      const res = await postJson(baseUrl, '/enqueue', { value: 'after-middleware' });
      expect(res.status).toBe(201);
      expect(await jobs.queue.getJob(res.body.id)).toMatchObject({ task: 'record' });
    });

    it('a request that reads req.queue before the middleware gets the same error, through next(err)', async () => {
      const app = express();
      app.use(express.json());
      // Mounted before createQueue, its routes added after: createQueue cannot see them coming.
      const api = express.Router();
      app.use('/api', api);
      const jobs = createQueue(app, options());
      open.push(jobs);
      api.post(
        '/enqueue',
        route(async (req, res) => {
          const job = await req.queue.enqueue('record', { value: req.body.value });
          res.status(201).json({ id: job.id });
        }),
      );
      app.use(errorHandler);
      const { baseUrl } = await listen(app);
      await jobs.ready();
      const res = await postJson(baseUrl, '/api/enqueue', { value: 'too-early' });
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('QUEUE_AFTER_ROUTES');
      expect(res.body.message).toMatch(
        /^createQueue\(app, …\) must run before the routes that use req\.queue/,
      );
      const jobsEnqueued = await db.query(
        `SELECT count(*)::int AS n FROM queue.jobs WHERE payload->>'value' = 'too-early'`,
      );
      expect(jobsEnqueued).toEqual([{ n: 0 }]);
    });
  });
}
