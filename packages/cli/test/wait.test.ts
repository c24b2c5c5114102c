// `queue wait <id>` run as a process against jobs a real worker in this test process runs:
// the result on stdout, and an exit code per way a job (or the wait) can end.
import { type Job, Queue, silentLogger, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase, waitFor } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli, startCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
/** Enqueues any task; `runner` runs the tasks below on queue 'wq'. */
let queue: Queue;
let runner: Queue<any>;
let worker: Worker;
let release: () => void = () => {};

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  runner = new Queue({
    connectionString: db.url,
    logger: silentLogger,
    tasks: {
      echo: async (payload: { n: number }) => ({ doubled: payload.n * 2, note: 'line\nbreak' }),
      // Returns once the test lets it go.
      gate: async () => {
        await new Promise<void>((resolve) => (release = resolve));
        return 'let go';
      },
      boom: {
        maxAttempts: 1,
        handler: async () => {
          throw new Error('the printer\nis on fire');
        },
      },
    },
  });
  worker = runner.worker({ queues: ['wq'], pollInterval: 50 });
  await worker.start();
});
afterAll(async () => {
  release();
  await runner.close();
  await queue.close();
  await expectNoAdvisoryLocks(db);
});

const finished = (event: 'completed' | 'failed', id: string) =>
  nextEvent(worker, event, ({ job }: { job: Job }) => job.id === id);

describe('queue wait', () => {
  it('waits for a running job to complete and prints its result as one line of JSON', async () => {
    const job = await queue.enqueue('gate', null, { queue: 'wq' });
    await nextEvent(worker, 'started', ({ job: j }: { job: Job }) => j.id === job.id);
    const w = startCli(['wait', job.id], env());
    // The wait has marked the row: the finish will notify it (no polling by the CLI).
    await waitFor('the wait to mark the job', async () => {
      const [row] = await db.query('SELECT waited FROM queue.jobs WHERE id = $1', [job.id]);
      return row?.waited === true;
    });
    release();
    const r = await w.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('"let go"\n');
    expect(r.stderr).toBe('');
  });

  it('prints the result of a job that completed before the wait, from the history', async () => {
    const job = await queue.enqueue('echo', { n: 21 }, { queue: 'wq' });
    await finished('completed', job.id);
    const r = await queueCli(['wait', job.id, '--timeout', '10000'], env());
    expect(r.code, r.stderr).toBe(0);
    // One line (jsonb keeps its own key order).
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(r.stdout)).toEqual({ doubled: 42, note: 'line\nbreak' });
  });

  it('exits 6 with the last error on one line when the job fails for good', async () => {
    const job = await queue.enqueue('boom', null, { queue: 'wq' });
    await finished('failed', job.id);
    const r = await queueCli(['wait', job.id], env());
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `queue: job ${job.id} (task "boom") failed for good after 1 attempt: Error: the printer is on fire ` +
        `(run it again with 'queue retry ${job.id}'; 'queue show ${job.id}' shows every error)\n`,
    );
  });

  it('exits 7 for a cancelled job and 8 when --timeout passes first', async () => {
    // No worker serves 'wq-idle': the job waits there until cancelled.
    const job = await queue.enqueue('echo', { n: 1 }, { queue: 'wq-idle' });
    const timedOut = await queueCli(['wait', job.id, '--timeout', '200'], env());
    expect(timedOut.code).toBe(8);
    expect(timedOut.stderr).toBe(
      `queue: job ${job.id} did not finish within 200 ms; it was not cancelled and may still finish: wait again, or give a longer --timeout\n`,
    );
    expect(await queue.getJob(job.id)).not.toBeNull();

    const w = startCli(['wait', job.id], env());
    await waitFor('the wait to mark the job', async () => {
      const [row] = await db.query('SELECT waited FROM queue.jobs WHERE id = $1', [job.id]);
      return row?.waited === true;
    });
    await queue.cancelJob(job.id);
    const r = await w.exited;
    expect(r.code).toBe(7);
    expect(r.stderr).toBe(`queue: job ${job.id} was cancelled\n`);
    // And once more, now from the history.
    expect((await queueCli(['wait', job.id], env())).code).toBe(7);
  });

  it('exits 4 for an unknown job, and 2 for a bad command line', async () => {
    const unknown = await queueCli(['wait', '987654321'], env());
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toBe(
      "queue: no job with id 987654321 (a finished job is found only while its queue's retention keeps it)\n",
    );
    const cases: [string[], string][] = [
      [[], 'give one job id'],
      [['1', '2'], 'give one job id'],
      [['x'], 'a job id is a positive whole number'],
      [['1', '--timeout', '0'], '--timeout must be a whole number from 1 to 2147483647, got "0"'],
      [['1', '--timeout', '1s'], '--timeout must be a whole number from 1 to 2147483647, got "1s"'],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(['wait', ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
    }
  });
});
