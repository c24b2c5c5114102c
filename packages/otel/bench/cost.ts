// What tracing costs, measured in one process against a real Postgres: single enqueues (16
// concurrent producers) and a drain (jobs queued first, then one worker with no-op handlers),
// each with no instrumentation, with @queue/otel and no SDK (the API's no-op tracer), and with
// @queue/otel and an SDK exporting to memory. Alternating rounds, medians. Besides jobs/s it
// reports this process's CPU time per job (user + system): on a shared machine wall-clock
// rates swing 2-4x between rounds, while CPU per job moves by a few percent. Then the hooks
// alone, with no database: the CPU a span pair adds per job.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx packages/otel/bench/cost.ts [rounds] [modes]
// `modes`: a comma-separated subset (`off` alone runs on a core without the option too);
// `hooks` runs only the hooks-alone part.
import { randomBytes } from 'node:crypto';
import { context, ProxyTracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
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
const only = process.argv[3]?.split(',');
const ENQUEUES = 4_000;
const PRODUCERS = 16;
const DRAIN = 10_000;

const exporter = new InMemorySpanExporter();
const sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const allModes: Record<string, Instrumentation | undefined> = {
  off: undefined,
  'no-sdk': queueInstrumentation({ tracerProvider: new ProxyTracerProvider() }),
  'sdk-memory': queueInstrumentation({ tracerProvider: sdk }),
};
const modes = Object.fromEntries(Object.entries(allModes).filter(([m]) => !only || only.includes(m)));
const requestTracer = sdk.getTracer('bench');

async function admin(sql: string) {
  const c = new pg.Client(server);
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

/** CPU µs of this process since `from` (user + system). */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return d.user + d.system;
};

async function enqueueRate(queue: Queue<any>, traced: boolean): Promise<[number, number]> {
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const producer = async () => {
    while (next++ < ENQUEUES) await queue.enqueue('noop', { n: next });
  };
  const all = () => Promise.all(Array.from({ length: PRODUCERS }, producer));
  // With the SDK, producers enqueue inside a request span, as they would in a traced app.
  if (traced) await requestTracer.startActiveSpan('request', (s) => all().finally(() => s.end()));
  else await all();
  return [ENQUEUES / ((performance.now() - t0) / 1000), cpuSince(c0) / ENQUEUES];
}

async function drainRate(queue: Queue<any>): Promise<[number, number]> {
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
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await worker.start();
  await finished;
  const rate = DRAIN / ((performance.now() - t0) / 1000);
  const cpu = cpuSince(c0) / DRAIN;
  await worker.stop();
  return [rate, cpu];
}

async function truncate(url: string) {
  const c = new pg.Client(url);
  await c.connect();
  await c.query('TRUNCATE queue.jobs, queue.job_history, queue.job_stats, queue.queues');
  await c.end();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, Record<'enqueue' | 'enqueueCpu' | 'drain' | 'drainCpu', number[]>> = {};
const db = `otel_cost_${randomBytes(4).toString('hex')}`;
const dbPart = !(only?.length === 1 && only[0] === 'hooks');
if (dbPart) await admin(`CREATE DATABASE ${db}`);
try {
  const url = withDatabase(server, db);
  if (dbPart) {
    const migrator = new Queue({ connectionString: url, logger: silentLogger });
    await migrator.migrate();
    await migrator.close();
  }
  // Round 0 warms the JIT and the database's caches up, and is not counted.
  for (let round = 0; dbPart && round <= rounds; round++) {
    for (const [mode, instrumentation] of Object.entries(modes)) {
      const queue = new Queue({
        connectionString: url,
        logger: silentLogger,
        tasks: { noop: async () => {} },
        instrumentation,
      });
      results[mode] ??= { enqueue: [], enqueueCpu: [], drain: [], drainCpu: [] };
      const r = results[mode];
      const [e, ec] = await enqueueRate(queue, mode === 'sdk-memory');
      const [d, dc] = await drainRate(queue);
      if (round === 0) {
        await queue.close();
        await truncate(url);
        continue;
      }
      r.enqueue.push(e);
      r.enqueueCpu.push(ec);
      r.drain.push(d);
      r.drainCpu.push(dc);
      await queue.close();
      exporter.reset();
      await truncate(url);
    }
  }
} finally {
  if (dbPart) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
}
if (dbPart) {
  console.log(
    `rounds: ${rounds}; enqueue: ${ENQUEUES} single enqueues by ${PRODUCERS} producers; drain: ${DRAIN} jobs`,
  );
  console.log('mode        enqueue jobs/s  CPU µs/job | drain jobs/s  CPU µs/job   (medians; CPU per round)');
  for (const [mode, r] of Object.entries(results)) {
    const f = (xs: number[]) => median(xs).toFixed(0).padStart(7);
    const g = (xs: number[]) => median(xs).toFixed(1).padStart(7);
    const all = (xs: number[]) => xs.map((x) => x.toFixed(0)).join('/');
    console.log(
      `${mode.padEnd(11)} ${f(r.enqueue)}        ${g(r.enqueueCpu)}    | ${f(r.drain)}       ${g(r.drainCpu)}     ` +
        `(enqueue ${all(r.enqueueCpu)}; drain ${all(r.drainCpu)})`,
    );
  }
}

// The hooks alone: what one enqueue span and one run span cost, with an insert and an attempt
// that do nothing. The least of 5 runs of N each, per job.
if (!only || only.includes('hooks')) {
  const N = 20_000;
  const job = { id: '1', task: 'noop', queue: 'default', attempts: 1, maxAttempts: 25, meta: {} } as never;
  const jobs = [job];
  const insert = async () => jobs;
  const attempt = async () => ({ ok: true as const, final: true as const });
  console.log(`hooks alone, ${N} jobs, least of 5: µs per job (enqueue span + run span)`);
  // The SDK as production runs it: a BatchSpanProcessor (exporting off the job's path).
  const batched = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new InMemorySpanExporter(), { maxQueueSize: 100_000 })],
  });
  const hooks = { ...allModes, 'sdk-batch': queueInstrumentation({ tracerProvider: batched }) };
  for (const [mode, hook] of Object.entries(hooks)) {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      for (let n = 0; n < N; n++) {
        if (hook === undefined) {
          await insert();
          await attempt();
        } else {
          const [stored] = await hook.enqueue(
            { operation: 'enqueue', tasks: ['noop'], transactional: false },
            insert,
          );
          await hook.run(stored!, attempt);
        }
      }
      best = Math.min(best, ((performance.now() - t0) * 1000) / N);
      exporter.reset();
    }
    console.log(`  ${mode.padEnd(11)} ${best.toFixed(2)} µs`);
  }
}
