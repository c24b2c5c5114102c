import { ProxyTracerProvider, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  type Job,
  type JobContext,
  Queue,
  type QueueOptions,
  silentLogger,
  type TaskMap,
  withTransaction,
} from '@queue/core';
import { expectNoAdvisoryLocks, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queueInstrumentation, TRACE_META_KEY } from '../src/index.js';
import { installTracing, type SpanJson, toJson } from './tracing.js';

const db = useTestDatabase();
const { exporter, tracer } = installTracing();
const spans = (): SpanJson[] => exporter.getFinishedSpans().map(toJson);
const named = (name: string) => spans().filter((s) => s.name === name);

const open: Queue<any>[] = [];
function makeQueue<M extends TaskMap>(options: Omit<QueueOptions<M>, 'connectionString'>) {
  const queue = new Queue<M>({
    connectionString: db.url,
    logger: silentLogger,
    instrumentation: queueInstrumentation(),
    ...options,
  });
  open.push(queue);
  return queue;
}
async function started<Q extends Queue<any>>(queue: Q): Promise<Q> {
  await queue.worker({ pollInterval: 200, shutdownTimeout: 5_000 }).start();
  return queue;
}
beforeEach(() => exporter.reset());
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
  await expectNoAdvisoryLocks(db);
  await db.query('TRUNCATE queue.jobs, queue.job_history, queue.schedules, queue.tasks');
});
const pool = new pg.Pool({ connectionString: db.url, max: 2 });
afterAll(() => pool.end());

/** Runs `fn` inside a span named `request`, as an HTTP server span would; returns it with fn's value. */
async function inRequest<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; request: { traceId: string; spanId: string } }> {
  return tracer.startActiveSpan('request', async (span) => {
    try {
      return { value: await fn(), request: span.spanContext() };
    } finally {
      span.end();
    }
  });
}

