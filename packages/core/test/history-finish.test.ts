import { nextEvent, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { durationQuantile } from '../src/durations.js';
import { InvalidResultError, type Job } from '../src/index.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

async function historyRow(id: string) {
  const rows = await db.query(
    `SELECT outcome, result, attempts, errors, tags, meta, worker, started_at IS NOT NULL AS started,
       finished_at >= started_at AS ordered
     FROM queue.job_history WHERE id = $1`,
    [id],
  );
  return rows[0];
}

describe('the finish statement keeps history', () => {
  it('moves a completed job to job_history with its result and the worker that ran it', async () => {
    const queue = makeQueue({ tasks: { add: async (p: { a: number; b: number }) => ({ sum: p.a + p.b }) } });
    const worker = await startWorker(queue);
    const done = nextEvent<{ job: Job; result: unknown }>(worker, 'completed');
    const job = await queue.enqueue('add', { a: 2, b: 3 });
    expect((await done).result).toEqual({ sum: 5 });
    await worker.stop();
    expect(await historyRow(job.id)).toEqual({
      outcome: 'completed',
      result: { sum: 5 },
      attempts: 1,
      errors: [],
      tags: [],
      meta: {},
      worker: worker.id,
      started: true,
      ordered: true,
    });
    const [live] = await db.query('SELECT count(*)::int AS n FROM queue.jobs');
    expect(live.n).toBe(0);
  });

  it('stores no result for a handler that returns nothing, and nothing at all for a queue that keeps none', async () => {
    const queue = makeQueue({ tasks: { quiet: async () => {} } });
    await db.query(`INSERT INTO queue.queues (name, keep) VALUES ('lean', '0')`);
    const worker = await startWorker(queue, { queues: ['default', 'lean'] });
    const first = nextEvent(worker, 'completed');
    const kept = await queue.enqueue('quiet', null);
    await first;
    const second = nextEvent(worker, 'completed');
    const dropped = await queue.enqueue('quiet', null, { queue: 'lean' });
    await second;
    await worker.stop();
    expect((await historyRow(kept.id))?.result).toBeNull();
    expect(await historyRow(dropped.id)).toBeUndefined();
    const [live] = await db.query('SELECT count(*)::int AS n FROM queue.jobs');
    expect(live.n).toBe(0);
  });

  it('fails the attempt with InvalidResultError when the result cannot be stored, and retries it', async () => {
    let calls = 0;
    const queue = makeQueue({
      tasks: {
        big: {
          maxAttempts: 2,
          backoff: () => 0,
          handler: async () => (++calls === 1 ? { blob: 'x'.repeat(2_000) } : { ok: true }),
        },
      },
    });
    const worker = await startWorker(queue, { maxResultBytes: 1_000 });
    const retried = nextEvent<{ error: unknown }>(worker, 'retried');
    const done = nextEvent(worker, 'completed');
    const job = await queue.enqueue('big', null);
    const { error } = await retried;
    expect(error).toBeInstanceOf(InvalidResultError);
    expect((error as Error).message).toMatch(/task "big".*over the limit of 1000/);
    await done;
    await worker.stop();
    const row = await historyRow(job.id);
    expect(row.result).toEqual({ ok: true });
    expect(row.attempts).toBe(2);
    expect(row.errors[0].message).toMatch(/InvalidResultError/);
  });

  it('records a job claimed with a cancel request as cancelled, without running it', async () => {
    let ran = false;
    const queue = makeQueue({
      tasks: {
        work: async () => {
          ran = true;
        },
      },
    });
    const job = await queue.enqueue('work', null);
    await db.query('UPDATE queue.jobs SET cancel_requested_at = now() WHERE id = $1', [job.id]);
    const worker = await startWorker(queue);
    const cancelled = await nextEvent<{ job: Job; error: unknown }>(worker, 'cancelled');
    await worker.stop();
    expect(cancelled.job.id).toBe(job.id);
    expect(ran).toBe(false);
    expect((await historyRow(job.id))?.outcome).toBe('cancelled');
  });

  it('announces a waited job on the done channel when it completes and when it fails for good', async () => {
    const queue = makeQueue({
      tasks: {
        ok: async () => 1,
        bad: {
          maxAttempts: 1,
          handler: async () => {
            throw new Error('no');
          },
        },
      },
    });
    const good = await queue.enqueue('ok', null);
    const failing = await queue.enqueue('bad', null);
    const plain = await queue.enqueue('ok', null);
    await db.query('UPDATE queue.jobs SET waited = true WHERE id = ANY($1::bigint[])', [
      [good.id, failing.id],
    ]);
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    const both = new Promise<void>((resolve) => {
      listener.on('notification', (m) => {
        heard.push(m.payload ?? '');
        if (heard.length === 2) resolve();
      });
    });
    await listener.query('LISTEN "queue:done"');
    const g = gate();
    let finished = 0;
    const worker = await startWorker(queue);
    const count = () => {
      if (++finished === 3) g.open();
    };
    worker.on('completed', count);
    worker.on('failed', count);
    await both;
    await g.opened;
    await worker.stop();
    await listener.end();
    expect(heard.sort()).toEqual([`${failing.id}:failed`, `${good.id}:completed`].sort());
    expect(heard.some((h) => h.startsWith(`${plain.id}:`))).toBe(false);
  });

  it('counts completed runs in the per-minute duration histogram', async () => {
    const queue = makeQueue({ tasks: { quick: async () => {} } });
    const worker = await startWorker(queue);
    let left = 20;
    const all = new Promise<void>((resolve) =>
      worker.on('completed', () => {
        if (--left === 0) resolve();
      }),
    );
    await queue.enqueueMany(Array.from({ length: 20 }, () => ({ task: 'quick' as const, payload: null })));
    await all;
    await worker.stop();
    const rows = await db.query(
      'SELECT sum(completed)::int AS completed, array_agg(durations) AS d FROM queue.job_stats',
    );
    expect(rows[0].completed).toBe(20);
    const histogram = (rows[0].d as number[][]).reduce((a, b) => a.map((x, i) => x + (b[i] ?? 0)));
    expect(histogram.reduce((a, b) => a + b, 0)).toBe(20);
    expect(durationQuantile(histogram, 0.5)).not.toBeNull();
    const stats = await queue.jobStats({ minutes: 5 });
    expect(stats.reduce((n, s) => n + s.completed, 0)).toBe(20);
    expect(stats.every((s) => s.completed === 0 || (s.p50Ms !== null && s.p95Ms! >= s.p50Ms))).toBe(true);
  });
});
