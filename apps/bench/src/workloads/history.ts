import type { Workload } from './common.js';
import { drain } from './drain.js';

/**
 * The drain again, with the peer's record of finished jobs on at its default retention
 * (@queue: each completed job moves to job_history in the statement that finishes it). Run
 * right after the drain, in the same database, so the pair compares history on with off.
 * Peers without a switch keep what they always keep, which their drain row already
 * measured; they are skipped here.
 */
export const historyWorkload: Workload = {
  name: 'history',
  title: 'drain, history kept (default retention)',
  unsupported: (peer) =>
    peer.historySwitch ? undefined : `no history setting; its drain keeps ${peer.keeps.split(':')[0]}`,
  async run(ctx) {
    const history = ctx.client.history;
    if (!history) throw new Error(`${ctx.peer.name} has no history switch`);
    await history.keep(true);
    try {
      const run = await drain(ctx);
      const rows = await history.rows();
      const notes = [...(run.notes ?? [])];
      if (rows.inDefault > 0) notes.push(`${rows.inDefault} history rows in the DEFAULT partition`);
      return {
        ...run,
        metrics: { ...run.metrics, historyRows: rows.total, historyInDefault: rows.inDefault },
        // Done means done and recorded: a job missing from history is a job not processed.
        processed: Math.min(run.processed, rows.total),
        notes,
      };
    } finally {
      await history.keep(false);
    }
  },
};
