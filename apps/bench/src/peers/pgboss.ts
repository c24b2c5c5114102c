import pg from 'pg';
import PgBoss from 'pg-boss';
import { type JobPayload, type Peer, PRODUCER_POOL, QUEUE_NAME } from './types.js';

const SCHEMA = 'pgboss';
/** pg-boss fetches a batch per poll; several work() calls run several fetch loops. */
const WORKERS = 4;
const BATCH = 500;
/** pg-boss's minimum polling interval; it has no LISTEN/NOTIFY wake-up. */
const POLL_SECONDS = 0.5;

function ignore(): void {}

export const pgbossPeer: Peer = {
  name: 'pgboss',
  label: 'pg-boss 10.4.2',
  backend: 'postgres',
  durable: true,
  keeps:
    'everything: completed jobs stay in pgboss.job with their output, are archived after 12 h and leave the archive after 7 days (its defaults, unchanged here)',
  settings: `${WORKERS} work() loops, batchSize ${BATCH}, pollingIntervalSeconds ${POLL_SECONDS} (its minimum)`,

  async setup(target) {
    const boss = new PgBoss({ connectionString: target.databaseUrl, supervise: false, schedule: false });
    boss.on('error', ignore);
    await boss.start();
    await boss.createQueue(QUEUE_NAME);
    await boss.stop({ graceful: false, wait: true });
  },

  async client(target) {
    const boss = new PgBoss({
      connectionString: target.databaseUrl,
      max: PRODUCER_POOL,
      supervise: false,
      schedule: false,
      migrate: false,
    });
    boss.on('error', ignore);
    await boss.start();
    const admin = new pg.Client({ connectionString: target.databaseUrl });
    await admin.connect();
    return {
      async enqueueOne(payload) {
        await boss.send(QUEUE_NAME, payload);
      },
      async enqueueBulk(payloads) {
        await boss.insert(payloads.map((data) => ({ name: QUEUE_NAME, data })));
      },
      async pending() {
        const { rows } = await admin.query(
          `SELECT count(*)::int AS n FROM ${SCHEMA}.job
           WHERE name = $1 AND state IN ('created', 'retry', 'active') AND start_after <= now()`,
          [QUEUE_NAME],
        );
        return rows[0].n;
      },
      async reset() {
        await admin.query(`TRUNCATE ${SCHEMA}.job, ${SCHEMA}.archive`);
      },
      async seed(spec) {
        // Columns pg-boss's insert sets from the queue's defaults are left to the table defaults.
        const insert = (n: number, extra: string, values: string) =>
          admin.query(
            `INSERT INTO ${SCHEMA}.job (name, data${extra})
             SELECT $2::text, jsonb_build_object('t', 0, 'i', g)${values}
             FROM generate_series(1, $1::int) g`,
            [n, QUEUE_NAME],
          );
        if (spec.scheduled) await insert(spec.scheduled, ', start_after', `, now() + interval '1 day'`);
        if (spec.failed) {
          await insert(
            spec.failed,
            ', state, retry_count, started_on, completed_on, output',
            `, 'failed', 2, now(), now(), jsonb_build_object('message', 'boom')`,
          );
        }
        if (spec.available) await insert(spec.available, '', '');
      },
      async close() {
        await admin.end();
        await boss.stop({ graceful: false, wait: true });
      },
    };
  },

  async prepareWorker(target, onJob) {
    const boss = new PgBoss({ connectionString: target.databaseUrl });
    boss.on('error', ignore);
    await boss.start();
    return {
      async start() {
        for (let w = 0; w < WORKERS; w++) {
          await boss.work<JobPayload>(
            QUEUE_NAME,
            { batchSize: BATCH, pollingIntervalSeconds: POLL_SECONDS },
            async (jobs) => {
              for (const job of jobs) onJob(job.data);
            },
          );
        }
      },
      async stop() {
        await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
      },
    };
  },
};
