// `queue pause` / `queue resume` against a real worker in this test process: a paused queue
// is seen by `stats --json`, and the worker claims nothing from it until it is resumed.
import { type Job, Queue, silentLogger, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue<any>;
let worker: Worker;

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger, tasks: { t: async () => {} } });
  worker = queue.worker({ queues: ['pq'], pollInterval: 50 });
  await worker.start();
});
afterAll(async () => {
  await queue.close();
  await expectNoAdvisoryLocks(db);
});

const paused = async (name: string) => {
  const r = await queueCli(['stats', '--json'], env());
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { queue: string; paused: boolean }[]).find((c) => c.queue === name)?.paused;
};

/** Resolves after `n` claims from queue `name` that found nothing. */
function emptyClaims(name: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onClaimed = ({ queue: q, count }: { queue: string; count: number }) => {
      if (q !== name || count !== 0 || ++seen < n) return;
      worker.off('claimed', onClaimed);
      resolve();
    };
    worker.on('claimed', onClaimed);
  });
}

describe('queue pause and resume', () => {
  it('stops the worker claiming from a paused queue until it is resumed', async () => {
    const pause = await queueCli(['pause', 'pq'], env());
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toBe('pq: paused; workers claim nothing more from it, running jobs finish\n');
    // No job was ever in 'pq': the CLI says so, in case the name is a typo.
    expect(pause.stderr).toBe('queue: note: no job is in a queue named "pq" (is the name right?)\n');
    expect(await paused('pq')).toBe(true);

    const job = await queue.enqueue('t', null, { queue: 'pq' });
    // Two empty claims after the job was committed: the second began after the first ended,
    // so it saw the job, and left it because the queue is paused.
    await emptyClaims('pq', 2);
    expect(await queue.getJob(job.id)).toMatchObject({ state: 'available', attempts: 0 });

    const again = await queueCli(['pause', 'pq'], env());
    expect(again.stdout).toBe('pq: already paused\n');
    expect(again.stderr).toBe('');

    const completed = nextEvent(worker, 'completed', ({ job: j }: { job: Job }) => j.id === job.id);
    const resume = await queueCli(['resume', 'pq'], env());
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toBe('pq: resumed; workers claim from it again\n');
    await completed;
    expect((await queue.getJob(job.id))?.state).toBe('completed');
    expect(await paused('pq')).toBe(false);

    const notPaused = await queueCli(['resume', 'pq'], env());
    expect(notPaused.stdout).toBe('pq: was not paused\n');
  });

  it('pauses several queues at once, and exits 2 without a name', async () => {
    const r = await queueCli(['pause', 'p1', 'p2'], env());
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(['p1', 'p2']);
    expect(await paused('p1')).toBe(true);
    expect(await paused('p2')).toBe(true);
    expect((await queueCli(['resume', 'p1', 'p2'], env())).code).toBe(0);
    expect(await paused('p2')).toBe(false);
    const none = await queueCli(['pause'], env());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give at least one queue name');
  });

  it('exits 3 with one line when the database cannot be reached', async () => {
    const r = await queueCli(['resume', 'pq'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope' });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('queue: cannot connect to the database (127.0.0.1:1/nope): connection refused\n');
  });
});
