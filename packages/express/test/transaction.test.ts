import { ConfigError, silentLogger } from '@queue/core';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import type express5 from 'express';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueue,
  type ExpressQueue,
  MissingPoolError,
  NoTransactionError,
  type TxRequest,
  transaction,
  withTransaction,
} from '../src/index.js';
import { expressVersions, listen, postJson, route } from './helpers.js';

const db = useTestDatabase();
let pool: pg.Pool;
/** Values whose route got as far as answering. */
const answered = new Set<string>();

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => {});
  // `late` checks its uniqueness only at COMMIT: a real way to make a COMMIT fail.
  await pool.query(`
    CREATE TABLE rows (value text PRIMARY KEY);
    CREATE TABLE late (value text UNIQUE DEFERRABLE INITIALLY DEFERRED);
  `);
});
afterAll(() => pool.end());
afterEach(async () => {
  answered.clear();
  await db.query('TRUNCATE queue.jobs, rows, late');
});

const count = async (sql: string, values: unknown[] = []) =>
  (await pool.query(sql, values)).rows[0].n as number;
const rowsWith = (value: string) => count('SELECT count(*)::int AS n FROM rows WHERE value = $1', [value]);
const jobsWith = (value: string) =>
  count(`SELECT count(*)::int AS n FROM queue.jobs WHERE payload->>'value' = $1`, [value]);

for (const [label, express] of expressVersions) {
  describe(`transaction() on ${label}`, () => {
    let jobs: ExpressQueue<any>;
    let baseUrl: string;
    let release: (() => void) | undefined;

    beforeAll(async () => {
      const app = express();
      app.use(express.json());
      jobs = createQueue(app, {
        pool,
        tasks: { record: async () => {} },
        worker: false,
        logger: silentLogger,
      });
      const write = async (req: TxRequest) => {
        await req.tx.query('INSERT INTO rows (value) VALUES ($1)', [req.body.value]);
        await req.queue.enqueue('record', { value: req.body.value }, { client: req.tx });
      };
      // Answers with the status the test asks for, after writing a row and a job in the transaction.
      app.post(
        '/answer/:status',
        transaction(pool, async (req, res) => {
          await write(req);
          res.status(Number(req.params.status)).json({ value: req.body.value });
        }),
      );
      // The same, in the middleware form: transaction() sets req.tx for the handler after it
      // (which only a cast, or JavaScript, can read: the types give it to the handler form).
      app.post(
        '/middleware/answer/:status',
        transaction(),
        route(async (req, res) => {
          await write(req as TxRequest);
          res.status(Number(req.params.status)).json({ value: req.body.value });
        }),
      );
      app.post(
        '/throws',
        transaction(async (req) => {
          await write(req);
          throw new Error('the route failed after writing');
        }),
      );
      app.post(
        '/throws-sync',
        transaction(() => {
          throw new Error('the route failed at once');
        }),
      );
      // The newcomer's trap: a route without transaction() that enqueues with { client: req.tx }.
      // Reading req.tx throws, so the job is never enqueued outside a transaction.
      app.post(
        '/plain',
        route(async (req, res) => {
          await req.queue.enqueue('record', { value: req.body.value }, { client: (req as TxRequest).tx });
          res.status(201).json({ value: req.body.value });
        }),
      );
      // The deferred constraint fails at COMMIT, after the route has answered 201.
      app.post(
        '/commit-fails',
        transaction(async (req, res) => {
          await write(req);
          await req.tx.query(`INSERT INTO late VALUES ('same'), ('same')`);
          answered.add(req.body.value);
          res.set('location', '/somewhere').status(201).json({ value: req.body.value });
        }),
      );
      app.post(
        '/commit-fails-streaming',
        transaction(async (req, res) => {
          await write(req);
          await req.tx.query(`INSERT INTO late VALUES ('same'), ('same')`);
          res.status(200).write('part one, ');
          res.end('part two');
        }),
      );
      app.post(
        '/waits',
        transaction(async (req, res) => {
          await write(req);
          await new Promise<void>((r) => {
            release = r;
          });
          res.status(201).json({});
        }),
      );
      // A sub-app mounted in the app: Express chains its request prototype to the app's, so the
      // req.tx guard createQueue put there holds in it too. A synchronous read: Express 4 catches it.
      const sub = express();
      sub.post('/plain', (req, res) => {
        res.json({ tx: (req as TxRequest).tx === undefined ? 'undefined' : 'set' });
      });
      app.use('/sub', sub);
      const bare = express.Router();
      bare.post('/no-pool', transaction(), (_req, res) => {
        res.status(201).end();
      });
      // Mounted before createQueue's middleware runs for it: no req.queue to borrow a pool from.
      const outer = express();
      outer.use(bare);
      outer.use(app);
      outer.use(((error, _req, res, _next) => {
        res.status(500).json({ code: error.code ?? null, message: error.message });
      }) as express5.ErrorRequestHandler);
      app.use(((error, _req, res, _next) => {
        res.status(500).json({ code: error.code ?? null, message: error.message });
      }) as express5.ErrorRequestHandler);
      ({ baseUrl } = await listen(outer as express5.Express));
    });
    afterAll(async () => {
      await jobs.close();
    });
    afterEach(() => {
      // Every request gave its client back (or dropped it): none is left checked out.
      expect(pool.totalCount - pool.idleCount).toBe(0);
    });

    for (const [form, prefix] of [
      ['transaction(pool, handler)', ''],
      ['the middleware form, transaction()', '/middleware'],
    ]) {
      it(`${form}: a success status commits before the answer is sent`, async () => {
        const res = await postJson(baseUrl, `${prefix}/answer/201`, { value: `kept${prefix}` });
        expect(res.status).toBe(201);
        // Visible from another connection the moment the client has its answer.
        expect(await rowsWith(`kept${prefix}`)).toBe(1);
        expect(await jobsWith(`kept${prefix}`)).toBe(1);
      });

      it(`${form}: an error status rolls back the row and the job`, async () => {
        const res = await postJson(baseUrl, `${prefix}/answer/409`, { value: `conflict${prefix}` });
        expect(res.status).toBe(409);
        expect(await rowsWith(`conflict${prefix}`)).toBe(0);
        expect(await jobsWith(`conflict${prefix}`)).toBe(0);
      });
    }

    it('a handler that throws synchronously reaches the error handler too', async () => {
      const res = await postJson(baseUrl, '/throws-sync', {});
      expect(res.status).toBe(500);
      expect(res.body.message).toBe('the route failed at once');
    });

    it('reading req.tx on a route without transaction() passes NoTransactionError to next; nothing is enqueued', async () => {
      const res = await postJson(baseUrl, '/plain', { value: 'outside' });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ code: 'QUEUE_NO_TRANSACTION', message: new NoTransactionError().message });
      expect(res.body.message).toContain("app.post('/signup', transaction(");
      expect(await jobsWith('outside')).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM queue.jobs')).toBe(0);
    });

    it('so does reading it in a sub-app mounted in the app', async () => {
      const res = await postJson(baseUrl, '/sub/plain', {});
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('QUEUE_NO_TRANSACTION');
    });

    it('a thrown error reaches the error handler and rolls back', async () => {
      const res = await postJson(baseUrl, '/throws', { value: 'thrown' });
      expect(res.status).toBe(500);
      expect(res.body.message).toBe('the route failed after writing');
      expect(await rowsWith('thrown')).toBe(0);
      expect(await jobsWith('thrown')).toBe(0);
    });

    it('a failed COMMIT replaces the 201 with the error, through the error handler', async () => {
      const res = await fetch(`${baseUrl}/commit-fails`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: 'lost' }),
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ code: '23505' });
      // The route did answer 201: it was the COMMIT that failed, not a statement.
      expect(answered.has('lost')).toBe(true);
      // The route's headers went with its answer.
      expect(res.headers.get('location')).toBeNull();
      expect(await rowsWith('lost')).toBe(0);
      expect(await jobsWith('lost')).toBe(0);
    });

    it('a failed COMMIT under a streamed answer cuts the answer off', async () => {
      const res = await fetch(`${baseUrl}/commit-fails-streaming`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: 'streamed' }),
      });
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow();
      expect(await rowsWith('streamed')).toBe(0);
      expect(await jobsWith('streamed')).toBe(0);
    });

    it('a client that hangs up before the answer ends the transaction with its session', async () => {
      const abort = new AbortController();
      const pending = fetch(`${baseUrl}/waits`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: 'abandoned' }),
        signal: abort.signal,
      }).catch((error: Error) => error);
      await waitFor('the route to wait', () => release);
      abort.abort();
      expect(await pending).toBeInstanceOf(Error);
      // The session is closed rather than pooled: nothing of it is left in Postgres.
      await waitFor('the session to end', async () => {
        const n = await count(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'`,
          [db.name],
        );
        return n === 0;
      });
      release!();
      release = undefined;
      expect(await rowsWith('abandoned')).toBe(0);
      expect(await jobsWith('abandoned')).toBe(0);
    });

    it('without a pool or req.queue it passes MissingPoolError to the error handler', async () => {
      const res = await postJson(baseUrl, '/no-pool', {});
      expect(res.status).toBe(500);
      expect(res.body.code).toBe(new MissingPoolError().code);
    });
  });
}

