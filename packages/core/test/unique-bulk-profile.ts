/**
 * Where a keyed enqueueMany's time goes, against a plain one, by CPU time rather than wall time
 * (on a shared, loaded machine wall time mostly measures the neighbours): this process's CPU
 * (process.cpuUsage) and the CPU of the one Postgres backend serving it (/proc/<pid>/stat, so
 * the database must run on this machine), per batch of 1,000, over many batches, variants
 * alternating. Not a test: run it by hand against a migrated scratch database,
 *   npx tsx packages/core/test/unique-bulk-profile.ts postgres://…/scratch [rounds] [batches per round]
 * It empties the schema's jobs table as it goes.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Queue } from '../src/index.js';
import type { JobRow } from '../src/options.js';
import { makeNames } from '../src/sql/names.js';
import { insertUniqueSql, uniqueInsert } from '../src/sql/unique.js';
import { checkUnique } from '../src/unique.js';

const url = process.argv[2];
if (!url) throw new Error('usage: unique-bulk-profile.ts <connection string of a migrated scratch database>');
const rounds = Number(process.argv[3] ?? 5);
const batches = Number(process.argv[4] ?? 10);
// One connection, so that one backend serves every statement.
const queue = new Queue({
  pool: new pg.Pool({ connectionString: url, max: 1 }),
  tasks: { t: async () => {} },
});
await queue.migrate();
type Pool = { query(t: string, v?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
const pool = (queue as unknown as { pool: Pool }).pool;
const [{ pid }] = (await pool.query('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
const ticks = 100; // USER_HZ
const backendCpu = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) / ticks) * 1000; // utime + stime, ms
};
const n = makeNames();
let seq = 0;
const items = (unique: (i: number) => object | undefined) =>
  Array.from({ length: 1000 }, () => {
    const i = seq++;
    const u = unique(i);
    return { task: 't' as const, payload: { i }, options: u ? { unique: u } : {} };
  });
const rowsOf = (keyed: boolean): JobRow[] =>
  Array.from({ length: 1000 }, () => {
    const i = seq++;
    const r: JobRow = {
      task: 't',
      queue: 'default',
      payload: JSON.stringify({ i }),
      priority: 0,
      runAt: null,
      delayMs: 0,
      maxAttempts: 25,
      tags: null,
      meta: null,
    };
    if (keyed) r.unique = checkUnique('t', { i }, { unique: { key: `k${i}` } }, 'unique');
    return r;
  });
const text = insertUniqueSql(n, false);
const RET = `RETURNING id::text AS id, (extract(epoch FROM run_at) * 1000)::float8 AS run_at,
     (extract(epoch FROM created_at) * 1000)::float8 AS created_at,
     greatest(0, floor(extract(epoch FROM queue.jobs.run_at - now()) * 1000))::float8 AS delay_ms`;
const arr = (rows: JobRow[]) => [
  rows.map((r) => r.task),
  rows.map((r) => r.queue),
  rows.map((r) => r.payload),
  rows.map((r) => r.priority),
  rows.map((r) => r.runAt),
  rows.map((r) => r.delayMs),
  rows.map((r) => r.maxAttempts),
  rows.map((r) => r.unique?.key ?? null),
];
const pA = `INSERT INTO queue.jobs (task, queue, payload, priority, run_at, max_attempts)
    SELECT t, q, p, pr, coalesce(ra, now() + d * interval '1 millisecond'), ma
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::timestamptz[], $6::float8[], $7::int[])
      AS u(t, q, p, pr, ra, d, ma) ${RET}`;
const steps: Record<string, () => Promise<unknown>> = {
  'plain enqueueMany': () => queue.enqueueMany(items(() => undefined)),
  'key enqueueMany': () => queue.enqueueMany(items((i) => ({ key: `k${i}` }))),
  'by enqueueMany': () => queue.enqueueMany(items(() => ({ by: ['i'] }))),
  'plain text': () => pool.query(pA, arr(rowsOf(false)).slice(0, 7)),
  'key, statement': () => {
    const s = uniqueInsert(n, rowsOf(true), text, 'look');
    return pool.query(s.text, s.values);
  },
  'key, statement, raise': () => {
    const s = uniqueInsert(n, rowsOf(true), text, 'raise');
    return pool.query(s.text, s.values);
  },
  'key, statement with ON CONFLICT': () => {
    const s = uniqueInsert(n, rowsOf(true), text, 'settle');
    return pool.query(s.text, s.values);
  },
};
const sum: Record<string, { client: number; server: number; wall: number; n: number }> = {};
for (const name of Object.keys(steps)) sum[name] = { client: 0, server: 0, wall: 0, n: 0 };
for (let r = 0; r < rounds + 1; r++) {
  for (const [name, step] of Object.entries(steps)) {
    await pool.query('TRUNCATE queue.jobs');
    const c0 = process.cpuUsage();
    const s0 = backendCpu();
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) await step();
    const c = process.cpuUsage(c0);
    if (r === 0) continue; // warm-up
    const x = sum[name]!;
    x.client += (c.user + c.system) / 1000;
    x.server += backendCpu() - s0;
    x.wall += performance.now() - t0;
    x.n += batches;
  }
}
const base = sum['plain enqueueMany']!;
const total = (x: { client: number; server: number; n: number }) => (x.client + x.server) / x.n;
console.log(
  `${rounds} rounds of ${batches} batches of 1,000; CPU ms per batch (client + backend), vs plain enqueueMany`,
);
for (const [name, x] of Object.entries(sum)) {
  console.log(
    `${name.padEnd(32)} client ${(x.client / x.n).toFixed(1)}  backend ${(x.server / x.n).toFixed(1)}  total ${total(x).toFixed(1)} (${((total(x) / total(base) - 1) * 100).toFixed(0)}%)  wall ${(x.wall / x.n).toFixed(1)}`,
  );
}
await queue.close();
await (pool as unknown as pg.Pool).end();
