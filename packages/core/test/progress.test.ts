import { setTimeout as delay } from 'node:timers/promises';
import { nextEvent, recordingLogger, useTestDatabase } from '@queue/test-utils';
import type pg from 'pg';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, type Job } from '../src/index.js';
import { encodeProgress, InvalidProgressError, MAX_PROGRESS_BYTES } from '../src/progress.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

type ProgressEvent = { job: Job; progress: unknown };

// Every write that reaches a row, counted by Postgres itself: an UPDATE that names the
// progress column fires this trigger once per row it changes (a fenced write changes none). The
// claim's UPDATE also names the column (it clears the last attempt's value): NULL stays NULL there.
beforeAll(async () => {
  await db.query(`
    CREATE TABLE progress_writes (job bigint, progress jsonb, at timestamptz DEFAULT clock_timestamp());
    CREATE FUNCTION record_progress_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO progress_writes (job, progress) VALUES (NEW.id, NEW.progress); RETURN NEW; END $$;
    CREATE TRIGGER record_progress_write AFTER UPDATE OF progress ON queue.jobs
      FOR EACH ROW WHEN (NEW.progress IS NOT NULL) EXECUTE FUNCTION record_progress_write();`);
});

beforeEach(async () => {
  await db.query('TRUNCATE progress_writes');
});

const writes = (job: string) =>
  db.query<{ progress: unknown }>('SELECT progress FROM progress_writes WHERE job = $1 ORDER BY at', [job]);
/** Counts the progress UPDATEs sent through a pool, whether or not they change a row. */
function countProgressStatements(pool: pg.Pool): { count: number } {
  const sent = { count: 0 };
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    if (text?.includes('SET progress')) sent.count++;
    return query(...args);
  }) as typeof pool.query;
  return sent;
}

const stored = async (job: string) =>
  (await db.query('SELECT progress FROM queue.jobs WHERE id = $1', [job]))[0]?.progress;

