import { hostname } from 'node:os';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, type Job, type Worker } from '../src/index.js';
import { captureLogger, spawnFixture, useProcessCleanup } from './faults/process-kit.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();

/** Rows of the workers table, live or not, by id. */
async function rows(): Promise<{ id: string; pid: number; backend_pid: number }[]> {
  return db.query('SELECT id, pid, backend_pid FROM queue.workers ORDER BY started_at');
}

interface Ready {
  pid: number;
  id: string;
  backendPid: number;
}

async function spawnWorker(env: Record<string, string> = {}) {
  const proc = await spawnFixture('presence-worker.ts', { env: { DATABASE_URL: db.url, ...env } });
  const ready = JSON.parse(proc.lines.find((l) => l.startsWith('ready '))!.slice(6)) as Ready;
  return { proc, ready };
}

describe('live workers', () => {
  it('a worker registers at start, with its host, Node pid, backend pid, queues and tasks; gone at stop', async () => {
    const queue = makeQueue({ tasks: { send: async () => {}, build: async () => {} } });
    expect(await queue.workers()).toEqual([]);
    const worker = await startWorker(queue, { queues: { default: 3, crm: 1 } });
    const [live, ...others] = await queue.workers();
    expect(others).toEqual([]);
    expect(live).toEqual({
      id: worker.id,
      host: hostname(),
      pid: process.pid,
      backendPid: worker.backendPids.claimer,
      queues: { default: 3, crm: 1 },
      tasks: ['send', 'build'],
      startedAt: expect.any(Date),
    });
    await worker.stop();
    expect(await queue.workers()).toEqual([]);
    expect(await rows()).toEqual([]);
  });

  it('refuses to start on a schema without the workers table, saying to migrate', async () => {
    const queue = makeQueue({ schema: 'unmigrated_workers', tasks: { send: async () => {} } });
    await queue.migrate();
    await db.query('DROP TABLE unmigrated_workers.workers');
    const worker = queue.worker({ startupTimeout: 0 });
    await expect(worker.start()).rejects.toThrow(
      expect.objectContaining({
        code: 'QUEUE_CONFIG',
        message: expect.stringMatching(/has no workers table .*run queue\.migrate\(\)/),
      }),
    );
  });

  it('registers again after its claimer session is lost, with the new backend pid', async () => {
    const queue = makeQueue({ tasks: { send: async () => {} } });
    const worker = await startWorker(queue);
    worker.on('error', () => {});
    const before = worker.backendPids.claimer!;
    const [first] = await queue.workers();
    await db.query('SELECT pg_terminate_backend($1)', [before]);
    const [again] = await waitFor('the worker to register its new session', async () => {
      const live = await queue.workers();
      return live.length === 1 && live[0]!.backendPid !== before ? live : undefined;
    });
    expect(again).toMatchObject({ id: worker.id, backendPid: worker.backendPids.claimer });
    expect(again!.startedAt).toEqual(first!.startedAt);
    expect(await rows()).toHaveLength(1);
    await worker.stop();
  });

  it('a SIGKILLed worker process is not live the moment Postgres ends its session, and is pruned', async () => {
    const queue = makeQueue({ tasks: { send: async () => {} } });
    const { proc, ready } = await spawnWorker();
    const live = await queue.workers();
    expect(live).toEqual([
      expect.objectContaining({ id: ready.id, pid: proc.pid, backendPid: ready.backendPid }),
    ]);

    const killedAt = performance.now();
    proc.child.kill('SIGKILL');
    await proc.exited;
    // No heartbeat to miss: the marker lock goes with the session, as soon as Postgres reads the closed socket.
    await waitFor('the killed worker to drop out', async () => (await queue.workers()).length === 0, {
      timeoutMs: 5_000,
    });
    const goneMs = performance.now() - killedAt;
    process.stdout.write(
      `[workers] SIGKILLed worker no longer live ${goneMs.toFixed(0)} ms after the kill\n`,
    );
    // Its row is still there, dead, until a worker prunes it: the next one to start does.
    expect((await rows()).map((r) => r.id)).toEqual([ready.id]);
    const worker = await startWorker(queue);
    expect((await rows()).map((r) => r.id)).toEqual([worker.id]);
    await worker.stop();
  });

  it('runningJobs() names the host and Node pid of the worker process running each job', async () => {
    const producer = makeQueue();
    const { proc, ready } = await spawnWorker({ QUEUES: 'default' });
    const job = await producer.enqueue('hold', { n: 1 });
    const [running] = await waitFor('the job to run in the worker process', async () => {
      const r = await producer.runningJobs();
      return r.length === 1 ? r : undefined;
    });
    expect(running).toMatchObject({
      id: job.id,
      backendPid: ready.backendPid,
      pid: ready.backendPid,
      worker: { id: ready.id, host: hostname(), pid: proc.pid, applicationName: 'queue-claimer' },
    });
    expect(proc.pid).not.toBe(process.pid);
    proc.child.kill('SIGKILL');
    await proc.exited;
    await waitFor('the lock to go', async () => (await producer.runningJobs()).length === 0);
    await producer.deleteJob(job.id);
  });
});

