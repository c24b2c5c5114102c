/**
 * Load for the multi-host scenarios: a burst for throughput, then jobs one at a time for the
 * latency from enqueue to done, both read from what the worker process printed.
 */
import type { Queue } from '../../src/index.js';
import type { Spawned } from './process-kit.js';

export type WorkQueue = Queue<{ work: (p: { ms?: number } | null) => void }>;

export interface LoadFigures {
  /** Every job enqueued, in order. */
  ids: string[];
  /** Burst: jobs per second from the start of the enqueue to the last completion. */
  perSecond: number;
  burstMs: number;
  /** One at a time: enqueue (called) to completed (printed), in ms. */
  latencies: number[];
  p50: number;
  p95: number;
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Resolves when `worker` has printed a completion for every id (each counted once). */
export function allCompleted(
  worker: Spawned,
  ids: string[],
  what: string,
  timeoutMs: number,
): Promise<string> {
  const left = new Set(ids);
  return worker.line(
    (l) => {
      if (!l.startsWith('event ')) return false;
      const e = JSON.parse(l.slice(6)) as { event: string; id?: string };
      if (e.event === 'completed' && e.id) left.delete(e.id);
      return left.size === 0;
    },
    what,
    timeoutMs,
  );
}

export async function burstThenSingles(
  producer: WorkQueue,
  worker: Spawned,
  { burst, singles, timeoutMs }: { burst: number; singles: number; timeoutMs: number },
): Promise<LoadFigures> {
  const started = performance.now();
  const jobs = await producer.enqueueMany(
    Array.from({ length: burst }, () => ({ task: 'work' as const, payload: null })),
  );
  const ids = jobs.map((j) => j.id);
  const last = await allCompleted(worker, ids, `all ${burst} burst jobs to complete`, timeoutMs);
  const burstMs = worker.times[worker.lines.indexOf(last)]! - started;
  const latencies: number[] = [];
  for (let i = 0; i < singles; i++) {
    const t0 = performance.now();
    const job = await producer.enqueue('work', null);
    ids.push(job.id);
    await worker.event(
      (e) => e.event === 'completed' && e.id === job.id,
      `single job ${i + 1} to complete`,
      timeoutMs,
    );
    const done = worker.events().find((e) => e.event === 'completed' && e.id === job.id)!;
    latencies.push(done.at! - t0);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    ids,
    perSecond: (burst / burstMs) * 1000,
    burstMs,
    latencies,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
  };
}

/** What the database says about a finished run: the invariants every scenario checks. */
export async function settle(
  query: (text: string, values?: unknown[]) => Promise<any[]>,
  ids: string[],
): Promise<{ left: number; lost: number; repeated: number; completionWrites: number }> {
  const [{ n: left }] = await query('SELECT count(*)::int AS n FROM queue.jobs');
  const [{ n: found }] = await query(
    'SELECT count(*)::int AS n FROM effects WHERE job_id = ANY($1::bigint[])',
    [ids],
  );
  const [{ n: repeated }] = await query('SELECT count(*)::int AS n FROM duplicates');
  // The finish statement counts each completion it writes in job_stats, in the same
  // transaction as the job's DELETE: more writes than jobs would be a double completion.
  const [{ n: completionWrites }] = await query(
    'SELECT coalesce(sum(completed), 0)::int AS n FROM queue.job_stats',
  );
  return { left, lost: ids.length - found, repeated, completionWrites };
}