describe('withTransaction', () => {
  let jobs: ExpressQueue<any>;
  beforeAll(() => {
    const app = expressVersions[0]![1]();
    jobs = createQueue(app, { pool, tasks: { record: async () => {} }, worker: false, logger: silentLogger });
  });
  afterAll(() => jobs.close());

  it('commits and returns what the function returns', async () => {
    const id = await withTransaction(pool, async (client) => {
      await client.query(`INSERT INTO rows VALUES ('helper')`);
      return (await jobs.queue.enqueue('record', { value: 'helper' }, { client })).id;
    });
    expect(id).toMatch(/^\d+$/);
    expect(await rowsWith('helper')).toBe(1);
    expect(await jobsWith('helper')).toBe(1);
  });

  it('rolls back and rethrows when the function throws', async () => {
    const boom = new Error('boom');
    await expect(
      withTransaction(pool, async (client) => {
        await client.query(`INSERT INTO rows VALUES ('helper-failed')`);
        await jobs.queue.enqueue('record', { value: 'helper-failed' }, { client });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await rowsWith('helper-failed')).toBe(0);
    expect(await jobsWith('helper-failed')).toBe(0);
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });

  it('rejects a missing pool or function with ConfigError', async () => {
    await expect(withTransaction(undefined as any, async () => {})).rejects.toBeInstanceOf(ConfigError);
    await expect(withTransaction(pool, undefined as any)).rejects.toBeInstanceOf(ConfigError);
    expect(() => transaction('postgres://x' as any)).toThrow(ConfigError);
    expect(() => transaction((() => {}) as any, pool as any)).toThrow(/the pool comes first/);
    expect(() => transaction(pool, 'handler' as any)).toThrow(/handler must be a function/);
  });
});
