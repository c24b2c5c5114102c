import { fill, timedDrain, type Workload, type WorkloadContext, type WorkloadRun } from './common.js';

/**
 * Jobs queued first, then one worker process started on them; timed until the peer
 * reports every job done. The same run gives the memory workload its figures: the worker
 * process's peak RSS (kernel high-water mark) and its CPU time. Peers with a history
 * switch run it with history off (see `history` for the drain that keeps it).
 */
export const drainWorkload: Workload = {
  name: 'drain',
  title: 'drain, one worker process',
  run: drain,
};

/** The drain: `jobs` queued through the bulk API, then drained by one worker process. */
export async function drain(ctx: WorkloadContext): Promise<WorkloadRun> {
  const { jobs } = ctx.sizes.drain;
  await ctx.client.reset();
  await fill(ctx.client, jobs);
  const out = await timedDrain(ctx, jobs, ctx.sizes.drainCapSeconds * 1000);
  const done = out.complete ? jobs : out.started;
  return {
    metrics: {
      jobsPerSec: (done / out.elapsedMs) * 1000,
      ms: out.elapsedMs,
      peakRssMb: out.child.maxRssKb / 1024,
      idleRssMb: out.idleRssKb / 1024,
      workerCpuMs: out.child.cpuMs,
      cpuMsPer1kJobs: (out.child.cpuMs / Math.max(1, out.child.count)) * 1000,
      ...(out.dbCpuMs === undefined
        ? {}
        : { dbCpuMs: out.dbCpuMs, dbCpuMsPer1kJobs: (out.dbCpuMs / Math.max(1, done)) * 1000 }),
      duplicates: out.child.duplicates,
      capped: out.complete ? 0 : 1,
    },
    // A capped drain is judged on what it reached: the cap is part of the design.
    expected: out.complete ? jobs : out.started,
    processed: out.complete ? out.child.count - out.child.duplicates : out.started,
    notes: out.complete
      ? undefined
      : [`${out.started} of ${jobs} jobs within the ${ctx.sizes.drainCapSeconds} s cap`],
  };
}
