import { waitFor as until, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  JobCancelledError,
  JobFailedError,
  JobNotFoundError,
  JobRolledBackError,
  QueueClosedError,
  WaitClosedError,
  WaitTimeoutError,
} from '../src/index.js';
import { setEnqueueXid } from '../src/xid.js';
import { queueFactory } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
afterEach(async () => {
  await db.query('TRUNCATE queue.job_history');
});

/**
 * Finishes job `id` as the worker's finish statement does: moves it to the history (unless the
 * queue keeps none) and, if it is waited for, notifies `queue:done` with `payload` (the id, or
 * `<id>:<outcome>`), in one transaction of another session.
 */
async function finish(
  id: string,
  { outcome = 'completed', result = null as unknown, payload = id as string | null, keep = true } = {},
) {
  await db.query(
    `WITH d AS (DELETE FROM queue.jobs WHERE id = $1 RETURNING *), h AS (
       INSERT INTO queue.job_history (id, queue, task, payload, priority, outcome, result, attempts,
         max_attempts, errors, tags, meta, created_at, run_at, started_at)
       SELECT id, queue, task, payload, priority, $2, $3::jsonb, attempts, max_attempts, errors, tags,
         meta, created_at, run_at, started_at FROM d WHERE $5::bool)
     SELECT pg_notify('queue:done', $4) FROM d WHERE d.waited AND $4::text IS NOT NULL`,
    [id, outcome, JSON.stringify(result), payload, keep],
  );
}

/** Resolves once waitFor() has marked job `id` (its row has `waited` set). */
const marked = (id: string) =>
  until(`job ${id} marked waited`, async () => {
    const [row] = await db.query('SELECT waited FROM queue.jobs WHERE id = $1', [id]);
    return row?.waited === true;
  });

const settled = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, error }),
  );

async function connect(): Promise<pg.Client> {
  const client = new pg.Client(db.url);
  await client.connect();
  return client;
}