describe('ctx.progress()', () => {
  it('is visible through runningJobs() while the handler runs, and emitted once written', async () => {
    const reported = gate();
    const finish = gate();
    const queue = makeQueue({
      tasks: {
        resize: async (_: null, ctx) => {
          await ctx.progress({ done: 3, of: 10, step: 'thumbnails' });
          reported.open();
          await finish.opened;
        },
        idle: async () => finish.opened,
      },
    });
    const worker = await startWorker(queue);
    const event = nextEvent<ProgressEvent>(worker, 'progress');
    const quiet = await queue.enqueue('idle', null);
    const job = await queue.enqueue('resize', null);
    await reported.opened;
    const running = await queue.runningJobs();
    expect(running.find((r) => r.id === job.id)?.progress).toEqual({ done: 3, of: 10, step: 'thumbnails' });
    expect(running.find((r) => r.id === quiet.id)?.progress).toBeNull();
    const e = await event;
    expect(e.job.id).toBe(job.id);
    expect(e.progress).toEqual({ done: 3, of: 10, step: 'thumbnails' });
    finish.open();
    await worker.stop();
  });

  it('throttles a chatty handler to about one write per interval, ending with the last value', async () => {
    const CALLS = 100_000;
    const BATCHES = 100;
    const looped = gate();
    const finish = gate();
    let elapsed = 0;
    const queue = makeQueue({
      tasks: {
        chatty: async (_: null, ctx) => {
          const start = performance.now();
          // 100,000 calls over ~2 s: tight bursts of 1,000, with the event loop turning between
          // them as a handler doing real work would.
          for (let b = 0; b < BATCHES; b++) {
            for (let i = 0; i < CALLS / BATCHES; i++) void ctx.progress(b * (CALLS / BATCHES) + i + 1);
            await delay(18);
          }
          elapsed = performance.now() - start;
          looped.open();
          await finish.opened;
        },
      },
    });
    const sent = countProgressStatements(queue.pool);
    const worker = await startWorker(queue, { progressInterval: 1_000 });
    const events: ProgressEvent[] = [];
    worker.on('progress', (e) => events.push(e));
    const job = await queue.enqueue('chatty', null);
    // The trailing write after the loop carries the last value.
    const last = nextEvent<ProgressEvent>(worker, 'progress', (e) => e.progress === CALLS);
    await looped.opened;
    await last;
    const rows = await writes(job.id);
    // One at once, then one per interval (the last one after the loop): 3 for a loop of under
    // 2 s, 4 for one that the load on the machine stretched past 2 s.
    expect(rows.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1_000) + 1);
    expect(sent.count).toBe(rows.length);
    expect(rows[0]!.progress).toBe(1);
    expect(rows.at(-1)!.progress).toBe(CALLS);
    expect(await stored(job.id)).toBe(CALLS);
    expect(events.map((e) => e.progress)).toEqual(rows.map((r) => r.progress));
    console.info(`progress: ${CALLS} calls over ${Math.round(elapsed)} ms made ${rows.length} writes`);
    finish.open();
    await worker.stop();
  });

  it('writes the value still held by the throttle before the job is finished', async () => {
    const queue = makeQueue({
      tasks: {
        // Fails after reporting, so that the row stays (retried a minute later) to be read.
        stepThenFail: {
          backoff: () => 60_000,
          handler: async (_: null, ctx) => {
            await ctx.progress(1);
            await ctx.progress('step 2'); // held: the next write may only go a minute later
            throw new Error('boom');
          },
        },
      },
    });
    const worker = await startWorker(queue, { progressInterval: 60_000 });
    const retried = nextEvent(worker, 'retried');
    const job = await queue.enqueue('stepThenFail', null);
    await retried;
    expect((await writes(job.id)).map((r) => r.progress)).toEqual([1, 'step 2']);
    expect(await stored(job.id)).toBe('step 2');
    await worker.stop();
  });

  it('throws InvalidProgressError at once for a bad value and writes nothing', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: [string, unknown][] = [
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['undefined', undefined],
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
      ['a BigInt', 10n],
      ['a circular object', cyclic],
      ['NaN inside', { pct: Number.NaN }],
      ['\\u0000', 'a\u0000b'],
      ['a lone surrogate', { '\ud800': 1 }],
      ['over the limit', 'x'.repeat(MAX_PROGRESS_BYTES)],
    ];
    const caught: [string, unknown][] = [];
    const queue = makeQueue({
      tasks: {
        reporter: async (_: null, ctx) => {
          for (const [what, value] of bad) {
            try {
              void ctx.progress(value as never);
              caught.push([what, 'no error']);
            } catch (error) {
              caught.push([what, error]);
            }
          }
        },
      },
    });
    const worker = await startWorker(queue);
    const completed = nextEvent(worker, 'completed');
    const job = await queue.enqueue('reporter', null);
    await completed;
    expect(caught.map(([w]) => w)).toEqual(bad.map(([w]) => w));
    for (const [what, error] of caught) {
      expect(error, what).toBeInstanceOf(InvalidProgressError);
      expect((error as InvalidProgressError).code).toBe('QUEUE_INVALID_PROGRESS');
      expect((error as Error).message).toContain('task "reporter"');
      expect((error as Error).message).toContain(`at most ${MAX_PROGRESS_BYTES} bytes`);
    }
    expect((caught.at(-1)![1] as Error).message).toContain(`it is ${MAX_PROGRESS_BYTES + 2} bytes as JSON`);
    expect(await writes(job.id)).toEqual([]);
    await worker.stop();
  });

  it('does not fail the job when a write fails, and warns once per attempt', async () => {
    await db.query(`
      CREATE FUNCTION refuse_progress() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'progress writes are refused by this test'; END $$;
      CREATE TRIGGER refuse_progress BEFORE UPDATE OF progress ON queue.jobs
        FOR EACH ROW WHEN (NEW.progress IS NOT NULL) EXECUTE FUNCTION refuse_progress();`);
    try {
      const log = recordingLogger();
      const settled: unknown[] = [];
      const queue = makeQueue({
        tasks: {
          reporter: async (_: null, ctx) => {
            settled.push(await ctx.progress(1).then(() => 'resolved'));
            void ctx.progress(2); // held, then tried again at the end: fails again
            return 'done';
          },
        },
      });
      const worker = await startWorker(queue, { logger: log.logger, progressInterval: 60_000 });
      const completed = nextEvent<{ job: Job }>(worker, 'completed');
      const job = await queue.enqueue('reporter', null);
      expect((await completed).job.id).toBe(job.id);
      expect(settled).toEqual(['resolved']);
      const warnings = log.lines.filter((l) => /could not write its progress/.test(l.msg));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.level).toBe('warn');
      expect(warnings[0]!.msg).toContain(`job ${job.id} (task reporter)`);
      expect(warnings[0]!.msg).toContain('progress writes are refused by this test');
      expect(warnings[0]!.fields).toMatchObject({ jobId: job.id, task: 'reporter', attempt: 1 });
      await worker.stop();
    } finally {
      await db.query('DROP TRIGGER refuse_progress ON queue.jobs; DROP FUNCTION refuse_progress()');
    }
  });

  it('does not fail the job nor crash the process when the connection of a write is terminated', async () => {
    // The write's own backend is terminated in the middle of its UPDATE.
    await db.query(`
      CREATE FUNCTION kill_progress_writer() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.progress = '"die"' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
        RETURN NEW; END $$;
      CREATE TRIGGER kill_progress_writer BEFORE UPDATE OF progress ON queue.jobs
        FOR EACH ROW EXECUTE FUNCTION kill_progress_writer();`);
    try {
      const log = recordingLogger();
      const queue = makeQueue({
        tasks: {
          reporter: async (_: null, ctx) => {
            await ctx.progress('die');
            // Held by the throttle, then written as the job ends, on a connection that works.
            await ctx.progress('alive');
          },
        },
      });
      const worker = await startWorker(queue, { logger: log.logger, progressInterval: 60_000 });
      const completed = nextEvent<{ job: Job }>(worker, 'completed');
      const job = await queue.enqueue('reporter', null);
      expect((await completed).job.id).toBe(job.id);
      const warnings = log.lines.filter((l) => /could not write its progress/.test(l.msg));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/terminat/i);
      expect((await writes(job.id)).map((r) => r.progress)).toEqual(['alive']);
      await worker.stop();
    } finally {
      await db.query('DROP TRIGGER kill_progress_writer ON queue.jobs; DROP FUNCTION kill_progress_writer()');
    }
  });

  it('is fenced: an attempt whose job was claimed again writes nothing', async () => {
    const first = gate();
    const tampered = gate();
    const queue = makeQueue({
      tasks: {
        stale: {
          backoff: () => 60_000,
          handler: async (_: null, ctx) => {
            await ctx.progress('mine');
            first.open();
            await tampered.opened;
            await ctx.progress('stale'); // held, and sent as the job ends: fenced
            throw new Error('keep the row for the test');
          },
        },
      },
    });
    const sent = countProgressStatements(queue.pool);
    const worker = await startWorker(queue, { progressInterval: 60_000 });
    const events: ProgressEvent[] = [];
    worker.on('progress', (e) => events.push(e));
    const retried = nextEvent(worker, 'retried');
    const job = await queue.enqueue('stale', null);
    await first.opened;
    // As if another worker had claimed the job since: this attempt's claim count is stale.
    await db.query('UPDATE queue.jobs SET claims = claims + 1 WHERE id = $1', [job.id]);
    tampered.open();
    await retried;
    expect(await stored(job.id)).toBe('mine');
    expect((await writes(job.id)).map((r) => r.progress)).toEqual(['mine']);
    expect(events.map((e) => e.progress)).toEqual(['mine']);
    // Both were sent; the second changed nothing.
    expect(sent.count).toBe(2);
    await worker.stop();
  });

  it('checks progressInterval like the other worker options', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    for (const bad of [0, 5, 1.5, -1, '1000', Number.NaN]) {
      expect(() => queue.worker({ progressInterval: bad as number }), String(bad)).toThrow(
        InvalidOptionError,
      );
    }
    expect(() => queue.worker({ progressInterval: 0 })).toThrow(
      'invalid option progressInterval: must be an integer from 10 to 2147483647, got 0',
    );
  });
});

