// `queue cancel` run as a process: a queued job leaves the queue recorded 'cancelled', a job a
// real worker in this test process runs has its handler's signal aborted, and a bulk cancel
// takes --yes.
import { type Job, Queue, silentLogger, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
/** Enqueues any task (it has no task map); `runner` runs the 'hold' task. */
let queue: Queue;
let runner: Queue<any>;
let worker: Worker;

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  runner = new Queue({
    connectionString: db.url,
    logger: silentLogger,
    tasks: {
      // Runs until its signal is aborted, then throws the reason (a cancel's JobCancelledError).
      hold: async (_payload: unknown, { signal }: { signal: AbortSignal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    },
  });
  worker = runner.worker({ queues: ['cq-run'], pollInterval: 50 });
  await worker.start();
});
afterAll(async () => {
  await runner.close();
  await queue.close();
  await expectNoAdvisoryLocks(db);
});

const history = (id: string) =>
  db.query<{ outcome: string }>('SELECT outcome FROM queue.job_history WHERE id = $1', [id]);

describe('queue cancel', () => {
  it('cancels queued jobs by id: gone from the queue, recorded cancelled', async () => {
    const a = await queue.enqueue('t', {}, { queue: 'cq' });
    const b = await queue.enqueue('t', {}, { queue: 'cq', delay: 60_000 });
    const r = await queueCli(['cancel', a.id, b.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`cancelled job ${a.id}\ncancelled job ${b.id}\n`);
    expect((await queue.getJob(a.id))?.state).toBe('cancelled');
    expect(await history(b.id)).toEqual([{ outcome: 'cancelled' }]);
  });

  it("aborts a running job's handler in the worker that holds it, and prints cancelling", async () => {
    const job = await queue.enqueue('hold', null, { queue: 'cq-run' });
    await nextEvent(worker, 'started', ({ job: j }: { job: Job }) => j.id === job.id);
    const cancelled = nextEvent<{ job: Job; error: Error & { code?: string } }>(
      worker,
      'cancelled',
      ({ job: j }) => j.id === job.id,
    );
    const r = await queueCli(['cancel', job.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `cancelling job ${job.id}: it is running; its worker was told to abort it ('queue wait ${job.id}' tells the outcome)\n`,
    );
    expect((await cancelled).error.code).toBe('QUEUE_JOB_CANCELLED');
  });

  it('exits 4 for an unknown job and 5 for a finished one, going on to the other ids', async () => {
    const failed = await queue.enqueue('t', {}, { queue: 'cq' });
    await db.query('UPDATE queue.jobs SET failed_at = now(), attempts = 1 WHERE id = $1', [failed.id]);
    const done = await queue.enqueue('t', {}, { queue: 'cq' });
    expect((await queueCli(['cancel', done.id], env())).code).toBe(0);
    const ok = await queue.enqueue('t', {}, { queue: 'cq' });

    const r = await queueCli(['cancel', '987654321', failed.id, done.id, ok.id], env());
    expect(r.code).toBe(4); // the first failure's code
    expect(r.stdout).toBe(`cancelled job ${ok.id}\n`);
    expect(r.stderr.split('\n')).toEqual([
      'queue: no job with id 987654321',
      `queue: cannot cancel job ${failed.id}: it failed for good; delete it with 'queue delete ${failed.id}' or run it again with 'queue retry ${failed.id}'`,
      `queue: cannot cancel job ${done.id}: it was already cancelled; nothing is left to cancel`,
      '',
    ]);
    const finished = await queueCli(['cancel', done.id], env());
    expect(finished.code).toBe(5);
    await queue.deleteJob(failed.id);
  });

  it('cancels every queued job of a queue and task with --yes, and nothing else', async () => {
    const mine = [
      await queue.enqueue('a', {}, { queue: 'cq-bulk' }),
      await queue.enqueue('a', {}, { queue: 'cq-bulk', delay: 60_000 }),
    ];
    const otherTask = await queue.enqueue('b', {}, { queue: 'cq-bulk' });
    const otherQueue = await queue.enqueue('a', {}, { queue: 'cq-else' });

    const unconfirmed = await queueCli(['cancel', '--queue', 'cq-bulk', '--task', 'a'], env());
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(
      'queue: this cancels every queued job of queue "cq-bulk" and task "a": add --yes to confirm (running jobs are left alone)\n',
    );
    expect((await queue.getJob(mine[0]!.id))?.state).toBe('available');

    const r = await queueCli(['cancel', '--queue', 'cq-bulk', '--task', 'a', '--yes'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('cancelled 2 queued jobs of queue "cq-bulk" and task "a"\n');
    for (const j of mine) expect((await queue.getJob(j.id))?.state).toBe('cancelled');
    expect((await queue.getJob(otherTask.id))?.state).toBe('available');
    expect((await queue.getJob(otherQueue.id))?.state).toBe('available');

    const byTask = await queueCli(['cancel', '--task', 'b', '--yes'], env());
    expect(byTask.stdout).toBe('cancelled 1 queued job of task "b"\n');
  });

  it('exits 2 for a bad command line, before connecting', async () => {
    const cases: [string[], string][] = [
      [[], 'give at least one job id'],
      [['abc'], 'a job id is a positive whole number'],
      [['5', '--queue', 'q', '--yes'], 'give job ids or --queue/--task, not both'],
      [['5', '--yes'], '--yes confirms a bulk cancel'],
      [['--queue', ''], '--queue must be a name of 1 to 128 characters'],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(['cancel', ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
  });
});