describe('jobs nobody will run', () => {
  it('reports a job of an unknown task and one on a queue nobody serves, until a worker serves them', async () => {
    const worker1 = makeQueue({ tasks: { known: async () => {} } });
    const producer = makeQueue(); // no task map: enqueues any task name
    await startWorker(worker1, { queues: ['default'] });
    const mystery = await producer.enqueue('mystery', null);
    const elsewhere = await producer.enqueue('known', null, { queue: 'nobody' });
    await producer.enqueue('mystery', null, { delay: 3_600_000 }); // scheduled: not due, not reported
    await db.query(`UPDATE queue.jobs SET run_at = now() - interval '3 minutes' WHERE id = $1`, [mystery.id]);

    const expected = [
      {
        queue: 'default',
        task: 'mystery',
        count: 1,
        reason: 'task-unknown',
        message: 'no live worker knows task "mystery" on queue "default"',
        oldestDueAt: expect.any(Date),
        waitedMs: expect.any(Number),
      },
      {
        queue: 'nobody',
        task: 'known',
        count: 1,
        reason: 'queue-not-served',
        message: 'no live worker serves queue "nobody"',
        oldestDueAt: expect.any(Date),
        waitedMs: expect.any(Number),
      },
    ];
    const found = await producer.unroutedJobs();
    expect(found).toEqual(expected);
    expect(found[0]!.waitedMs).toBeGreaterThanOrEqual(180_000);
    expect(found[0]!.waitedMs).toBeLessThan(240_000);
    // Only the job due for 3 minutes has waited past a 60 s grace.
    expect((await producer.unroutedJobs({ graceMs: 60_000 })).map((u) => u.task)).toEqual(['mystery']);
    const counts = await producer.jobCounts();
    expect(counts.unrouted).toEqual(expected);
    expect(counts.queues.map((q) => [q.queue, q.unrouted])).toEqual([
      ['default', 1],
      ['nobody', 1],
    ]);
    expect(await producer.unroutedReason('default', 'mystery')).toEqual({
      reason: 'task-unknown',
      message: 'no live worker knows task "mystery" on queue "default"',
    });
    expect(await producer.unroutedReason('default', 'known')).toBeNull();
    await expect(producer.unroutedJobs({ graceMs: -1 })).rejects.toThrow(InvalidOptionError);

    // A worker that serves both starts; its handlers hold the jobs, so they stay due (running).
    const hold = gate();
    const worker2 = makeQueue({ tasks: { mystery: () => hold.opened, known: () => hold.opened } });
    const w2 = await startWorker(worker2, { queues: ['default', 'nobody'] });
    const started = new Set<string>();
    const both = new Promise<void>((resolve) =>
      w2.on('started', (e: { job: Job }) => {
        started.add(e.job.id);
        if (started.has(mystery.id) && started.has(elsewhere.id)) resolve();
      }),
    );
    expect(await producer.unroutedJobs()).toEqual([]);
    expect(await producer.unroutedReason('nobody', 'known')).toBeNull();
    await both;
    expect(await producer.unroutedJobs()).toEqual([]);
    expect((await producer.jobCounts()).queues.every((q) => q.unrouted === 0)).toBe(true);
    hold.open();
  });

  it('logs one warning per check across two workers, for jobs due longer than the grace period', async () => {
    const interval = 500;
    const loggers = [captureLogger(), captureLogger()];
    const producer = makeQueue();
    const stuck = await producer.enqueue('syncCrm', null);
    await db.query(`UPDATE queue.jobs SET run_at = now() - interval '3 minutes' WHERE id = $1`, [stuck.id]);
    await producer.enqueue('known', null, { queue: 'nobody' }); // due just now: within the 30 s grace
    const workers: Worker[] = [];
    for (const logger of loggers) {
      const queue = makeQueue({ tasks: { known: async () => {} } });
      workers.push(
        await startWorker(queue, { queues: ['default'], unroutedCheckInterval: interval, logger }),
      );
    }
    const warnings = () =>
      loggers
        .flatMap((l, worker) => l.lines.map((line) => ({ ...line, worker })))
        .filter((l) => l.msg.startsWith('jobs nobody will run'))
        .sort((a, b) => a.at - b.at);
    const since = performance.now();
    await waitFor('three checks', () => warnings().length >= 3, { timeoutMs: 30_000 });
    // The worker that has been checking stops: the other one takes the checks over.
    const leader = warnings()[0]!.worker;
    await workers[leader]!.stop();
    const handover = warnings().length;
    await waitFor('two more checks', () => warnings().length >= handover + 2, { timeoutMs: 30_000 });
    const elapsed = performance.now() - since;
    const lines = warnings();
    expect(lines.slice(handover).map((l) => l.worker)).toEqual([1 - leader, 1 - leader]);
    for (const l of lines) {
      expect(l.level).toBe('warn');
      expect(l.msg).toBe(
        'jobs nobody will run: 1 due job of task "syncCrm" on queue "default" (no live worker knows task "syncCrm" on queue "default"); oldest due 3 min ago',
      );
      expect(l.fields).toMatchObject({ queue: 'default', task: 'syncCrm', count: 1, reason: 'task-unknown' });
    }
    // One line per check: a second worker logging the same check would follow within milliseconds.
    const gaps = lines.slice(1).map((l, i) => l.at - lines[i]!.at);
    process.stdout.write(
      `[workers] ${lines.length} warnings in ${elapsed.toFixed(0)} ms from workers ${lines.map((l) => l.worker).join(',')} (worker ${leader} stopped after ${handover}); gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms\n`,
    );
    expect(Math.min(...gaps)).toBeGreaterThan(interval * 0.5);
    expect(lines.length).toBeLessThanOrEqual(Math.ceil((performance.now() - since) / (interval * 0.9)) + 1);
  });

  it('refuses a bad unroutedCheckInterval by name', () => {
    const queue = makeQueue({ tasks: { known: async () => {} } });
    expect(() => queue.worker({ unroutedCheckInterval: 10 })).toThrow(/unroutedCheckInterval/);
  });
});
