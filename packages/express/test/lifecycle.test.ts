import { once } from 'node:events';
import { createServer } from 'node:http';
import { ConfigError, type Logger, QueueClosedError, silentLogger } from '@queue/core';
import { expectNoAdvisoryLocks, useTestDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyAttachedError,
  createQueue,
  type ExpressQueue,
  type ExpressQueueOptions,
} from '../src/index.js';
import { expressVersions, listen, route } from './helpers.js';

const db = useTestDatabase();
let pool: pg.Pool;
const open: ExpressQueue<any>[] = [];

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  // Idle clients can hear of the test database being dropped after end() resolved.
  pool.on('error', () => {});
  await pool.query('CREATE TABLE effects (value text PRIMARY KEY)');
});
afterAll(() => pool.end());
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close().catch(() => {})));
  await expectNoAdvisoryLocks(db);
  await db.query('TRUNCATE queue.jobs, effects');
});

const tasks = {
  record: async (p: { value: string }) => {
    await pool.query('INSERT INTO effects (value) VALUES ($1)', [p.value]);
  },
};
const effect = async (value: string) =>
  (await pool.query('SELECT 1 FROM effects WHERE value = $1', [value])).rowCount === 1;
/** Sessions other than the test's own in this database: the app must leave none behind. */
const sessions = async () =>
  (
    await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'queue'`,
      [db.name],
    )
  )[0].n as number;
const signalListeners = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');

for (const [label, express] of expressVersions) {
  describe(`lifecycle on ${label}`, () => {
    const make = (options: Record<string, unknown> = {}) => {
      const app = express();
      const jobs = createQueue(app, {
        connectionString: db.url,
        tasks,
        logger: silentLogger,
        ...options,
      } as ExpressQueueOptions<typeof tasks>);
      open.push(jobs);
      return { app, jobs };
    };

    it('starts the worker when app.listen is listening: a job enqueued before then runs', async () => {
      const { app, jobs } = make();
      await jobs.queue.enqueue('record', { value: 'early' });
      const { server } = await listen(app);
      expect(jobs.server).toBe(server);
      await jobs.ready();
      await waitFor('the early job', () => effect('early'));
    });

    it('closing the server stops the worker and the queue, and removes its signal listeners', async () => {
      const before = signalListeners();
      const { app, jobs } = make();
      const { server } = await listen(app);
      await jobs.ready();
      expect(signalListeners()).toBeGreaterThan(before);
      server.close();
      await jobs.close();
      expect(signalListeners()).toBe(before);
      expect(await sessions()).toBe(0);
      await expect(jobs.queue.enqueue('record', { value: 'late' })).rejects.toThrow();
    });

    it('close() closes the server, letting an open request finish and enqueue first', async () => {
      const { app, jobs } = make();
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      let entered!: () => void;
      const inside = new Promise<void>((r) => {
        entered = r;
      });
      app.post(
        '/slow',
        route(async (req, res) => {
          entered();
          await released;
          const job = await req.queue.enqueue('record', { value: 'from-open-request' });
          res.status(201).json({ id: job.id });
        }),
      );
      const { baseUrl } = await listen(app);
      await jobs.ready();
      const pending = fetch(`${baseUrl}/slow`, { method: 'POST' });
      await inside;
      const closing = jobs.close();
      // New connections are refused at once; the open request is not cut off.
      await expect(fetch(`${baseUrl}/slow`, { method: 'POST' })).rejects.toThrow();
      release();
      const res = await pending;
      expect(res.status).toBe(201);
      // So that the client lets go of the connection and the close need not wait for it to time out.
      expect(res.headers.get('connection')).toBe('close');
      await closing;
      const [job] = await db.query(
        `SELECT task FROM queue.jobs WHERE payload->>'value' = 'from-open-request'`,
      );
      expect(job).toEqual({ task: 'record' });
    });

    it('follows a server made with http.createServer through attach()', async () => {
      const { app, jobs } = make();
      const server = createServer(app);
      jobs.attach(server);
      expect(() => jobs.attach(createServer(app))).toThrow(AlreadyAttachedError);
      server.listen(0, '127.0.0.1');
      await jobs.ready();
      await jobs.queue.enqueue('record', { value: 'attached' });
      await waitFor('the attached job', () => effect('attached'));
      server.close();
      await jobs.close();
      expect(await sessions()).toBe(0);
    });

    it('with worker: false it only enqueues; jobs wait for a worker elsewhere', async () => {
      const { app, jobs } = make({ worker: false });
      expect(jobs.worker).toBeNull();
      await listen(app);
      await jobs.ready();
      const job = await jobs.queue.enqueue('record', { value: 'waits' });
      await jobs.close();
      const [row] = await db.query(`SELECT id::text FROM queue.jobs WHERE id = $1`, [job.id]);
      expect(row?.id).toBe(job.id);
    });

    it('with handleSignals: false it adds no signal listeners', async () => {
      const before = signalListeners();
      const { app, jobs } = make({ handleSignals: false });
      await listen(app);
      await jobs.ready();
      expect(signalListeners()).toBe(before);
    });

    it('a worker that cannot reach Postgres rejects ready(), logs why, and closes the server', async () => {
      const errors: string[] = [];
      const logger: Logger = { ...silentLogger, error: (_o, msg) => errors.push(String(msg)) };
      // Port 1 on loopback: nothing listens there, so the connection is refused at once.
      const { app, jobs } = make({
        connectionString: 'postgres://postgres@127.0.0.1:1/none',
        logger,
        startupTimeout: 0, // fail at the first refusal rather than wait for Postgres (boot.test.ts)
      });
      const { server } = await listen(app);
      const closed = once(server, 'close');
      await expect(jobs.ready()).rejects.toThrow();
      await closed;
      await jobs.close();
      expect(errors).toContain('the queue could not start; closing the server');
    });

    it('closed before listening: ready(), attach and app.listen reject with QueueClosedError', async () => {
      const { app, jobs } = make();
      await jobs.close();
      await expect(jobs.ready()).rejects.toBeInstanceOf(QueueClosedError);
      expect(() => jobs.attach(createServer(app))).toThrow(QueueClosedError);
      expect(() => app.listen(0)).toThrow(QueueClosedError);
    });

    it('rejects misuse with named errors', () => {
      const { app } = make();
      expect(() => createQueue(app, { connectionString: db.url, tasks })).toThrow(AlreadyAttachedError);
      expect(() => createQueue({} as any, { connectionString: db.url })).toThrow(ConfigError);
      expect(() => createQueue(express(), null as any)).toThrow(ConfigError);
      expect(() => createQueue(express(), { connectionString: db.url, onClose: 'no' as any })).toThrow(
        ConfigError,
      );
      const { jobs } = make();
      expect(() => jobs.attach({} as any)).toThrow(ConfigError);
    });

    it('runs onClose once, after the queue is closed', async () => {
      const calls: string[] = [];
      const { app, jobs } = make({
        onClose: async () => {
          calls.push(`onClose, pool ended: ${jobs.queue.pool.ending}`);
        },
      });
      const { server } = await listen(app);
      await jobs.ready();
      server.close();
      await Promise.all([jobs.close(), jobs.close()]);
      expect(calls).toEqual(['onClose, pool ended: true']);
    });
  });
}