describe('one job', () => {
  it('enqueue span in the caller trace, context in meta, job span parented by and linked to it; the handler runs inside it', async () => {
    const queue = await started(
      makeQueue({
        tasks: {
          email: async (p: { to: string }) => {
            tracer.startSpan('send mail').end();
            return p.to;
          },
        },
      }),
    );
    const { value: job, request } = await inRequest(() => queue.enqueue('email', { to: 'a@b.c' }));
    expect(await queue.waitFor(job)).toBe('a@b.c');

    const [enqueue] = named('enqueue email');
    expect(enqueue).toMatchObject({
      kind: SpanKind.PRODUCER,
      traceId: request.traceId,
      parentSpanId: request.spanId,
      attributes: {
        'messaging.system': 'queue',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'enqueue',
        'messaging.destination.name': 'default',
        'messaging.message.id': job.id,
        'messaging.queue.task': 'email',
        'messaging.queue.transactional': false,
      },
    });
    // The job carries the enqueue span's context, readable in its row (and its history row).
    const [row] = await db.query('SELECT meta FROM queue.job_history WHERE id = $1', [job.id]);
    expect(row.meta[TRACE_META_KEY]).toEqual({ traceparent: `00-${request.traceId}-${enqueue!.spanId}-01` });

    const [run] = named('run email');
    expect(run).toMatchObject({
      kind: SpanKind.CONSUMER,
      traceId: request.traceId,
      parentSpanId: enqueue!.spanId,
      links: [{ traceId: request.traceId, spanId: enqueue!.spanId }],
      attributes: {
        'messaging.system': 'queue',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'run',
        'messaging.destination.name': 'default',
        'messaging.message.id': job.id,
        'messaging.queue.task': 'email',
        'messaging.queue.attempt': 1,
        'messaging.queue.max_attempts': 25,
        'messaging.queue.outcome': 'completed',
      },
      status: { code: SpanStatusCode.UNSET },
    });
    expect(run!.attributes['error.type']).toBeUndefined();
    const [inner] = named('send mail');
    expect(inner).toMatchObject({ traceId: request.traceId, parentSpanId: run!.spanId });
  });

  it('retries: a span per attempt, each with its number and outcome, all under the enqueue', async () => {
    let calls = 0;
    const queue = await started(
      makeQueue({
        tasks: {
          flaky: {
            maxAttempts: 3,
            backoff: () => 0,
            handler: async () => {
              calls++;
              if (calls < 3) throw new TypeError(`boom ${calls}`);
              return 'ok';
            },
          },
        },
      }),
    );
    const { value: job } = await inRequest(() => queue.enqueue('flaky', {}));
    await queue.waitFor(job);
    const [enqueue] = named('enqueue flaky');
    const runs = named('run flaky').sort(
      (a, b) =>
        (a.attributes['messaging.queue.attempt'] as number) -
        (b.attributes['messaging.queue.attempt'] as number),
    );
    expect(
      runs.map((r) => [r.attributes['messaging.queue.attempt'], r.attributes['messaging.queue.outcome']]),
    ).toEqual([
      [1, 'retrying'],
      [2, 'retrying'],
      [3, 'completed'],
    ]);
    for (const r of runs) {
      expect(r.parentSpanId).toBe(enqueue!.spanId);
      expect(r.links).toEqual([{ traceId: enqueue!.traceId, spanId: enqueue!.spanId }]);
    }
    expect(runs[0]).toMatchObject({
      attributes: { 'error.type': 'TypeError' },
      status: { code: SpanStatusCode.ERROR, message: 'boom 1' },
      events: ['exception'],
    });
  });

  it('a last failed attempt: outcome failed; a timeout says so', async () => {
    const queue = await started(
      makeQueue({
        tasks: {
          slow: {
            maxAttempts: 1,
            timeout: 50,
            handler: (_p: unknown, ctx: JobContext) =>
              new Promise((_, reject) =>
                ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
              ),
          },
        },
      }),
    );
    const job = await queue.enqueue('slow', {});
    await expect(queue.waitFor(job)).rejects.toThrow(/failed/);
    const [run] = named('run slow');
    expect(run).toMatchObject({
      attributes: {
        'messaging.queue.outcome': 'failed',
        'messaging.queue.timed_out': true,
        'error.type': 'JobTimeoutError',
      },
      status: { code: SpanStatusCode.ERROR },
    });
    // No active span at the enqueue: the enqueue span is a root, and the job's trace is its.
    const [enqueue] = named('enqueue slow');
    expect(enqueue!.parentSpanId).toBeUndefined();
    expect(run).toMatchObject({ traceId: enqueue!.traceId, parentSpanId: enqueue!.spanId });
  });

  it("a manual retry of a failed job joins the request's trace; listJobs finds the job by its context", async () => {
    let calls = 0;
    const queue = await started(
      makeQueue({
        tasks: {
          once: {
            maxAttempts: 1,
            handler: async () => {
              if (++calls === 1) throw new Error('first run fails');
            },
          },
        },
      }),
    );
    const { value: job, request } = await inRequest(() => queue.enqueue('once', {}));
    await expect(queue.waitFor(job)).rejects.toThrow(/failed/);
    const [enqueue] = named('enqueue once');
    const traceparent = `00-${request.traceId}-${enqueue!.spanId}-01`;
    const found = await queue.listJobs({ meta: { trace: { traceparent } } });
    expect(found.map((j) => j.id)).toEqual([job.id]);

    await queue.retryJob(job.id);
    await queue.waitFor(job);
    const runs = named('run once');
    expect(runs.map((r) => r.attributes['messaging.queue.outcome'])).toEqual(['failed', 'completed']);
    for (const r of runs)
      expect(r).toMatchObject({ traceId: request.traceId, parentSpanId: enqueue!.spanId });
  });
});

