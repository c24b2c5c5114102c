import { now } from '../clock.js';
import { vacuumAnalyze } from '../db.js';
import { timedDrain, type Workload } from './common.js';

/**
 * How drain rate changes with what the table holds. Each point empties the table, fills
 * it with INSERT … SELECT generate_series straight into the peer's own table (seconds for
 * a million rows, where the bulk APIs would take minutes for the slower peers), runs
 * VACUUM ANALYZE (the state autovacuum would leave; it is off on some servers), then
 * drains with one worker process for at most the cap. The rate is jobs done over time
 * taken, or jobs started within the cap.
 */
export const scaleWorkload: Workload = {
  name: 'scale',
  title: 'scale: drain rate vs table size',
  once: true,
  unsupported: (peer) => (peer.backend === 'redis' ? 'no table: Redis keeps jobs in memory' : undefined),
  async run(ctx) {
    const { points, capSeconds } = ctx.sizes.scale;
    const metrics: Record<string, number> = {};
    const notes: string[] = [];
    let expected = 0;
    let processed = 0;
    for (const [k, point] of points.entries()) {
      await ctx.client.reset();
      const t0 = now();
      if (!ctx.client.seed) throw new Error(`${ctx.peer.name} cannot seed`);
      await ctx.client.seed(point);
      await vacuumAnalyze(ctx.target.databaseUrl);
      const seedMs = now() - t0;
      ctx.log(`    ${point.label}: seeded in ${(seedMs / 1000).toFixed(1)} s`);
      const out = await timedDrain(ctx, point.available, capSeconds * 1000);
      const done = out.complete ? point.available : out.started;
      metrics[`p${k}JobsPerSec`] = (done / out.elapsedMs) * 1000;
      metrics[`p${k}Done`] = done;
      metrics[`p${k}SeedMs`] = seedMs;
      metrics[`p${k}PeakRssMb`] = out.child.maxRssKb / 1024;
      // A capped point is judged on what it reached, as a capped drain is.
      expected += out.complete ? point.available : done;
      metrics[`p${k}Capped`] = out.complete ? 0 : 1;
      processed += done;
      if (!out.complete)
        notes.push(`${point.label}: ${done} of ${point.available} in the ${capSeconds} s cap`);
    }
    return { metrics, expected, processed, notes };
  },
};
