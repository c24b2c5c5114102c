import { Queue, silentLogger } from '@queue/core';
import pg from 'pg';
import { keepHistory, SCHEMA } from './queue-history.js';
import { type JobPayload, type Peer, PRODUCER_POOL, TASK } from './types.js';

/**
 * The worker claims at most as many jobs as it has free slots, so for no-op handlers the
 * concurrency is also the claim batch size. 200 drained fastest of 100/200/500/1000 here:
 * in the current core a claim's cost grows with the square of its batch (see README), so
 * the peers' batch of 500 is slower. BENCH_QUEUE_CONCURRENCY overrides it, for trying others.
 */
const CONCURRENCY = Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 200);

export const queuePeer: Peer = {
  name: 'queue',
  label: '@queue/core',
  backend: 'postgres',
  durable: true,
  settings: `concurrency ${CONCURRENCY} (= claim batch), default 500 ms poll, LISTEN/NOTIFY wake-ups`,
  keeps:
    "completed jobs move to job_history, kept a day by default; set to keep '0' (nothing) here except in the history workload",
  historySwitch: true,

  async setup(target) {
    const queue = new Queue({ connectionString: target.databaseUrl, logger: silentLogger });
    try {
      await queue.migrate();
    } finally {
      await queue.close();
    }
    const db = new pg.Client({ connectionString: target.databaseUrl });
    await db.connect();
    try {
      await keepHistory(db, false);
    } finally {
      await db.end();
    }
  },

  async client(target) {
    const pool = new pg.Pool({ connectionString: target.databaseUrl, max: PRODUCER_POOL });
    const queue = new Queue({ pool, logger: silentLogger });
    return {
      async enqueueOne(payload) {
        await queue.enqueue(TASK, payload);
      },
      async enqueueBulk(payloads) {
        await queue.enqueueMany(payloads.map((payload) => ({ task: TASK, payload })));
      },
      async pending() {
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM ${SCHEMA}.jobs WHERE failed_at IS NULL AND run_at <= now()`,
        );
        return rows[0].n;
      },
      async reset() {
        // job_stats arrived with migration 3, job_history with 8; truncate whatever of ours
        // exists (a partitioned table's TRUNCATE empties its partitions).
        const { rows } = await pool.query(
          `SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') AS t FROM pg_tables WHERE schemaname = $1 AND tablename IN ('jobs', 'job_stats', 'job_history')`,
          [SCHEMA],
        );
        await pool.query(`TRUNCATE ${rows[0].t}`);
      },
      history: {
        keep: (on) => keepHistory(pool, on),
        async rows() {
          const { rows } = await pool.query(
            `SELECT (SELECT count(*) FROM ${SCHEMA}.job_history)::int AS total,
               (SELECT count(*) FROM ${SCHEMA}.job_history_default)::int AS "inDefault"`,
          );
          return rows[0];
        },
      },
      async seed(spec) {
        // Dead weight first, as it would be in a table that has been in use for a while.
        const insert = (n: number, extra: string, values: string) =>
          pool.query(
            `INSERT INTO ${SCHEMA}.jobs (task, queue, payload${extra})
             SELECT '${TASK}', 'default', jsonb_build_object('t', 0, 'i', g)${values}
             FROM generate_series(1, $1::int) g`,
            [n],
          );
        if (spec.scheduled) await insert(spec.scheduled, ', run_at', `, now() + interval '1 day'`);
        if (spec.failed) {
          await insert(
            spec.failed,
            ', attempts, max_attempts, failed_at, errors',
            `, 25, 25, now(), jsonb_build_array(jsonb_build_object('attempt', 25, 'at', now(), 'message', 'Error: boom'))`,
          );
        }
        if (spec.available) await insert(spec.available, '', '');
      },
      async close() {
        await queue.close();
        await pool.end();
      },
    };
  },

  async prepareWorker(target, onJob, options) {
    // Loaded only when asked for, so the untraced worker process holds no OpenTelemetry code.
    const tracing =
      options?.tracing && options.tracing !== 'off'
        ? (await import('./queue-tracing.js')).startTracing(options.tracing)
        : undefined;
    const queue = new Queue({
      connectionString: target.databaseUrl,
      logger: silentLogger,
      tasks: { [TASK]: (payload: JobPayload) => onJob(payload) },
      instrumentation: tracing?.instrumentation,
    });
    const worker = queue.worker({ concurrency: CONCURRENCY });
    return {
      start: () => worker.start(),
      stop: async () => {
        await queue.close();
        await tracing?.stop();
      },
      spans: tracing ? () => tracing.spans() : undefined,
    };
  },
};
