// `queue show <id>`, run as a process against jobs a real worker in this test process
// failed or holds.
import { type Job, Queue, silentLogger, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let release: () => void = () => {};
let queue: Queue<any>;
let worker: Worker;

beforeAll(async () => {
  queue = new Queue({
    connection: { connectionString: db.url, application_name: 'show-test-worker' },
    logger: silentLogger,
    tasks: {
      // Fails every attempt, with a stack, and is retried at once.
      flaky: {
        maxAttempts: 2,
        backoff: () => 1,
        handler: async (payload: { n: number }) => {
          throw new Error(`broken number ${payload.n}\nsecond line`);
        },
      },
      // Runs until the test lets it go.
      hold: async () => new Promise<void>((resolve) => (release = resolve)),
    },
  });
  worker = queue.worker({ queues: ['show-q'], pollInterval: 50 });
  await worker.start();
});
afterAll(async () => {
  release();
  await queue.close();
  // A started worker holds a lock of its own, so this is checked once it has stopped.
  await expectNoAdvisoryLocks(db);
});

describe('queue show', () => {
  it('shows an available job in full, and as JSON', async () => {
    const job = await queue.enqueue('flaky', { n: 1 }, { queue: 'elsewhere', priority: 7 });
    const r = await queueCli(['show', job.id], env());
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`job ${job.id}`);
    expect(r.stdout).toMatch(/^ {2}task {8}flaky$/m);
    expect(r.stdout).toMatch(/^ {2}queue {7}elsewhere$/m);
    expect(r.stdout).toMatch(/^ {2}state {7}available$/m);
    expect(r.stdout).toMatch(/^ {2}priority {4}7$/m);
    expect(r.stdout).toMatch(/^ {2}attempts {4}0 of 2$/m);
    expect(r.stdout).toContain(`  run at      ${job.runAt.toISOString()} (`);
    expect(r.stdout).toContain(`  created at  ${job.createdAt.toISOString()} (`);
    expect(r.stdout).toMatch(/^ {2}started at {2}-$/m);
    expect(r.stdout).toMatch(/^ {2}failed at {3}-$/m);
    expect(r.stdout).toContain('  payload\n    {\n      "n": 1\n    }\n');
    expect(r.stdout).toMatch(/^ {2}errors {6}none$/m);

    const json = await queueCli(['show', job.id, '--json'], env());
    expect(json.code).toBe(0);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toEqual({
      ...JSON.parse(JSON.stringify(job)),
      state: 'available',
      progress: null,
      cancelRequestedAt: null,
      worker: null,
    });
    await queue.deleteJob(job.id);
  });

  it("shows a failed job's errors, their stacks with --stack", async () => {
    const job = await queue.enqueue('flaky', { n: 2 }, { queue: 'show-q' });
    const failed = nextEvent(worker, 'failed', ({ job: j }: { job: Job }) => j.id === job.id);
    await failed;
    const r = await queueCli(['show', job.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}state {7}failed$/m);
    expect(r.stdout).toMatch(/^ {2}attempts {4}2 of 2$/m);
    expect(r.stdout).toMatch(/^ {2}failed at {3}\d{4}-\d\d-\d\dT[\d:.]+Z \(.* ago\)$/m);
    expect(r.stdout).toContain('  errors (2)');
    // Each attempt's message; a second line of a message stays under its first.
    expect(r.stdout).toMatch(/^ {4}attempt 1 at \S+: Error: broken number 2\n {6}second line$/m);
    expect(r.stdout).toMatch(/^ {4}attempt 2 at \S+: Error: broken number 2$/m);
    expect(r.stdout).not.toMatch(/^\s+at .*show\.test\.ts/m);
    expect(r.stdout).toContain('(--stack shows the stack traces)');

    const stacks = await queueCli(['show', job.id, '--stack'], env());
    expect(stacks.code).toBe(0);
    expect(stacks.stdout.match(/^ {10}at .*show\.test\.ts/gm)?.length).toBeGreaterThanOrEqual(2);

    const json = JSON.parse((await queueCli(['show', job.id, '--json'], env())).stdout);
    expect(json.state).toBe('failed');
    expect(json.errors.map((e: { attempt: number }) => e.attempt)).toEqual([1, 2]);
    expect(json.errors[0].stack).toContain('show.test.ts');
    await queue.deleteJob(job.id);
  });

  it('shows the worker session holding a running job', async () => {
    const job = await queue.enqueue('hold', null, { queue: 'show-q' });
    await nextEvent(worker, 'started', ({ job: j }: { job: Job }) => j.id === job.id);
    const [session] = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'show-test-worker'
         AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')`,
      [db.name],
    );
    expect(session).toBeDefined();
    try {
      const r = await queueCli(['show', job.id], env());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ {2}state {7}running$/m);
      expect(r.stdout).toMatch(/^ {2}attempts {4}1 of 25$/m);
      expect(r.stdout).toMatch(new RegExp(`^ {2}backend pid ${session!.pid}$`, 'm'));
      expect(r.stdout).toMatch(/^ {2}worker app {2}show-test-worker$/m);
      expect(r.stdout).toMatch(/^ {2}worker addr {1}(127\.0\.0\.1|::1)$/m);
      expect(r.stdout).toMatch(/^ {2}running for {1}\d+(\.\d)? (ms|s)$/m);

      const json = JSON.parse((await queueCli(['show', job.id, '--json'], env())).stdout);
      expect(json.state).toBe('running');
      expect(json.worker).toMatchObject({ pid: session!.pid, applicationName: 'show-test-worker' });
      expect(json.worker.runningMs).toBeGreaterThanOrEqual(0);
    } finally {
      const done = nextEvent(worker, 'completed', ({ job: j }: { job: Job }) => j.id === job.id);
      release();
      await done;
    }
  });

  it('exits 4 for an unknown job and 2 for a bad id', async () => {
    const unknown = await queueCli(['show', '987654321'], env());
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toBe(
      "queue: no job with id 987654321 (a finished job is found only while its queue's retention keeps it)\n",
    );
    expect(unknown.stdout).toBe('');
    const bad = await queueCli(['show', 'abc'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"abc"');
    const two = await queueCli(['show', '1', '2'], env());
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('give one job id');
  });

  it('exits 3 with one line when the database cannot be reached', async () => {
    const r = await queueCli(['show', '1'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope' });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('queue: cannot connect to the database (127.0.0.1:1/nope): connection refused\n');
  });
});
