/**
 * "The app": a child process that the demo starts, SIGKILLs midway (the deploy or crash) and
 * starts again. It takes signups and runs a worker, the way a small web app would:
 *
 * - each signup commits the user and, in the same transaction, two guaranteed jobs;
 * - after the commit it starts a best-effort geocode as a plain promise nobody awaits.
 *
 * It prints nothing and reports nothing: the demo watches Postgres. Its settings come as one
 * JSON argument; the demo's IPC channel carries only 'stop' (a graceful stop).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type JobContext, Queue, silentLogger, task } from '@queue/core';
import pg from 'pg';
import { emailOf, quote } from './schema.js';

export interface AppConfig {
  databaseUrl: string;
  schema: string;
  /** 'v1' or 'v2': written on every row this process writes. */
  name: string;
  /** Its sessions' application_name, so the demo can see when Postgres has dropped them. */
  applicationName: string;
  /** Signups 0..signups-1; this process takes those not committed yet. */
  signups: number;
  /** Signups in flight at once (concurrent requests). */
  signupConcurrency: number;
  /** Jobs run at once per queue ('emails' and 'crm'). */
  concurrency: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as AppConfig;
const s = quote(config.schema);

const pool = new pg.Pool({
  connectionString: config.databaseUrl,
  // Signups + running jobs + geocodes finishing; more would only queue inside Postgres.
  max: config.signupConcurrency + 2 * config.concurrency,
  application_name: config.applicationName,
});

/** Stand-in for a call to a mail provider or a CRM: a few ms of waiting. */
const work = (signal: AbortSignal) => sleep(5 + Math.random() * 15, undefined, { signal });

const tasks = {
  sendWelcomeEmail: task<{ userId: string }>({
    queue: 'emails',
    handler: async ({ userId }, { job, attempt, signal }: JobContext) => {
      await work(signal);
      await pool.query(
        `INSERT INTO ${s}.welcome_emails (user_id, job_id, attempt, app) VALUES ($1, $2, $3, $4)`,
        [userId, job.id, attempt, config.name],
      );
    },
  }),
  syncCrm: task<{ userId: string }>({
    queue: 'crm',
    handler: async ({ userId }, { job, attempt, signal }: JobContext) => {
      await work(signal);
      await pool.query(`INSERT INTO ${s}.crm_syncs (user_id, job_id, attempt, app) VALUES ($1, $2, $3, $4)`, [
        userId,
        job.id,
        attempt,
        config.name,
      ]);
    },
  }),
};

// The demo reports what happened from the database; the queue's own warnings would only
// interleave with its progress bars. A real app keeps the default logger.
const queue = new Queue({ pool, schema: config.schema, tasks, logger: silentLogger });
const worker = queue.worker({ queues: { emails: config.concurrency, crm: config.concurrency } });

/** Pending geocodes, only so that a graceful stop can wait for them (a SIGKILL cannot). */
const geocodes = new Set<Promise<void>>();

/**
 * Fire and forget, as apps commonly do for "nice to have" work: a 100-400 ms call to a
 * geocoding API, then a row. Nothing records that it was due, so if the process dies
 * before it finishes, it never happens.
 */
function geocodeInBackground(userId: string): void {
  const p = (async () => {
    await sleep(100 + Math.random() * 300);
    await pool.query(`INSERT INTO ${s}.geocodes (user_id, place) VALUES ($1, $2)`, [userId, 'somewhere']);
  })()
    .catch(() => {}) // best effort: a failure is as good as a loss
    .finally(() => geocodes.delete(p));
  geocodes.add(p);
}

/** One signup request: the user and its two guaranteed jobs commit together, or not at all. */
async function signUp(i: number): Promise<void> {
  const client = await pool.connect();
  // A checked-out client has no 'error' listener; without one a dropped session would crash us.
  const onError = () => {};
  client.on('error', onError);
  let userId: string | undefined;
  let broken = false;
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(
      `INSERT INTO ${s}.users (email, app) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id::text AS id`,
      [emailOf(i), config.name],
    );
    userId = rows[0]?.id;
    if (userId) {
      // Both jobs in one statement, in the signup's transaction: they exist iff the user does.
      await queue.enqueueMany(
        [
          { task: 'sendWelcomeEmail', payload: { userId } },
          { task: 'syncCrm', payload: { userId } },
        ],
        { client },
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    broken = true;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
  if (userId) geocodeInBackground(userId);
}

let stopping = false;

async function takeSignups(): Promise<void> {
  // Signups an earlier app committed are done; the others (never started, or rolled back
  // when that app died mid-transaction) are retried by their clients and land here.
  const { rows } = await pool.query(`SELECT email FROM ${s}.users`);
  const committed = new Set(rows.map((r) => r.email as string));
  const todo: number[] = [];
  for (let i = 0; i < config.signups; i++) if (!committed.has(emailOf(i))) todo.push(i);
  let next = 0;
  const lane = async () => {
    while (!stopping && next < todo.length) await signUp(todo[next++]!);
  };
  await Promise.all(Array.from({ length: config.signupConcurrency }, lane));
}

/** Graceful stop (the demo's 'stop' message): finish geocodes and running jobs, close. */
async function stop(): Promise<void> {
  stopping = true;
  await Promise.all(geocodes);
  await worker.stop();
  await queue.close();
  await pool.end();
}

process.on('message', (message: { type?: string }) => {
  if (message?.type === 'stop') {
    void stop().then(
      () => process.exit(0),
      (error) => {
        console.error('demo app: could not stop cleanly:', error);
        process.exit(1);
      },
    );
  }
});
// The demo died (or was killed): no orphan may outlive it.
process.on('disconnect', () => process.exit(1));

async function main(): Promise<void> {
  await worker.start();
  await takeSignups();
}

main().catch((error) => {
  console.error(`demo app ${config.name} failed:`, error);
  process.exit(1);
});
