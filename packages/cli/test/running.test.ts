// `queue running` and `queue show` of a running job: the progress a handler in this test
// process reported, and the worker that holds the job.
import { hostname } from 'node:os';
import { type Job, Queue, silentLogger, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../src/context.js';
import { run } from '../src/run.js';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue<any>;
let worker: Worker;
const releases: (() => void)[] = [];
/** Two running jobs: one that reported progress (task 'step'), one that did not ('quiet'). */
let step: Job;
let quiet: Job;

beforeAll(async () => {
  queue = new Queue({
    connectionString: db.url,
    logger: silentLogger,
    tasks: {
      step: async (_p: unknown, ctx: { progress(v: unknown): Promise<void> }) => {
        await ctx.progress({ of: 10, done: 3, stage: 'copying' });
        await new Promise<void>((resolve) => releases.push(resolve));
      },
      quiet: async () => new Promise<void>((resolve) => releases.push(resolve)),
    },
  });
  worker = queue.worker({ queues: ['rq', 'rq-2'], pollInterval: 50 });
  await worker.start();
  const progressed = nextEvent(worker, 'progress');
  const started = nextEvent(worker, 'started', ({ job }: { job: Job }) => job.task === 'quiet');
  step = await queue.enqueue(
    'step',
    { file: 'a' },
    { queue: 'rq', tags: ['vip', 'eu'], meta: { customer: 7 } },
  );
  quiet = await queue.enqueue('quiet', null, { queue: 'rq-2' });
  await Promise.all([progressed, started]);
});
afterAll(async () => {
  for (const r of releases) r();
  await queue.close();
  await expectNoAdvisoryLocks(db);
});

describe('queue running', () => {
  it('lists running jobs with their progress as JSON, and filters by queue and task', async () => {
    const r = await queueCli(['running', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    const jobs = JSON.parse(r.stdout) as { id: string; progress: unknown; worker: { id: string } }[];
    expect(jobs.map((j) => j.id).sort()).toEqual([step.id, quiet.id].sort());
    const s = jobs.find((j) => j.id === step.id)!;
    expect(s.progress).toEqual({ of: 10, done: 3, stage: 'copying' });
    expect(s.worker.id).toBe(worker.id);
    expect(jobs.find((j) => j.id === quiet.id)!.progress).toBeNull();

    const byQueue = JSON.parse((await queueCli(['running', '--queue', 'rq-2', '--json'], env())).stdout);
    expect(byQueue.map((j: Job) => j.id)).toEqual([quiet.id]);
    const byTask = JSON.parse((await queueCli(['running', '--task', 'step', '--json'], env())).stdout);
    expect(byTask.map((j: Job) => j.id)).toEqual([step.id]);
  });

  it('prints tab-separated lines when piped, and a table on a terminal', async () => {
    const r = await queueCli(['running', '--queue', 'rq'], env());
    expect(r.code, r.stderr).toBe(0);
    const fields = r.stdout.trimEnd().split('\t');
    expect(fields).toHaveLength(7);
    expect(fields[0]).toBe(step.id);
    expect(fields.slice(1, 4)).toEqual(['rq', 'step', '1/25']);
    expect(fields[4]).toMatch(/^\d+$/);
    expect(fields[5]).toBe(`${hostname()}:${process.pid}`);
    expect(JSON.parse(fields[6]!)).toEqual({ of: 10, done: 3, stage: 'copying' });

    let out = '';
    const ctx: CliContext = {
      env: env(),
      cwd: process.cwd(),
      out: (t) => (out += `${t}\n`),
      err: () => {},
      isTTY: true,
      columns: 200,
    };
    expect(await run(['running', '--task', 'step'], ctx)).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +QUEUE +TASK +ATTEMPT +RUNNING FOR +WORKER +PROGRESS$/);
    expect(lines[1]).toContain('{"of":10,"done":3,"stage":"copying"}');
    out = '';
    expect(await run(['running', '--queue', 'nobody-here'], ctx)).toBe(0);
    expect(out).toBe('no job is running\n');
  });

  it('shows the progress, tags and meta of a running job, and the worker holding it', async () => {
    const r = await queueCli(['show', step.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}state {7}running$/m);
    expect(r.stdout).toMatch(/^ {2}tags {8}vip, eu$/m);
    expect(r.stdout).toMatch(/^ {2}progress {4}\{"of":10,"done":3,"stage":"copying"\}$/m);
    expect(r.stdout).toContain(`  worker      ${hostname()}, pid ${process.pid} (${worker.id})\n`);
    expect(r.stdout).toMatch(/^ {2}backend pid \d+$/m);
    expect(r.stdout).toContain('  meta\n    {\n      "customer": 7\n    }\n');

    const json = JSON.parse((await queueCli(['show', step.id, '--json'], env())).stdout);
    expect(json).toMatchObject({
      state: 'running',
      tags: ['vip', 'eu'],
      meta: { customer: 7 },
      progress: { of: 10, done: 3, stage: 'copying' },
      worker: { id: worker.id, host: hostname(), nodePid: process.pid },
    });
  });

  it('shows that a cancel was asked for a running job whose handler has not stopped yet', async () => {
    // 'quiet' ignores its signal: it runs on after the cancel, until released.
    expect((await queue.cancelJob(quiet.id)).state).toBe('cancelling');
    const r = await queueCli(['show', quiet.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}cancelling {2}asked at \d{4}-.*Z \(.* ago\); its worker aborts it$/m);
    const json = JSON.parse((await queueCli(['show', quiet.id, '--json'], env())).stdout);
    expect(Number.isNaN(Date.parse(json.cancelRequestedAt))).toBe(false);
    const listed = JSON.parse((await queueCli(['running', '--task', 'quiet', '--json'], env())).stdout);
    expect(listed[0].cancelRequestedAt).toBe(json.cancelRequestedAt);
  });

  it('exits 2 for a bad command line', async () => {
    const cases: [string[], string][] = [
      [['x'], 'running takes no arguments, got "x"'],
      [['--limit', '0'], '--limit must be a whole number from 1 to 10000'],
      [['--queue', ''], '--queue must be a name'],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(['running', ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
    }
  });
});
