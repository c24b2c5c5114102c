import { Queue, silentLogger } from '@queue/core';
import { nextEvent, parseExposition, sampleValue, useTestDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createQueueMetrics, type QueueMetrics } from '../src/index.js';

/**
 * A worker whose database session ends under a running job (pg_terminate_backend, as in a
 * failover): the lock loss is counted by code, and the job runs again and is counted again.
 */
const db = useTestDatabase();
let queue: Queue<any>;
let metrics: QueueMetrics;
let admin: pg.Client;
let release: (() => void) | undefined;
let runs = 0;

beforeAll(async () => {
  queue = new Queue({
    connectionString: db.url,
    logger: silentLogger,
    tasks: {
      hold: async (_p: unknown, { signal }: { signal: AbortSignal }) => {
        runs += 1;
        if (runs > 1) return;
        // The first attempt waits until its lock is lost (the worker aborts it).
        await new Promise<void>((resolve) => {
          release = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
      },
    },
  });
  metrics = createQueueMetrics({ queue, databaseMaxAgeMs: 0 });
  admin = new pg.Client(db.url);
  await admin.connect();
});
afterAll(async () => {
  release?.();
  metrics?.close();
  await queue?.close();
  await admin?.end();
});

it('counts a lost lock by its code, and the attempt that runs again', async () => {
  const worker = queue.worker({ concurrency: 1 });
  metrics.observe(worker);
  await worker.start();
  try {
    const started = nextEvent(worker, 'started');
    await queue.enqueue('hold', {});
    await started;
    const lost = nextEvent<Error>(worker, 'error');
    await admin.query('SELECT pg_terminate_backend($1)', [worker.backendPids.claimer]);
    expect(((await lost) as { code?: string }).code).toBe('QUEUE_LOCK_LOST');
    const s = await waitFor('the job to run again and complete', async () => {
      const s = parseExposition((await metrics.scrape()).body);
      return sampleValue(s, 'queue_jobs_completed_total', { task: 'hold' }) === 1 ? s : undefined;
    });
    expect(sampleValue(s, 'queue_worker_errors_total', { code: 'QUEUE_LOCK_LOST' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sampleValue(s, 'queue_jobs_started_total', { task: 'hold' })).toBe(2);
  } finally {
    await worker.stop();
  }
});
