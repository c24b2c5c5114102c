/**
 * Shared parts of the flow-control scenarios (25-28): the table the flow-worker fixture
 * records its runs in, and the maximum overlap of recorded runs.
 */
import type { TestDatabase } from '@queue/test-utils';

export async function createFlowTables(db: TestDatabase): Promise<void> {
  await db.query(`
    DROP TABLE IF EXISTS flow_runs;
    CREATE UNLOGGED TABLE flow_runs (run bigserial PRIMARY KEY, job_id bigint NOT NULL, key text,
      pid int NOT NULL, attempt int NOT NULL, started timestamptz NOT NULL, ended timestamptz);`);
}

export interface Run {
  job: string;
  key: string | null;
  pid: number;
  start: number;
  /** Null while running, or for a run whose process was killed. */
  end: number | null;
}

export async function runs(db: TestDatabase): Promise<Run[]> {
  const rows = await db.query(`SELECT job_id::text AS job, key, pid,
      (extract(epoch FROM started) * 1000)::float8 AS start, (extract(epoch FROM ended) * 1000)::float8 AS "end"
    FROM flow_runs ORDER BY started`);
  return rows as Run[];
}

/**
 * The most runs in progress at once, from their start and end times (a run ending at the same
 * instant another starts does not overlap it). `killedAt`: when a process was killed, which
 * ends its unfinished runs.
 */
export function maxOverlap(list: Run[], killedAt: Map<number, number> = new Map()): number {
  const points: [number, number][] = [];
  for (const r of list) {
    const end = r.end ?? killedAt.get(r.pid);
    if (end === undefined) throw new Error(`run of job ${r.job} in process ${r.pid} has no end`);
    points.push([r.start, 1], [end, -1]);
  }
  // Ends before starts at the same instant.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of points) {
    now += d;
    max = Math.max(max, now);
  }
  return max;
}
