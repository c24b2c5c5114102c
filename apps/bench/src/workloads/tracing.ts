import { Queue, silentLogger } from '@queue/core';
import pg from 'pg';
import { now } from '../clock.js';
import { startTracing, TRACING_MODES, type Tracing, type TracingMode } from '../peers/queue-tracing.js';
import { PRODUCER_POOL, TASK } from '../peers/types.js';
import { payloads, timedDrain, type Workload, type WorkloadContext } from './common.js';

const NAMES: Record<TracingMode, string> = { off: 'Off', simple: 'Simple', batch: 'Batch' };
/** Rotates the modes' order from one round to the next, so drift in the machine's load hits each alike. */
let rounds = 0;

/**
 * @queue with and without OpenTelemetry tracing (issue 16: "tracing off must cost nothing
 * measurable; tracing on with the in-memory exporter is measured"), in one run and database:
 * the enqueue workload's single enqueues (16 producers) and the drain workload (bulk-filled,
 * one worker process), each with no `instrumentation` option (`off`), with @queue/otel and
 * a SimpleSpanProcessor exporting to an InMemorySpanExporter (`simple`), and with the same
 * exporter behind a BatchSpanProcessor (`batch`). Tracing is on in both processes: the
 * producers' enqueue spans here, the job spans in the worker process. The exporters' span
 * counts are checked (one enqueue span per single enqueue, one `enqueueMany` span per fill
 * batch, one run span per job) and the exporter emptied after each measurement.
 */
export const tracingWorkload: Workload = {
  name: 'tracing',
  title: 'enqueue and drain with tracing off / on',
  unsupported: (peer) => (peer.name === 'queue' ? undefined : '@queue only (@queue/otel)'),
  async run(ctx) {
    const order = TRACING_MODES.map((_, k) => TRACING_MODES[(k + rounds) % TRACING_MODES.length]!);
    rounds++;
    const metrics: Record<string, number> = {};
    const notes: string[] = [];
    let expected = 0;
    let processed = 0;
    let spansMissing = 0;
    for (const mode of order) {
      const tracing = mode === 'off' ? undefined : startTracing(mode);
      const pool = new pg.Pool({ connectionString: ctx.target.databaseUrl, max: PRODUCER_POOL });
      const queue = new Queue({ pool, logger: silentLogger, instrumentation: tracing?.instrumentation });
      const name = NAMES[mode];
      try {
        const single = await enqueueRate(ctx, queue, tracing);
        metrics[`enqueue${name}PerSec`] = (single.jobs / single.ms) * 1000;
        metrics[`enqueue${name}CpuMsPer1kJobs`] = (single.cpuMs / single.jobs) * 1000;
        expected += single.jobs;
        processed += await ctx.client.pending();
        spansMissing += await checkSpans(tracing, single.jobs, `${mode}: enqueue spans`, notes);

        const { jobs } = ctx.sizes.drain;
        await ctx.client.reset();
        const batches = await fill(queue, jobs);
        spansMissing += await checkSpans(tracing, batches, `${mode}: enqueueMany spans`, notes);
        const out = await timedDrain(ctx, jobs, ctx.sizes.drainCapSeconds * 1000, mode);
        const done = out.complete ? jobs : out.started;
        metrics[`drain${name}PerSec`] = (done / out.elapsedMs) * 1000;
        metrics[`drain${name}CpuMsPer1kJobs`] = (out.child.cpuMs / Math.max(1, out.child.count)) * 1000;
        metrics[`drain${name}PeakRssMb`] = out.child.maxRssKb / 1024;
        if (out.dbCpuMs !== undefined) {
          metrics[`drain${name}DbCpuMsPer1kJobs`] = (out.dbCpuMs / Math.max(1, done)) * 1000;
        }
        if (mode !== 'off' && out.child.spans !== out.child.count) {
          spansMissing += Math.abs(out.child.count - (out.child.spans ?? 0));
          notes.push(`${mode}: ${out.child.spans} run spans for ${out.child.count} jobs`);
        }
        expected += out.complete ? jobs : out.started;
        processed += out.complete ? out.child.count - out.child.duplicates : out.started;
        if (!out.complete) notes.push(`${mode}: ${out.started} of ${jobs} jobs within the drain cap`);
      } finally {
        await queue.close();
        await pool.end();
        await tracing?.stop();
      }
    }
    for (const m of ['enqueue', 'drain'] as const) {
      for (const mode of ['simple', 'batch'] as const) {
        // Throughput traced over throughput off: 0.9 is 10% fewer jobs/s with tracing.
        metrics[`${m}${NAMES[mode]}VsOff`] = metrics[`${m}${NAMES[mode]}PerSec`]! / metrics[`${m}OffPerSec`]!;
      }
    }
    metrics.spansMissing = spansMissing;
    return { metrics, expected, processed, notes: notes.length ? notes : undefined };
  },
};

/** The enqueue workload's producers, on this queue; CPU is the bench process's. */
async function enqueueRate(ctx: WorkloadContext, queue: Queue, tracing: Tracing | undefined) {
  const { enqueue } = ctx.sizes;
  await ctx.client.reset();
  // Warm the pool's connections and the statement's plan, then start from an empty table.
  await Promise.all(
    Array.from({ length: enqueue.producers * 2 }, (_, i) => queue.enqueue(TASK, { t: now(), i })),
  );
  await ctx.client.reset();
  if (tracing) {
    await tracing.spans();
    tracing.clear();
  }
  let next = 0;
  let done = 0;
  const deadline = now() + enqueue.capSeconds * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  await Promise.all(
    Array.from({ length: enqueue.producers }, async () => {
      for (let i = next++; i < enqueue.jobs && now() < deadline; i = next++) {
        await queue.enqueue(TASK, { t: now(), i });
        done++;
      }
    }),
  );
  const ms = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, jobs: done, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The drain's jobs, in batches of 1,000 through this queue (so traced jobs carry their context). */
async function fill(queue: Queue, jobs: number): Promise<number> {
  let batches = 0;
  for (let from = 0; from < jobs; from += 1_000) {
    await queue.enqueueMany(
      payloads(from, Math.min(1_000, jobs - from)).map((payload) => ({ task: TASK, payload })),
    );
    batches++;
  }
  return batches;
}

/** Compares the exporter's span count with what was expected, then empties it. */
async function checkSpans(
  tracing: Tracing | undefined,
  want: number,
  what: string,
  notes: string[],
): Promise<number> {
  if (!tracing) return 0;
  const got = await tracing.spans();
  tracing.clear();
  if (got !== want) notes.push(`${what}: ${got}, expected ${want}`);
  return Math.abs(got - want);
}