describe('batches and transactions', () => {
  it('enqueueMany: one span for the batch, its context stored in every job', async () => {
    const queue = makeQueue({ tasks: { a: async () => {}, b: async () => {} } });
    const { request, value: jobs } = await inRequest(() =>
      queue.enqueueMany([
        { task: 'a', payload: 1 },
        { task: 'a', payload: 2 },
      ]),
    );
    const [batch] = named('enqueueMany a');
    expect(batch).toMatchObject({
      kind: SpanKind.PRODUCER,
      parentSpanId: request.spanId,
      attributes: {
        'messaging.operation.name': 'enqueueMany',
        'messaging.batch.message_count': 2,
        'messaging.destination.name': 'default',
      },
    });
    expect(batch!.attributes['messaging.message.id']).toBeUndefined();
    const traceparent = `00-${request.traceId}-${batch!.spanId}-01`;
    expect(jobs.map((j: Job) => j.meta)).toEqual([{ trace: { traceparent } }, { trace: { traceparent } }]);

    // Tasks that differ: the span is named for the operation alone.
    await queue.enqueueMany([
      { task: 'a', payload: 1 },
      { task: 'b', payload: 2, options: { meta: { tenant: 't1' } } },
    ]);
    const [mixed] = named('enqueueMany');
    expect(mixed!.attributes['messaging.queue.task']).toBeUndefined();
    const rows = await db.query(`SELECT meta FROM queue.jobs WHERE task = 'b'`);
    // The caller's meta stays; the trace context is added beside it.
    expect(rows[0].meta).toMatchObject({
      tenant: 't1',
      trace: { traceparent: expect.stringContaining(mixed!.spanId) },
    });
  });

  it("in the caller's transaction: marked transactional; a rolled-back enqueue leaves its span, not a job", async () => {
    const queue = makeQueue({ tasks: { a: async () => {} } });
    await withTransaction(pool, (client) => queue.enqueue('a', {}, { client }));
    expect(named('enqueue a')[0]!.attributes['messaging.queue.transactional']).toBe(true);
    const failing = withTransaction(pool, async (client) => {
      await queue.enqueueMany([{ task: 'a', payload: 1 }], { client });
      throw new Error('rolled back');
    });
    await expect(failing).rejects.toThrow('rolled back');
    expect(named('enqueueMany a')).toHaveLength(1);
    expect(await db.query('SELECT id FROM queue.jobs')).toHaveLength(1);
  });

  it('a refused enqueue: the span ends with the error, nothing is written', async () => {
    const queue = makeQueue({ tasks: { a: async () => {} } });
    await expect(queue.enqueue('a', {}, { meta: 'nope' as never })).rejects.toThrow(/meta/);
    expect(named('enqueue a')[0]).toMatchObject({
      status: { code: SpanStatusCode.ERROR },
      attributes: { 'error.type': 'InvalidOptionError' },
    });
    expect(await db.query('SELECT id FROM queue.jobs')).toHaveLength(0);
  });
});

describe('schedules and options', () => {
  it("a schedule's job: a trace of its own, named for the schedule and its tick", async () => {
    const queue = await started(
      makeQueue({
        tasks: { report: async () => {} },
        schedules: { nightly: { task: 'report', cron: '0 3 * * *' } },
      }),
    );
    const job = await queue.runScheduleNow('nightly');
    await queue.waitFor(job);
    const [run] = named('run report');
    expect(run).toMatchObject({
      parentSpanId: undefined,
      links: [],
      attributes: {
        'messaging.queue.schedule.name': 'nightly',
        'messaging.queue.schedule.scheduled_at': job.meta.scheduledAt,
        'messaging.queue.schedule.manual': true,
        'messaging.queue.outcome': 'completed',
      },
    });
  });

  it("parent: 'none': each attempt a trace of its own, linked to the enqueue", async () => {
    const queue = await started(
      makeQueue({ tasks: { a: async () => {} }, instrumentation: queueInstrumentation({ parent: 'none' }) }),
    );
    const { value: job, request } = await inRequest(() => queue.enqueue('a', {}));
    await queue.waitFor(job);
    const [enqueue] = named('enqueue a');
    const [run] = named('run a');
    expect(run!.parentSpanId).toBeUndefined();
    expect(run!.traceId).not.toBe(request.traceId);
    expect(run!.links).toEqual([{ traceId: request.traceId, spanId: enqueue!.spanId }]);
  });

  it('without the option, or with no SDK recording, nothing is added to the job', async () => {
    const plain = makeQueue({ tasks: { a: async () => {} }, instrumentation: undefined });
    const { value: job } = await inRequest(() => plain.enqueue('a', {}));
    expect(job.meta).toEqual({});
    expect(named('enqueue a')).toHaveLength(0);
    const noop = makeQueue({
      tasks: { a: async () => {} },
      // A proxy provider with no SDK behind it: the API's state when none is installed.
      instrumentation: queueInstrumentation({ tracerProvider: new ProxyTracerProvider() }),
    });
    expect((await noop.enqueue('a', {})).meta).toEqual({});
  });

  it('refuses a bad option by name', () => {
    expect(() => makeQueue({ instrumentation: {} as never })).toThrow(/instrumentation must be an object/);
    expect(() => queueInstrumentation({ parent: 'x' as never })).toThrow(
      /parent must be 'enqueue' or 'none'/,
    );
  });
});