describe('waitFor', () => {
  it('resolves with the result once the job is finished and notified, by id or by Job', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const [a, b] = await queue.enqueueMany([
      { task: 't', payload: 1 },
      { task: 't', payload: 2 },
    ]);
    const byJob = queue.waitFor(a!);
    const byId = queue.waitFor<{ sum: number }>(BigInt(b!.id));
    await Promise.all([marked(a!.id), marked(b!.id)]);
    // Both payload forms: the bare id, and the id with the outcome.
    await finish(a!.id, { result: { sum: 1 } });
    await finish(b!.id, { result: { sum: 2 }, payload: `${b!.id}:completed` });
    expect(await byJob).toEqual({ sum: 1 });
    expect((await byId).sum).toBe(2);
  });

  it('resolves at once for a job already completed, with undefined for a handler that returned nothing', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const [a, b] = await queue.enqueueMany([
      { task: 't', payload: 1 },
      { task: 't', payload: 2 },
    ]);
    await finish(a!.id, { result: [1, 2] });
    await db.query(
      `INSERT INTO queue.job_history (id, queue, task, payload, priority, outcome, result, attempts,
         max_attempts, errors, tags, meta, progress, created_at, run_at, started_at)
       SELECT id, queue, task, payload, priority, 'completed', NULL, attempts,
         max_attempts, errors, tags, meta, progress, created_at, run_at, started_at FROM queue.jobs WHERE id = $1`,
      [b!.id],
    );
    await db.query('DELETE FROM queue.jobs WHERE id = $1', [b!.id]);
    expect(await queue.waitFor(a!.id)).toEqual([1, 2]);
    expect(await queue.waitFor(b!.id)).toBeUndefined();
  });

  it("with a queue that keeps no history: resolves from a '<id>:completed' notification, else not found", async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const [a, b] = await queue.enqueueMany([
      { task: 't', payload: 1 },
      { task: 't', payload: 2 },
    ]);
    const first = queue.waitFor(a!.id);
    const second = settled(queue.waitFor(b!.id));
    await Promise.all([marked(a!.id), marked(b!.id)]);
    await finish(a!.id, { keep: false, payload: `${a!.id}:completed` });
    await finish(b!.id, { keep: false });
    expect(await first).toBeUndefined();
    expect(await second).toMatchObject({ ok: false, error: expect.any(JobNotFoundError) });
    await expect(queue.waitFor(a!.id)).rejects.toThrow(JobNotFoundError);
  });

  it('rejects with JobFailedError, carrying the job, once it failed for good', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const job = await queue.enqueue('t', null);
    const waiting = queue.waitFor<never>(job.id).catch((e: any) => e);
    await marked(job.id);
    await db.query(
      `WITH f AS (UPDATE queue.jobs SET failed_at = now(), attempts = 3, errors = jsonb_build_array(
         jsonb_build_object('attempt', 3, 'at', now(), 'message', 'Error: boom')) WHERE id = $1 RETURNING id)
       SELECT pg_notify('queue:done', id::text || ':failed') FROM f`,
      [job.id],
    );
    const error = await waiting;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ code: 'QUEUE_JOB_FAILED', jobId: job.id, lastError: 'Error: boom' });
    expect(error.job).toMatchObject({ id: job.id, attempts: 3, failedAt: expect.any(Date) });
    expect(error.message).toBe(
      `job ${job.id} (task "t") failed for good after 3 attempts: Error: boom; run it again with retryJob() and wait again`,
    );
    // Already failed when the wait begins: at once.
    await expect(queue.waitFor(job.id)).rejects.toThrow(JobFailedError);
  });

  it('rejects with JobCancelledError when the job is cancelled', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const job = await queue.enqueue('t', null);
    const waiting = settled(queue.waitFor(job.id));
    await marked(job.id);
    await queue.cancelJob(job.id);
    expect(await waiting).toMatchObject({ ok: false, error: { name: 'JobCancelledError', jobId: job.id } });
    await expect(queue.waitFor(job.id)).rejects.toThrow(JobCancelledError);
  });

  it('waits through the enqueuing transaction: resolves after its commit and the finish', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const client = await connect();
    try {
      await client.query('BEGIN');
      const job = await queue.enqueue('t', null, { client });
      const [{ xid }] = (await client.query('SELECT pg_current_xact_id()::text AS xid')).rows;
      setEnqueueXid(job, xid);
      const waiting = settled(queue.waitFor(job));
      // Invisible for now: neither found nor refused. Let it poll a few times (50, 100, 200 ms).
      const early = await Promise.race([waiting, new Promise((r) => setTimeout(() => r('pending'), 400))]);
      expect(early).toBe('pending');
      await client.query('COMMIT');
      await marked(job.id);
      await finish(job.id, { result: 'done' });
      expect(await waiting).toEqual({ ok: true, value: 'done' });
    } finally {
      await client.end();
    }
  });

  it('rejects with JobRolledBackError once the enqueuing transaction rolls back', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const client = await connect();
    try {
      await client.query('BEGIN');
      const job = await queue.enqueue('t', null, { client });
      const [{ xid }] = (await client.query('SELECT pg_current_xact_id()::text AS xid')).rows;
      const waiting = queue.waitFor<never>(setEnqueueXid(job, xid)).catch((e: any) => e);
      await client.query('ROLLBACK');
      const t0 = performance.now();
      const error = await waiting;
      // Polls back off to at most 1 s.
      expect(performance.now() - t0).toBeLessThan(1_500);
      expect(error).toBeInstanceOf(JobRolledBackError);
      expect(error).toMatchObject({ code: 'QUEUE_JOB_ROLLED_BACK', jobId: job.id, xid });
      expect(error.message).toBe(
        `the transaction that enqueued job ${job.id} (xid ${xid}) rolled back, so the job does not exist ` +
          'and will not run; enqueue it again in a transaction that commits',
      );
    } finally {
      await client.end();
    }
  });

  it('rejects on timeout and on abort, and the job carries on', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const job = await queue.enqueue('t', null);
    const error = await queue.waitFor<never>(job.id, { timeout: 100 }).catch((e: any) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ code: 'QUEUE_WAIT_TIMEOUT', jobId: job.id, timeoutMs: 100 });
    const controller = new AbortController();
    const aborted = queue.waitFor<never>(job.id, { signal: controller.signal }).catch((e: any) => e);
    controller.abort(new Error('no longer needed'));
    expect((await aborted).message).toBe('no longer needed');
    await expect(queue.waitFor(job.id, { signal: AbortSignal.abort('gone') })).rejects.toBe('gone');
    expect(await db.query('SELECT count(*)::int AS n FROM queue.jobs')).toEqual([{ n: 1 }]);
  });

  it('shares one connection between many waits, and re-checks them all after losing it', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const jobs = await queue.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ task: 't', payload: i })));
    const waits = jobs.map((j) => queue.waitFor(j.id));
    // Two waits on one job: both settle.
    waits.push(queue.waitFor(jobs[0]!.id));
    await Promise.all(jobs.map((j) => marked(j.id)));
    const sessions = await db.query(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'queue-waits' AND datname = current_database()`,
    );
    expect(sessions.length).toBe(1);
    // Half finish with a notification; the others without one, as if it had been sent while the
    // connection was gone. Only the look after the reconnect finds those.
    for (const j of jobs.slice(0, 25)) await finish(j.id, { result: Number(j.payload) });
    for (const j of jobs.slice(25)) await finish(j.id, { result: Number(j.payload), payload: null });
    await db.query('SELECT pg_terminate_backend($1)', [sessions[0].pid]);
    const results = await Promise.all(waits);
    expect(results).toEqual([...jobs.map((_, i) => i), 0]);
  });

  it('close() rejects pending waits with WaitClosedError; later calls throw QueueClosedError', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const job = await queue.enqueue('t', null);
    const waiting = queue.waitFor<never>(job.id).catch((e: any) => e);
    await marked(job.id);
    await queue.close();
    const error = await waiting;
    expect(error).toBeInstanceOf(WaitClosedError);
    expect(error).toBeInstanceOf(QueueClosedError);
    expect(error.message).toBe(
      `waitFor(): the queue was closed while waiting for job ${job.id}; the job itself is not affected`,
    );
    await expect(queue.waitFor(job.id)).rejects.toThrow(QueueClosedError);
    const left = await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'queue-waits'`);
    expect(left).toEqual([]);
  });

  it('refuses bad input by name', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    await expect(queue.waitFor('abc')).rejects.toThrow(InvalidOptionError);
    await expect(queue.waitFor('1', { timeout: 0 })).rejects.toThrow(/invalid option timeout/);
    await expect(queue.waitFor('1', { signal: 'x' as never })).rejects.toThrow(/invalid option signal/);
    await expect(queue.waitFor('999999')).rejects.toThrow(JobNotFoundError);
  });
});
