// `queue stats`: the run-time section (completed, failed attempts, p50/p95 per minute and
// queue) from jobs a real worker in this test process ran.
import { type Job, Queue, silentLogger } from '@queue/core';
import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue<any>;
/** How long each 'work' job runs: the percentiles must come out near it (within a factor of two). */
const RUN_MS = 40;

beforeAll(async () => {
  queue = new Queue({
    connectionString: db.url,
    logger: silentLogger,
    tasks: {
      // A handler that takes a known time: the duration is what is measured, not a wait.
      work: async () => new Promise((resolve) => setTimeout(resolve, RUN_MS)),
      fail: { maxAttempts: 1, handler: async () => Promise.reject(new Error('no')) },
    },
  });
  const worker = queue.worker({ queues: ['sq'], pollInterval: 50 });
  let finished = 0;
  const all = nextEvent(worker, 'completed', () => ++finished === 3);
  const failed = nextEvent(worker, 'failed', ({ job }: { job: Job }) => job.task === 'fail');
  await worker.start();
  for (let i = 0; i < 3; i++) await queue.enqueue('work', null, { queue: 'sq' });
  await queue.enqueue('fail', null, { queue: 'sq' });
  await Promise.all([all, failed]);
  await worker.stop();
});
afterAll(() => queue.close());

describe('queue stats run times', () => {
  it('prints completions, failed attempts and p50/p95 per minute and queue', async () => {
    const r = await queueCli(['stats'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'run times, last 10 minutes (p50/p95 of completed jobs, within a factor of two):\n',
    );
    expect(r.stdout).toMatch(/^MINUTE +QUEUE +COMPLETED +FAILED +P50 +P95$/m);
    // The jobs may straddle a minute boundary: sum the rows of queue 'sq'.
    const rows = [
      ...r.stdout.matchAll(/^\d{4}-\d\d-\d\d \d\d:\d\dZ +sq +(\d+) +(\d+) +([\d.]+) ms +([\d.]+) ms$/gm),
    ];
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.reduce((n, m) => n + Number(m[1]), 0)).toBe(3);
    expect(rows.reduce((n, m) => n + Number(m[2]), 0)).toBe(1);
  });

  it('prints { counts, runTimes } with --json --minutes, and the counts array with --json alone', async () => {
    const r = await queueCli(['stats', '--json', '--minutes', '5'], env());
    expect(r.code, r.stderr).toBe(0);
    const { counts, runTimes } = JSON.parse(r.stdout);
    expect(counts).toContainEqual(expect.objectContaining({ queue: 'sq', failed: 1 }));
    const sq = runTimes.filter((s: { queue: string }) => s.queue === 'sq');
    expect(sq.reduce((n: number, s: { completed: number }) => n + s.completed, 0)).toBe(3);
    for (const s of sq.filter((s: { completed: number }) => s.completed > 0)) {
      expect(s.p50Ms).toBeGreaterThanOrEqual(RUN_MS / 2);
      expect(s.p50Ms).toBeLessThanOrEqual(RUN_MS * 4);
      expect(s.p95Ms).toBeGreaterThanOrEqual(s.p50Ms);
      expect(Number.isNaN(Date.parse(s.minute))).toBe(false);
    }
    const plain = JSON.parse((await queueCli(['stats', '--json'], env())).stdout);
    expect(Array.isArray(plain)).toBe(true);
  });

  it('says when nothing finished in the window, and exits 2 for a bad --minutes', async () => {
    await db.query('DELETE FROM queue.job_stats');
    const r = await queueCli(['stats', '--minutes', '1'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'run times, last minute (p50/p95 of completed jobs, within a factor of two):\n  no job finished or failed\n',
    );
    for (const bad of ['0', '10081', 'ten']) {
      const b = await queueCli(['stats', '--minutes', bad]);
      expect(b.code).toBe(2);
      expect(b.stderr).toBe(`queue: --minutes must be a whole number from 1 to 10080, got "${bad}"\n`);
    }
  });
});
