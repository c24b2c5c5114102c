import { Queue, silentLogger } from '@queue/core';
import pg from 'pg';
import { QUEUE } from '../peers/queue-history.js';
import { PRODUCER_POOL, TASK } from '../peers/types.js';
import {
  fill,
  payloads,
  timedDrain,
  type Workload,
  type WorkloadContext,
  type WorkloadRun,
} from './common.js';

/**
 * The drain again, on a queue with flow limits (@queue's README, "Flow control"), to set beside
 * the plain drain: `flow-global` with a global concurrency limit far above the worker's
 * concurrency (the limited claim and its slot locks, never the limit, are what it costs), and
 * `flow-keys` with 1,000 concurrency keys at a limit of 1 each (the skip scan over the keys,
 * round-robin, a key slot per job). @queue only: the peers' equivalents are paid features or
 * absent. The limits are set before the jobs are queued and removed after the drain.
 */
const GLOBAL_LIMIT = 10_000;
const KEYS = 1_000;

async function limited(
  ctx: WorkloadContext,
  limits: { concurrency?: number; keyConcurrency?: number },
  enqueue: (queue: Queue, jobs: number) => Promise<void>,
): Promise<WorkloadRun> {
  const { jobs } = ctx.sizes.drain;
  const pool = new pg.Pool({ connectionString: ctx.target.databaseUrl, max: PRODUCER_POOL });
  const queue = new Queue({ pool, logger: silentLogger });
  try {
    await ctx.client.reset();
    await queue.setLimits(QUEUE, limits);
    await enqueue(queue, jobs);
    const out = await timedDrain(ctx, jobs, ctx.sizes.drainCapSeconds * 1000);
    const done = out.complete ? jobs : out.started;
    return {
      metrics: {
        jobsPerSec: (done / out.elapsedMs) * 1000,
        ms: out.elapsedMs,
        ...(out.dbCpuMs === undefined
          ? {}
          : { dbCpuMs: out.dbCpuMs, dbCpuMsPer1kJobs: (out.dbCpuMs / Math.max(1, done)) * 1000 }),
        duplicates: out.child.duplicates,
        capped: out.complete ? 0 : 1,
      },
      expected: out.complete ? jobs : out.started,
      processed: out.complete ? out.child.count - out.child.duplicates : out.started,
      notes: out.complete
        ? undefined
        : [`${out.started} of ${jobs} jobs within the ${ctx.sizes.drainCapSeconds} s cap`],
    };
  } finally {
    await queue.setLimits(QUEUE, { concurrency: null, keyConcurrency: null }).catch(() => {});
    await queue.close();
    await pool.end();
  }
}

const onlyQueue = (peer: { name: string }) =>
  peer.name === 'queue' ? undefined : 'flow limits are measured for @queue only';

export const flowGlobalWorkload: Workload = {
  name: 'flow-global',
  title: `drain, global limit ${GLOBAL_LIMIT.toLocaleString('en-US')}`,
  unsupported: onlyQueue,
  run: (ctx) => limited(ctx, { concurrency: GLOBAL_LIMIT }, (_, jobs) => fill(ctx.client, jobs)),
};

export const flowKeysWorkload: Workload = {
  name: 'flow-keys',
  title: `drain, ${KEYS.toLocaleString('en-US')} keys at limit 1`,
  unsupported: onlyQueue,
  run: (ctx) =>
    limited(ctx, { keyConcurrency: 1 }, async (queue, jobs) => {
      // As fill() does it, each job with its key: keys interleaved, as tenants' jobs arrive.
      for (let from = 0; from < jobs; from += 1_000) {
        const batch = payloads(from, Math.min(1_000, jobs - from));
        await queue.enqueueMany(
          batch.map((payload) => ({
            task: TASK,
            payload,
            options: { concurrencyKey: `k${payload.i % KEYS}` },
          })),
        );
      }
    }),
};
