/**
 * Failed jobs are logged by core, through the worker's logger, so that every adapter and the
 * CLI get them (issue 12, item 5): a retried attempt at warn, a final failure at error, an
 * attempt ended by shutdown at info and one whose lock was lost at warn, each with the job's
 * id, task, queue, attempt and maximum, and the error (message and stack) as `err`.
 */
import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import type { Job, StandardSchemaV1 } from '../src/index.js';
import { captureLogger, type LogLine } from './faults/process-kit.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

type ErrFields = { type: string; message: string; stack?: string; code?: string };
const fieldsOf = (l: LogLine) => l.fields as Record<string, unknown> & { err?: ErrFields };
/** The lines about one job: those whose fields carry its id. */
const about = (lines: LogLine[], id: string) => lines.filter((l) => fieldsOf(l).jobId === id);

describe('failure logs', () => {
  it('logs a retried attempt at warn with its delay, and the final failure at error, with the stack', async () => {
    const logger = captureLogger();
    const queue = makeQueue({
      logger,
      tasks: {
        flaky: {
          maxAttempts: 2,
          backoff: { baseDelay: 30, jitter: false },
          handler: async (_: null, { attempt }) => {
            throw new Error(`boom ${attempt}`);
          },
        },
      },
    });
    const worker = await startWorker(queue);
    const failed = nextEvent<{ job: Job }>(worker, 'failed');
    const job = await queue.enqueue('flaky', null);
    await failed;
    const lines = about(logger.lines, job.id);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
    const [retry, final] = lines as [LogLine, LogLine];

    expect(retry.msg).toMatch(
      new RegExp(`^job ${job.id} \\(task flaky\\) failed attempt 1 of 2; retrying in \\d+ ms$`),
    );
    const r = fieldsOf(retry);
    expect(r).toMatchObject({ jobId: job.id, task: 'flaky', queue: 'default', attempt: 1, maxAttempts: 2 });
    // The delay the database recorded: 30 ms from the backoff, less the time to the next statement.
    expect(r.delayMs).toBeGreaterThanOrEqual(0);
    expect(r.delayMs).toBeLessThanOrEqual(30);
    expect(r.err).toMatchObject({ type: 'Error', message: 'boom 1' });
    expect(r.err!.stack).toMatch(/^Error: boom 1\n\s+at .*failure-logs\.test\.ts/);

    expect(final.msg).toBe(`job ${job.id} (task flaky) failed for good (on attempt 2 of 2)`);
    const f = fieldsOf(final);
    expect(f).toMatchObject({ jobId: job.id, attempt: 2, maxAttempts: 2, permanent: false });
    expect(f).not.toHaveProperty('delayMs');
    expect(f.err).toMatchObject({ type: 'Error', message: 'boom 2' });
    expect(f.err!.stack).toContain('failure-logs.test.ts');
    await worker.stop();
  });

  it('logs a permanent failure (a payload its schema refuses) at error at once, with the error code', async () => {
    const logger = captureLogger();
    const positive: StandardSchemaV1<number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (v) =>
          typeof v === 'number' && v > 0
            ? { value: v }
            : { issues: [{ message: 'must be a positive number' }] },
      },
    };
    const queue = makeQueue({ logger, tasks: { typed: { schema: positive, handler: async () => {} } } });
    const worker = await startWorker(queue);
    const failed = nextEvent<{ job: Job }>(worker, 'failed');
    // From SQL, past the enqueue-time check, as a trigger or another language might.
    const [{ id }] = await db.query(`SELECT queue.enqueue('typed', '-1')::text AS id`);
    await failed;
    const lines = about(logger.lines, id);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('error');
    expect(lines[0]!.msg).toBe(
      `job ${id} (task typed) failed for good (not retried: the failure is permanent)`,
    );
    expect(fieldsOf(lines[0]!)).toMatchObject({
      attempt: 1,
      maxAttempts: 25,
      permanent: true,
      err: { type: 'PayloadValidationError', code: 'QUEUE_PAYLOAD_VALIDATION' },
    });
    await worker.stop();
  });

  it('logs a thrown non-Error by its value', async () => {
    const logger = captureLogger();
    const queue = makeQueue({
      logger,
      tasks: {
        odd: {
          maxAttempts: 1,
          handler: async () => {
            throw 'a string';
          },
        },
      },
    });
    const worker = await startWorker(queue);
    const failed = nextEvent<{ job: Job }>(worker, 'failed');
    const job = await queue.enqueue('odd', null);
    await failed;
    const [line] = about(logger.lines, job.id);
    expect(line!.level).toBe('error');
    expect(fieldsOf(line!).err).toEqual({ type: 'NonError', message: 'non-Error thrown: a string' });
    await worker.stop();
  });

  it('logs an attempt aborted by shutdown at info, not as a failure', async () => {
    const logger = captureLogger();
    const started = gate();
    const queue = makeQueue({
      logger,
      tasks: {
        slow: async (_: null, { signal }) => {
          started.open();
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          throw signal.reason;
        },
      },
    });
    const worker = await startWorker(queue, { shutdownTimeout: 0 });
    const job = await queue.enqueue('slow', null);
    await started.opened;
    await worker.stop();
    const lines = about(logger.lines, job.id);
    expect(lines.map((l) => l.level)).toEqual(['info']);
    expect(lines[0]!.msg).toBe(
      `job ${job.id} (task slow): attempt 1 of 25 was aborted by shutdown; it will run again`,
    );
    expect(fieldsOf(lines[0]!).err).toMatchObject({
      type: 'WorkerStoppingError',
      code: 'QUEUE_WORKER_STOPPING',
    });
    expect(await queue.getJob(job.id)).toMatchObject({ state: 'available', attempts: 1 });
  });

  it('logs a job whose lock was lost at warn, and records nothing for it', async () => {
    const logger = captureLogger();
    const started = gate();
    const queue = makeQueue({
      logger,
      tasks: {
        held: async (_: null, { attempt, signal }) => {
          if (attempt > 1) return;
          started.open();
          // Returns normally once aborted: a result that must not be recorded.
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
        },
      },
    });
    const worker = await startWorker(queue, { pollInterval: 100 });
    const job = await queue.enqueue('held', null);
    await started.opened;
    const rerun = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    await db.query('SELECT pg_terminate_backend($1)', [worker.backendPids.claimer]);
    expect((await rerun).job.attempts).toBe(2);
    const lines = about(logger.lines, job.id);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    expect(lines[0]!.msg).toBe(
      `job ${job.id} (task held) lost its lock during attempt 1; nothing recorded, it will run again`,
    );
    expect(fieldsOf(lines[0]!)).toMatchObject({
      attempt: 1,
      handlerSucceeded: true,
      err: { type: 'LockLostError', code: 'QUEUE_LOCK_LOST' },
    });
    await worker.stop();
  });

  it('logs at error a job whose last attempt was interrupted, found by the claim', async () => {
    const logger = captureLogger();
    const queue = makeQueue({ logger, tasks: { once: { maxAttempts: 1, handler: async () => {} } } });
    const job = await queue.enqueue('once', null);
    // As a worker that died during the job's only attempt left it.
    await db.query('UPDATE queue.jobs SET attempts = 1 WHERE id = $1', [job.id]);
    const worker = queue.worker({ pollInterval: 100 });
    const failed = nextEvent<{ job: Job }>(worker, 'failed');
    await worker.start();
    await failed;
    const lines = about(logger.lines, job.id);
    expect(lines.map((l) => l.level)).toEqual(['error']);
    expect(lines[0]!.msg).toBe(
      `job ${job.id} (task once) failed for good: its last attempt (1 of 1) was interrupted`,
    );
    expect(fieldsOf(lines[0]!).err!.message).toMatch(/^this attempt was interrupted/);
    await worker.stop();
  });
});
