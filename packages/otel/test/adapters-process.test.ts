// Issue 16's trace test: one HTTP request through each adapter, in a server process that only
// enqueues, and the job run by a separate worker process. Each process has its own in-memory
// exporter; the server answers its spans over HTTP, the worker sends its own over IPC. The
// test is the client: it sends a traceparent, and every span must be in that trace.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanJson } from './tracing.js';

const db = useTestDatabase();
const cwd = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
const children: ChildProcess[] = [];

function start(name: string, env: Record<string, string>): ChildProcess {
  const child = fork(fixture(name), [], {
    cwd,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: db.url, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return child;
}

/** The worker's report of each completed job (all its finished spans by then), by job id. */
const reports = new Map<string, { spans: Promise<SpanJson[]>; resolve: (spans: SpanJson[]) => void }>();
function report(jobId: string) {
  let r = reports.get(jobId);
  if (!r) {
    let resolve!: (spans: SpanJson[]) => void;
    const spans = new Promise<SpanJson[]>((res) => {
      resolve = res;
    });
    r = { spans, resolve };
    reports.set(jobId, r);
  }
  return r;
}
beforeAll(async () => {
  const worker = start('worker', {});
  worker.on('message', (m: { completed?: string; spans?: SpanJson[] }) => {
    if (m.completed) report(m.completed).resolve(m.spans!);
  });
  await once(worker, 'message');
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe.each(['express', 'fastify', 'nest'])('a request through %s, a job in another process', (adapter) => {
  let baseUrl: string;
  beforeAll(async () => {
    const server = start('server', { ADAPTER: adapter });
    const [{ port }] = (await once(server, 'message')) as [{ port: number }];
    baseUrl = `http://127.0.0.1:${port}`;
  });

  it('one trace: client → POST /signup → enqueue → two attempts of the job, each linked to the enqueue', async () => {
    // The client's own span, as a traced caller would send it.
    const traceId = hex(16);
    const clientSpanId = hex(8);
    const res = await fetch(`${baseUrl}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${clientSpanId}-01` },
      body: JSON.stringify({ email: `${adapter}@example.com` }),
    });
    expect(res.status).toBe(201);
    const { jobId } = (await res.json()) as { jobId: string };
    const serverSpans = (await (await fetch(`${baseUrl}/spans`)).json()) as SpanJson[];

    const http = serverSpans.find((s) => s.name === 'POST /signup')!;
    expect(http).toMatchObject({ kind: SpanKind.SERVER, traceId, parentSpanId: clientSpanId });
    const enqueue = serverSpans.find((s) => s.name === 'enqueue welcome')!;
    expect(enqueue).toMatchObject({
      kind: SpanKind.PRODUCER,
      traceId,
      parentSpanId: http.spanId,
      attributes: {
        'messaging.system': 'queue',
        'messaging.operation.type': 'send',
        'messaging.destination.name': 'default',
        'messaging.message.id': jobId,
        'messaging.queue.task': 'welcome',
      },
    });

    const workerSpans = await report(jobId).spans;
    const runs = workerSpans
      .filter((s) => s.name === 'run welcome' && s.attributes['messaging.message.id'] === jobId)
      .sort(
        (a, b) =>
          Number(a.attributes['messaging.queue.attempt']) - Number(b.attributes['messaging.queue.attempt']),
      );
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run).toMatchObject({
        kind: SpanKind.CONSUMER,
        traceId,
        parentSpanId: enqueue.spanId,
        links: [{ traceId, spanId: enqueue.spanId }],
        attributes: { 'messaging.operation.type': 'process', 'messaging.destination.name': 'default' },
      });
    }
    expect(runs[0]).toMatchObject({
      attributes: {
        'messaging.queue.attempt': 1,
        'messaging.queue.outcome': 'retrying',
        'error.type': 'Error',
      },
      status: { code: SpanStatusCode.ERROR, message: `mail server busy for ${adapter}@example.com` },
    });
    expect(runs[1]).toMatchObject({
      attributes: { 'messaging.queue.attempt': 2, 'messaging.queue.outcome': 'completed' },
      status: { code: SpanStatusCode.UNSET },
    });
    // The handler's own span is a child of its attempt's span.
    const mail = workerSpans.filter(
      (s) => s.name === 'send welcome mail' && s.parentSpanId === runs[1]!.spanId,
    );
    expect(mail).toHaveLength(1);
    expect(mail[0]!.traceId).toBe(traceId);

    // The context stays with the job: in its history row, searchable by meta.
    const [row] = await db.query('SELECT meta FROM queue.job_history WHERE id = $1', [jobId]);
    expect(row.meta).toEqual({ trace: { traceparent: `00-${traceId}-${enqueue.spanId}-01` } });
  });
});
