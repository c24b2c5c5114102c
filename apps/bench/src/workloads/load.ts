import { now, sleep, sleepUntil } from '../clock.js';
import { WorkerProcess } from '../worker-host.js';
import { payloads, startLatencies, type Workload } from './common.js';

/** Enqueues that may be in flight at once: one per producer connection. */
const MAX_IN_FLIGHT = 16;

/**
 * Producers offer a steady rate for a fixed time: every tick one bulk enqueue of
 * rate × tick jobs (no peer's single-job enqueue reaches 5,000/s, so all use their bulk
 * API). If a peer's enqueues fall behind, the schedule slips and the achieved rate shows
 * it. The worker runs in its own process; its backlog (committed minus started) is sampled
 * twice a second. Latency is enqueue-call-to-handler-start, as in the latency workload.
 */
export const loadWorkload: Workload = {
  name: 'load',
  title: 'latency under load',
  once: true,
  async run(ctx) {
    const { rate, seconds, tickMs } = ctx.sizes.load;
    const perTick = Math.round((rate * tickMs) / 1000);
    const ticks = Math.round((seconds * 1000) / tickMs);
    const total = perTick * ticks;
    await ctx.client.reset();
    const worker = await WorkerProcess.spawn(ctx.peer.name, ctx.target);
    try {
      await worker.start(total, true);
      await sleep(500);
      let committed = 0;
      let failed = 0;
      const inFlight = new Set<Promise<void>>();
      const callAt = new Float64Array(total);
      const ackAt = new Float64Array(total);
      const backlog: number[] = [];
      const t0 = now() + 1;
      const end = t0 + seconds * 1000;
      let sampling = true;
      const sampler = (async () => {
        for (let at = t0 + 500; sampling; at += 500) {
          await sleepUntil(at);
          if (sampling) backlog.push(committed - (await worker.count()));
        }
      })();
      for (let k = 0; k < ticks; k++) {
        await sleepUntil(t0 + k * tickMs);
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        const batch = payloads(k * perTick, perTick);
        callAt.fill(batch[0]?.t ?? 0, k * perTick, (k + 1) * perTick);
        const p: Promise<void> = ctx.client.enqueueBulk(batch).then(
          () => {
            committed += perTick;
            ackAt.fill(now(), k * perTick, (k + 1) * perTick);
          },
          () => {
            failed += perTick;
          },
        );
        const tracked = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      await Promise.all(inFlight);
      const producedMs = now() - t0;
      await sleepUntil(Math.max(end, now()));
      sampling = false;
      await sampler;
      const startedInWindow = await worker.count();
      const committedInWindow = committed;
      const backlogEnd = committedInWindow - startedInWindow;
      // Then let it finish, so every job's latency is counted (a peer that fell behind shows it in p99).
      const reached = await worker.reached(ctx.sizes.load.graceSeconds * 1000);
      const child = await worker.stop();
      const { fromCall: p, fromAck: a } = startLatencies(child.starts, callAt, ackAt);
      const keptUp = failed === 0 && backlogEnd <= rate * 0.5 && startedInWindow >= 0.98 * committedInWindow;
      return {
        metrics: {
          offeredPerSec: rate,
          enqueuedPerSec: (committedInWindow / producedMs) * 1000,
          throughputPerSec: (startedInWindow / (seconds * 1000)) * 1000,
          keptPct: (startedInWindow / Math.max(1, committedInWindow)) * 100,
          backlogEnd,
          backlogMax: Math.max(0, ...backlog),
          keptUp: keptUp ? 1 : 0,
          p50: p.p50,
          p95: p.p95,
          p99: p.p99,
          max: p.max,
          ackP50: a.p50,
          ackP99: a.p99,
        },
        expected: total,
        processed: child.count - child.duplicates,
        notes: [
          ...(failed ? [`${failed} jobs failed to enqueue`] : []),
          ...(reached === undefined
            ? [
                `${total - child.count} jobs had not started ${ctx.sizes.load.graceSeconds} s after the window; ` +
                  'the percentiles leave them out, so they understate',
              ]
            : []),
        ],
      };
    } finally {
      await worker.close();
    }
  },
};
