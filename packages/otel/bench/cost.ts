// What tracing costs, measured in one process against a real Postgres: single enqueues (16
// concurrent producers) and a drain (jobs queued first, then one worker with no-op handlers),
// each with no instrumentation, with @queue/otel and no SDK (the API's no-op tracer), and with
// @queue/otel and an SDK exporting to memory. Alternating rounds, medians.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx packages/otel/bench/cost.ts [rounds]
import { randomBytes } from 'node:crypto';
import { context, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type Instrumentation, Queue, silentLogger } from '@queue/core';
import { withDatabase } from '@queue/dev-postgres';
import pg from 'pg';
import { queueInstrumentation } from '../src/index.js';

const server = process.env.DATABASE_URL;
if (!server) throw new Error('set DATABASE_URL to a Postgres server (a database is created and dropped)');
const rounds = Number(process.argv[2] ?? 5);
const ENQUEUES = 4_000;
const PRODUCERS = 16;
const DRAIN = 10_000;

const exporter = new InMemorySpanExporter();
const sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const modes: Record<string, Instrumentation | undefined> = {
  off: undefined,
  'otel, no SDK': queueInstrumentation({ tracerProvider: new ProxyTracerProvider() }),
  'otel, SDK in memory': queueInstrumentation({ tracerProvider: sdk }),
};
const requestTracer = sdk.getTracer('bench');

async function admin(sql: string) {
  const c = new pg.Client(server);
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

async function enqueueRate(queue: Queue<any>, traced: boolean): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const producer = async () => {
    while (next++ < ENQUEUES) await queue.enqueue('noop', { n: next });
  };
  const all = () => Promise.all(Array.from({ length: PRODUCERS }, producer));
  // With the SDK, producers enqueue inside a request span, as they would in a traced app.
  if (traced) await requestTracer.startActiveSpan('request', (s) => all().finally(() => s.end()));
  else await all();
  return ENQUEUES / ((performance.now() - t0) / 1000);
}

async function drainRate(queue: Queue<any>): Promise<number> {
  for (let i = 0; i < DRAIN; i += 1_000) {
    await queue.enqueueMany(Array.from({ length: 1_000 }, (_, n) => ({ task: 'noop', payload: { n } })));
  }
  const worker = queue.worker({ concurrency: 50, pollInterval: 100 });
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    worker.on('completed', () => {
      if (++done === DRAIN) resolve();
    });
  });
  const t0 = performance.now();
  await worker.start();
  await finished;
  const rate = DRAIN / ((performance.now() - t0) / 1000);
  await worker.stop();
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { enqueue: number[]; drain: number[] }> = {};
const db = `otel_cost_${randomBytes(4).toString('hex')}`;
await admin(`CREATE DATABASE ${db}`);
try {
  const url = withDatabase(server, db);
  const migrator = new Queue({ connectionString: url, logger: silentLogger });
  await migrator.migrate();
  await migrator.close();
  for (let round = 0; round < rounds; round++) {
    for (const [mode, instrumentation] of Object.entries(modes)) {
      const queue = new Queue({
        connectionString: url,
        logger: silentLogger,
        tasks: { noop: async () => {} },
        instrumentation,
      });
      const r = (results[mode] ??= { enqueue: [], drain: [] });
      r.enqueue.push(await enqueueRate(queue, mode.includes('SDK in')));
      r.drain.push(await drainRate(queue));
      await queue.close();
      exporter.reset();
      const c = new pg.Client(url);
      await c.connect();
      await c.query('TRUNCATE queue.jobs, queue.job_history, queue.job_stats, queue.queues');
      await c.end();
    }
  }
} finally {
  await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
}
const base = results.off!;
console.log(
  `rounds: ${rounds}; enqueue: ${ENQUEUES} single enqueues by ${PRODUCERS} producers; drain: ${DRAIN} jobs`,
);
for (const [mode, r] of Object.entries(results)) {
  const e = median(r.enqueue);
  const d = median(r.drain);
  const pct = (x: number, b: number) => `${x >= b ? '+' : ''}${(((x - b) / b) * 100).toFixed(1)}%`;
  console.log(
    `${mode.padEnd(22)} enqueue ${e.toFixed(0).padStart(6)} jobs/s (${pct(e, median(base.enqueue))})  ` +
      `drain ${d.toFixed(0).padStart(6)} jobs/s (${pct(d, median(base.drain))})  ` +
      `all enqueue: ${r.enqueue.map((x) => x.toFixed(0)).join(' ')}; all drain: ${r.drain.map((x) => x.toFixed(0)).join(' ')}`,
  );
}
