import { now, sleep, sleepUntil } from '../clock.js';
import { WorkerProcess } from '../worker-host.js';
import { startLatencies, type Workload } from './common.js';

/**
 * An idle worker process; jobs enqueued one at a time on a fixed schedule. A job's
 * latency runs from the moment its enqueue call began (bench clock) to the moment its
 * handler started (worker clock, corrected by the offset measured between the two
 * processes' clocks, typically a few microseconds). The table's figure is that one; the
 * JSON also has it from the enqueue's acknowledgement (`ack*`), which leaves out the
 * enqueue's own commit.
 */
export const latencyWorkload: Workload = {
  name: 'latency',
  title: 'latency, idle worker, jobs 5 ms apart',
  async run(ctx) {
    const { jobs, spacingMs } = ctx.sizes.latency;
    await ctx.client.reset();
    const worker = await WorkerProcess.spawn(ctx.peer.name, ctx.target);
    try {
      await worker.start(jobs, true);
      // Let the worker finish its start-up queries and go idle, as it would be in production.
      await sleep(500);
      const callAt = new Float64Array(jobs);
      const ackAt = new Float64Array(jobs);
      const t0 = now() + 1;
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < jobs; i++) {
        await sleepUntil(t0 + i * spacingMs);
        callAt[i] = now();
        // Not awaited: the schedule, not the enqueue's own duration, sets the spacing.
        inFlight.push(
          ctx.client.enqueueOne({ t: callAt[i] as number, i }).then(() => {
            ackAt[i] = now();
          }),
        );
      }
      await Promise.all(inFlight);
      const reached = await worker.reached(ctx.sizes.drainCapSeconds * 1000);
      const child = await worker.stop();
      const { fromCall: p, fromAck: a } = startLatencies(child.starts, callAt, ackAt);
      return {
        metrics: {
          p50: p.p50,
          p95: p.p95,
          p99: p.p99,
          max: p.max,
          ackP50: a.p50,
          ackP95: a.p95,
          ackP99: a.p99,
        },
        expected: jobs,
        processed: child.count - child.duplicates,
        notes: reached === undefined ? ['not every job started before the cap'] : undefined,
      };
    } finally {
      await worker.close();
    }
  },
};
