import { createPostgresBackend, Queue, runMigrations, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  type JobPayload,
  type Peer,
  type PeerClient,
  PRODUCER_POOL,
  QUEUE_NAME,
  TASK,
  type Target,
} from './types.js';

const CONCURRENCY = 32;
/** BullMQ's Postgres guide: size each backend's pool for its concurrency. */
const WORKER_POOL = CONCURRENCY + 2;
const SCHEMA = 'bullmq';
/** Finished jobs are removed, as BullMQ's guides recommend for throughput. */
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: 1000 };

function redisConnection(target: Target): Redis {
  // BullMQ requires maxRetriesPerRequest: null on worker connections.
  return new Redis(target.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
}

function makeQueue(target: Target, backend: 'postgres' | 'redis') {
  if (backend === 'postgres') {
    const connection = { connectionString: target.databaseUrl, max: PRODUCER_POOL };
    return {
      queue: new Queue(QUEUE_NAME, { connection, defaultJobOptions: JOB_OPTIONS }, createPostgresBackend),
    };
  }
  const connection = redisConnection(target);
  const queue = new Queue(QUEUE_NAME, { connection, prefix: target.prefix, defaultJobOptions: JOB_OPTIONS });
  return { queue, redis: connection };
}

async function client(target: Target, backend: 'postgres' | 'redis'): Promise<PeerClient> {
  const { queue, redis } = makeQueue(target, backend);
  queue.on('error', () => {});
  await queue.waitUntilReady();
  const admin = backend === 'postgres' ? new pg.Client({ connectionString: target.databaseUrl }) : undefined;
  await admin?.connect();
  return {
    async enqueueOne(payload) {
      await queue.add(TASK, payload);
    },
    async enqueueBulk(payloads) {
      await queue.addBulk(payloads.map((data) => ({ name: TASK, data })));
    },
    async pending() {
      if (admin) {
        const { rows } = await admin.query(
          `SELECT count(*)::int AS n FROM ${SCHEMA}.job WHERE queue = $1 AND state IN ('waiting', 'active')`,
          [QUEUE_NAME],
        );
        return rows[0].n;
      }
      const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async reset() {
      if (admin) {
        await admin.query(`TRUNCATE ${SCHEMA}.job, ${SCHEMA}.event, ${SCHEMA}.metrics CASCADE`);
        return;
      }
      await deleteKeys(redis as Redis, `${target.prefix}:*`);
    },
    seed: admin ? (spec) => seedPostgres(admin, spec) : undefined,
    async close() {
      await queue.close();
      await admin?.end();
      redis?.disconnect();
    },
  };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Rows shaped as add_jobs_bulk writes them for jobs with JOB_OPTIONS; ids 's<n>' cannot collide with counter ids. */
async function seedPostgres(db: pg.Client, spec: { available: number; scheduled: number; failed: number }) {
  const insert = (n: number, tag: string, state: string, cols: string, values: string) =>
    db.query(
      `INSERT INTO ${SCHEMA}.job (queue, id, seq, name, state, data, opts, max_attempts, added_at_ms${cols})
       SELECT $2::text, '${tag}' || g, nextval('${SCHEMA}.job_seq'), '${TASK}', '${state}',
         jsonb_build_object('t', 0, 'i', g), $3::jsonb, 1, (extract(epoch FROM now()) * 1000)::bigint${values}
       FROM generate_series(1, $1::int) g`,
      [n, QUEUE_NAME, JSON.stringify({ ...JOB_OPTIONS, attempts: 1 })],
    );
  const day = `(extract(epoch FROM now() + interval '1 day') * 1000)::bigint`;
  if (spec.scheduled)
    await insert(spec.scheduled, 'd', 'delayed', ', delay_ms, process_at_ms', `, 86400000, ${day}`);
  if (spec.failed) {
    await insert(
      spec.failed,
      'f',
      'failed',
      ', attempts_made, attempts_started, failed_reason, finished_at_ms',
      `, 1, 1, 'boom', (extract(epoch FROM now()) * 1000)::bigint`,
    );
  }
  if (spec.available) await insert(spec.available, 's', 'waiting', '', '');
}

function peer(backend: 'postgres' | 'redis'): Peer {
  const pgBackend = backend === 'postgres';
  return {
    name: pgBackend ? 'bullmq' : 'bullmq-redis',
    label: pgBackend ? 'BullMQ 6.7.0 (Postgres backend)' : 'BullMQ 6.7.0 (Redis)',
    backend,
    durable: pgBackend,
    keeps: "nothing: removeOnComplete (set here; BullMQ's default keeps every completed job)",
    settings: pgBackend
      ? `concurrency ${CONCURRENCY}, pool max ${WORKER_POOL}, removeOnComplete`
      : `concurrency ${CONCURRENCY}, removeOnComplete; durability is the Redis server's (see meta.redis)`,

    async setup(target) {
      if (!pgBackend) return;
      const db = new pg.Client({ connectionString: target.databaseUrl });
      await db.connect();
      try {
        await runMigrations(db);
      } finally {
        await db.end();
      }
    },

    client: (target) => client(target, backend),

    async prepareWorker(target, onJob) {
      const processor = async (job: { data: JobPayload }) => {
        onJob(job.data);
      };
      const redis = pgBackend ? undefined : redisConnection(target);
      const worker = pgBackend
        ? new Worker(
            QUEUE_NAME,
            processor,
            {
              connection: { connectionString: target.databaseUrl, max: WORKER_POOL },
              concurrency: CONCURRENCY,
              autorun: false,
            },
            createPostgresBackend,
          )
        : new Worker(QUEUE_NAME, processor, {
            connection: redis as Redis,
            prefix: target.prefix,
            concurrency: CONCURRENCY,
            autorun: false,
          });
      worker.on('error', () => {});
      await worker.waitUntilReady();
      return {
        async start() {
          void worker.run().catch(() => {});
        },
        async stop() {
          await worker.close();
          redis?.disconnect();
        },
      };
    },
  };
}

export const bullmqPgPeer = peer('postgres');
export const bullmqRedisPeer = peer('redis');
