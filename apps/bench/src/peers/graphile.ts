import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import pg from 'pg';
import { type JobPayload, type Peer, PRODUCER_POOL, TASK } from './types.js';

const SCHEMA = 'graphile_worker';
const quiet = new Logger(() => () => {});

/** A pool with the error handlers graphile-worker asks for (it warns without them). */
function makePool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * The configuration graphile-worker's own performance page uses for its figures
 * (https://worker.graphile.org/docs/performance): batching on both ends.
 */
const PRESET = {
  worker: {
    concurrentJobs: 24,
    maxPoolSize: 25,
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
};

export const graphilePeer: Peer = {
  name: 'graphile',
  label: 'graphile-worker 0.17.3',
  backend: 'postgres',
  durable: true,
  keeps: 'nothing: a completed job is deleted (its only behaviour)',
  settings:
    'concurrentJobs 24, maxPoolSize 25, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0 (its performance page)',

  async setup(target) {
    await runMigrations({ connectionString: target.databaseUrl, logger: quiet });
  },

  async client(target) {
    const pool = makePool(target.databaseUrl, PRODUCER_POOL);
    const utils = await makeWorkerUtils({ pgPool: pool, logger: quiet });
    return {
      async enqueueOne(payload) {
        await utils.addJob(TASK, payload);
      },
      async enqueueBulk(payloads) {
        await utils.addJobs(payloads.map((payload) => ({ identifier: TASK, payload })));
      },
      async pending() {
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM ${SCHEMA}._private_jobs WHERE attempts < max_attempts AND run_at <= now()`,
        );
        return rows[0].n;
      },
      async reset() {
        await pool.query(`TRUNCATE ${SCHEMA}._private_jobs`);
      },
      async seed(spec) {
        await pool.query(
          `INSERT INTO ${SCHEMA}._private_tasks (identifier) VALUES ($1) ON CONFLICT DO NOTHING`,
          [TASK],
        );
        // Columns as add_jobs fills them for a job without queue, key or flags.
        const insert = (n: number, runAt: string, attempts: number, lastError: string | null) =>
          pool.query(
            `INSERT INTO ${SCHEMA}._private_jobs (task_id, payload, run_at, attempts, max_attempts, last_error)
             SELECT t.id, json_build_object('t', 0, 'i', g), ${runAt}, $2::int, 25, $3::text
             FROM generate_series(1, $1::int) g, ${SCHEMA}._private_tasks t WHERE t.identifier = $4`,
            [n, attempts, lastError, TASK],
          );
        if (spec.scheduled) await insert(spec.scheduled, `now() + interval '1 day'`, 0, null);
        if (spec.failed) await insert(spec.failed, 'now()', 25, 'Error: boom');
        if (spec.available) await insert(spec.available, 'now()', 0, null);
      },
      async close() {
        await utils.release();
        await pool.end();
      },
    };
  },

  async prepareWorker(target, onJob) {
    const pool = makePool(target.databaseUrl, PRESET.worker.maxPoolSize);
    // Open one connection now so that start() is not charged for the first connect.
    (await pool.connect()).release();
    let runner: Awaited<ReturnType<typeof run>> | undefined;
    return {
      async start() {
        runner = await run({
          pgPool: pool,
          logger: quiet,
          noHandleSignals: true,
          crontab: '',
          preset: PRESET,
          taskList: { [TASK]: async (payload) => onJob(payload as JobPayload) },
        });
      },
      async stop() {
        await runner?.stop();
        await pool.end();
      },
    };
  },
};