describe('encodeProgress', () => {
  it('stores numbers, strings, booleans, arrays and objects as JSON; null clears', () => {
    expect(encodeProgress('t', 42.5)).toBe('42.5');
    expect(encodeProgress('t', -0)).toBe('0');
    expect(encodeProgress('t', 'half way')).toBe('"half way"');
    expect(encodeProgress('t', true)).toBe('true');
    expect(encodeProgress('t', [1, 2])).toBe('[1,2]');
    expect(encodeProgress('t', { at: new Date(0), skip: undefined })).toBe(
      '{"at":"1970-01-01T00:00:00.000Z"}',
    );
    expect(encodeProgress('t', null)).toBeNull();
  });

  it('measures the limit in bytes of JSON', () => {
    // A JSON string of exactly the limit: the quotes count.
    expect(encodeProgress('t', 'x'.repeat(MAX_PROGRESS_BYTES - 2))).toHaveLength(MAX_PROGRESS_BYTES);
    expect(() => encodeProgress('t', 'x'.repeat(MAX_PROGRESS_BYTES - 1))).toThrow(InvalidProgressError);
    // 3 bytes each in UTF-8: 341 of them and the quotes make 1025 bytes.
    expect(() => encodeProgress('t', '€'.repeat(341))).toThrow(/it is 1025 bytes as JSON/);
    expect(encodeProgress('t', '€'.repeat(340))).toBeTypeOf('string');
  });

  it('names what is wrong', () => {
    expect(() => encodeProgress('t', { a: [1, () => 2] })).toThrow(/property "1" is a function/);
    expect(() => encodeProgress('t', { n: 1n })).toThrow(/property "n" is a BigInt/);
    expect(() => encodeProgress('t', Number.NaN)).toThrow(/invalid progress from task "t": it is NaN;/);
    expect(() => encodeProgress('t', 'a\u0000')).toThrow(/it contains a \\u0000 character/);
    expect(() => encodeProgress('t', { 'k\u0000': 1 })).toThrow(/it contains a \\u0000 character/);
    expect(() => encodeProgress('t', 'a\ud800')).toThrow(/a lone UTF-16 surrogate/);
  });
});
