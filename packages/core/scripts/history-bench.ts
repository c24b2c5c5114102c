/**
 * Measures the storage of finished jobs (issue 13): what writing history costs the finish,
 * partitioned or not, what each index of migration 0008 costs, how pruning an hour of 1M rows
 * compares (DROP vs batched DELETE, and the dead tuples DELETE leaves), and claim latency of a
 * real Worker while a prune drops partitions. A scratch script, not a test: it creates and
 * drops its own database, `history_bench`, on the server of DATABASE_URL.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx scripts/history-bench.ts [insert|indexes|prune|claims]...
 */
import pg from 'pg';
import { runMaintenance } from '../src/history.js';
import { Queue, silentLogger, type Worker } from '../src/index.js';
import { createPartitionSql } from '../src/sql/history.js';
import { makeNames } from '../src/sql/names.js';

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = 'history_bench';
const url = (() => {
  const u = new URL(server);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const names = makeNames();
const HOUR = 3_600_000;
const COLUMNS = `id, queue, task, payload, priority, outcome, result, attempts, max_attempts, errors, tags, meta,
  created_at, run_at, started_at, finished_at, worker`;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client(server);
  await c.connect();
  await c.query(sql);
  await c.end();
}

async function freshDatabase(): Promise<pg.Client> {
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${dbName}`);
  const queue = new Queue({ connectionString: url, logger: silentLogger });
  await queue.migrate();
  await queue.close();
  const c = new pg.Client(url);
  await c.connect();
  return c;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const f1 = (n: number) => n.toFixed(1);

/** Rows as a finish writes them: 500 jobs per statement, small payload, optional tags. */
function fillJobs(c: pg.Client, n: number, tagged: boolean) {
  return c.query(
    `INSERT INTO queue.jobs (queue, task, payload, tags, started_at, attempts)
     SELECT 'default', 'send', jsonb_build_object('to', 'user' || g || '@example.com', 'n', g),
       ${tagged ? `array['tenant:' || (g % 50), 'kind:mail']` : `'{}'::text[]`}, now(), 1
     FROM generate_series(1, $1::int) g`,
    [n],
  );
}

/**
 * INSERT throughput: the finish's DELETE of 500 jobs from jobs, alone (no history), or moving
 * them into a history table: the partitioned job_history, or a plain table with the same
 * indexes; then the partitioned one without each index in turn.
 */
async function insertBench(): Promise<void> {
  const c = await freshDatabase();
  await c.query(`CREATE TABLE queue.flat (LIKE queue.job_history INCLUDING DEFAULTS)`);
  await c.query(`CREATE INDEX ON queue.flat (id)`);
  await c.query(`CREATE INDEX ON queue.flat (queue, finished_at, id)`);
  await c.query(`CREATE INDEX ON queue.flat (finished_at, id)`);
  await c.query(`CREATE INDEX ON queue.flat USING gin (tags) WHERE tags <> '{}'`);
  const N = Number(process.env.ROWS ?? 200_000);
  const B = 500;
  const move = (target: string | null) =>
    target === null
      ? `DELETE FROM queue.jobs WHERE id = ANY($1::bigint[])`
      : `WITH done AS (DELETE FROM queue.jobs WHERE id = ANY($1::bigint[]) RETURNING *)
         INSERT INTO ${target} (${COLUMNS})
         SELECT id, queue, task, payload, priority, 'completed', '{"ok":true}', attempts, max_attempts, errors,
           tags, meta, created_at, run_at, started_at, now(), 'w1' FROM done`;
  const run = async (label: string, target: string | null, tagged = false) => {
    await c.query('TRUNCATE queue.jobs, queue.job_history, queue.flat');
    await fillJobs(c, N, tagged);
    await c.query('VACUUM ANALYZE queue.jobs');
    await c.query('CHECKPOINT');
    const { rows } = await c.query(`SELECT id FROM queue.jobs ORDER BY id`);
    const ids = rows.map((r) => r.id as string);
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < ids.length; i += B) {
      const s = performance.now();
      await c.query({
        name: `m_${label.replace(/\W/g, '_')}`,
        text: move(target),
        values: [ids.slice(i, i + B)],
      });
      lat.push(performance.now() - s);
    }
    const secs = (performance.now() - t0) / 1000;
    if (target !== null) {
      const [{ n }] = (await c.query(`SELECT count(*)::int AS n FROM ${target}`)).rows;
      if (n !== N) throw new Error(`${label}: ${n} rows written, not ${N}`);
    }
    const [{ indexes }] = (
      await c.query(`SELECT count(*)::int AS indexes FROM pg_indexes WHERE schemaname = 'queue'
        AND tablename LIKE 'job_history_p%'`)
    ).rows;
    if (process.env.VERBOSE) {
      const rate = Math.round(N / secs);
      console.log(
        `${label.padEnd(44)} ${rate} jobs/s, per 500: p50 ${f1(pct(lat, 50))} ms, p99 ${f1(pct(lat, 99))} ms ` +
          `(${indexes} partition indexes)`,
      );
    }
    return N / secs;
  };
  const variants: { label: string; target: string | null; tagged?: boolean; without?: string }[] = [
    { label: 'no history (DELETE only)', target: null },
    { label: 'partitioned job_history, 4 indexes', target: 'queue.job_history' },
    { label: 'plain table, same 4 indexes', target: 'queue.flat' },
    { label: 'partitioned, every job with 2 tags (GIN)', target: 'queue.job_history', tagged: true },
    ...['job_history_id_idx', 'job_history_queue_idx', 'job_history_finished_idx'].map((without) => ({
      label: `partitioned, without ${without}`,
      target: 'queue.job_history',
      without,
    })),
  ];
  const reps = Number(process.env.REPS ?? 5);
  console.log(`\nfinish of ${N} jobs in statements of 500 (DELETE from jobs, then INSERT into history);`);
  console.log(`${reps} runs each, the variants interleaved (a shared 2-core machine: runs vary)`);
  const results = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const v of variants) {
      let restore: string | undefined;
      if (v.without) {
        const [{ def }] = (
          await c.query(`SELECT pg_get_indexdef($1::regclass) AS def`, [`queue.${v.without}`])
        ).rows;
        await c.query(`DROP INDEX queue.${v.without}`);
        // pg_get_indexdef says ON ONLY for a partitioned index, which would skip the partitions.
        restore = def.replace(' ON ONLY ', ' ON ');
      }
      results.get(v.label)!.push(await run(v.label, v.target, v.tagged));
      if (restore) await c.query(restore);
    }
  }
  // The best run is the one least disturbed by other load; the median says how typical it is.
  const best = (label: string) => Math.max(...results.get(label)!);
  const base = best(variants[0]!.label);
  for (const v of variants) {
    const xs = results.get(v.label)!;
    console.log(
      `${v.label.padEnd(44)} best ${Math.round(best(v.label)).toString().padStart(7)} jobs/s ` +
        `(${Math.round((best(v.label) / base) * 100)}% of no history), median ${Math.round(pct(xs, 50))}`,
    );
  }
  await c.end();
}

/**
 * What each index of job_history costs a write, in isolation: 200,000 rows copied into a table
 * shaped like a partition, with no index, then each index added in turn (best of REPS).
 */
async function indexBench(): Promise<void> {
  const c = await freshDatabase();
  const N = Number(process.env.ROWS ?? 200_000);
  const reps = Number(process.env.REPS ?? 5);
  await fillJobs(c, N, false);
  await c.query(`CREATE TABLE queue.src AS SELECT j.*, now() AS finished_at FROM queue.jobs j`);
  const sets: [string, string[]][] = [
    ['no index', []],
    ['(id)', ['(id)']],
    ['(queue, finished_at, id)', ['(queue, finished_at, id)']],
    ['(finished_at, id)', ['(finished_at, id)']],
    ['gin (tags) WHERE tags <> {} (no job tagged)', [`USING gin (tags) WHERE tags <> '{}'`]],
    [
      'all four (0008)',
      ['(id)', '(queue, finished_at, id)', '(finished_at, id)', `USING gin (tags) WHERE tags <> '{}'`],
    ],
  ];
  console.log(`\n${N} rows copied into one partition-shaped table per statement; best of ${reps}`);
  for (const [label, defs] of sets) {
    let best = Number.POSITIVE_INFINITY;
    for (let rep = 0; rep < reps; rep++) {
      await c.query('DROP TABLE IF EXISTS queue.t');
      await c.query(`CREATE TABLE queue.t (LIKE queue.job_history)`);
      for (const d of defs) await c.query(`CREATE INDEX ON queue.t ${d}`);
      await c.query('CHECKPOINT');
      const t = performance.now();
      await c.query(`INSERT INTO queue.t (${COLUMNS})
        SELECT id, queue, task, payload, priority, 'completed', null, attempts, max_attempts, errors, tags, meta,
          created_at, run_at, started_at, finished_at, 'w1' FROM queue.src`);
      best = Math.min(best, performance.now() - t);
    }
    console.log(
      `${label.padEnd(46)} ${Math.round(best).toString().padStart(5)} ms  (${f1((best * 1000) / N)} µs a row)`,
    );
  }
  await c.end();
}

/** An hour of `n` rows in its own partition, `hoursAgo` hours before the current one. */
async function hourOfRows(c: pg.Client, hoursAgo: number, n: number, queue = 'default'): Promise<string> {
  const { rows } = await c.query(`SELECT (extract(epoch FROM now()) * 1000)::float8 AS now`);
  const lo = Math.floor(rows[0].now / HOUR) * HOUR - hoursAgo * HOUR;
  const name = `job_history_p${new Date(lo).toISOString().slice(0, 13).replace(/\D/g, '')}`;
  const [{ exists }] = (await c.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [`queue.${name}`]))
    .rows;
  if (!exists) {
    for (const sql of createPartitionSql(names, name, new Date(lo), new Date(lo + HOUR))) await c.query(sql);
  }
  await c.query(
    `INSERT INTO queue.job_history (${COLUMNS})
     SELECT g, $3, 'send', jsonb_build_object('to', 'user' || g || '@example.com', 'n', g), 0, 'completed',
       '{"ok":true}', 1, 25, '[]', '{}', '{}', now(), now(), now(), to_timestamp($1::float8 / 1000) + (g % 3600000) * interval '1 ms', 'w1'
     FROM generate_series(1, $2::int) g`,
    [lo, n, queue],
  );
  return name;
}

async function deadTuples(c: pg.Client, table: string) {
  await c.query('SELECT pg_stat_force_next_flush()');
  await c.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await c.query(
    `SELECT n_live_tup::int AS live, n_dead_tup::int AS dead, pg_size_pretty(pg_total_relation_size(relid)) AS size
     FROM pg_stat_user_tables WHERE schemaname = 'queue' AND relname = $1`,
    [table],
  );
  return rows[0];
}

/** Pruning one hour of 1M rows: DROP of its partition vs batched DELETE (10,000 per statement). */
async function pruneBench(): Promise<void> {
  const c = await freshDatabase();
  const N = Number(process.env.ROWS ?? 1_000_000);
  console.log(`\npruning an hour of ${N} rows`);
  const a = await hourOfRows(c, 30, N);
  const b = await hourOfRows(c, 29, N);
  const d = await hourOfRows(c, 28, N);
  const e = await hourOfRows(c, 27, N);
  await c.query('VACUUM ANALYZE queue.job_history');
  await c.query('CHECKPOINT');
  console.log(`partition size: ${(await deadTuples(c, a)).size}`);
  let t = performance.now();
  await c.query(`DROP TABLE queue.${a}`);
  console.log(`DROP TABLE: ${f1(performance.now() - t)} ms for the maintenance's session`);
  // What a finish waits behind it: an INSERT queued while the DROP (or a DETACH) holds its lock.
  const other = new pg.Client(url);
  await other.connect();
  for (const [label, ddl] of [
    ['DROP TABLE', `DROP TABLE queue.${d}`],
    ['DETACH PARTITION', `ALTER TABLE queue.job_history DETACH PARTITION queue.${e}`],
  ] as const) {
    await c.query('CHECKPOINT');
    await c.query('BEGIN');
    await c.query(ddl);
    const queued = performance.now();
    const finish = other
      .query(
        `INSERT INTO queue.job_history (${COLUMNS}) SELECT 1, 'default', 'send', '{}', 0, 'completed', null, 1, 25,
           '[]', '{}', '{}', now(), now(), now(), now(), 'w1'`,
      )
      .then(() => performance.now());
    await new Promise((r) => setTimeout(r, 100));
    const committing = performance.now();
    await c.query('COMMIT');
    const committed = performance.now();
    const done = await finish;
    console.log(
      `${label} of ${N} rows: an insert queued behind it went through ${f1(done - committing)} ms ` +
        `after the COMMIT began (waited ${f1(done - queued)} ms, 100 of them before the COMMIT); ` +
        `the COMMIT took ${f1(committed - committing)} ms`,
    );
  }
  await other.end();
  // Autovacuum would clean up behind the DELETE; kept off for this table to see the debt it leaves.
  await c.query(`ALTER TABLE queue.${b} SET (autovacuum_enabled = false)`);
  t = performance.now();
  let statements = 0;
  const lat: number[] = [];
  for (;;) {
    const s = performance.now();
    const { rowCount } = await c.query(
      `DELETE FROM queue.${b} WHERE ctid = ANY(ARRAY(SELECT ctid FROM queue.${b}
         WHERE queue = 'default' AND finished_at < now() - interval '1 day' ORDER BY finished_at LIMIT 10000))`,
    );
    lat.push(performance.now() - s);
    statements++;
    if ((rowCount ?? 0) < 10_000) break;
  }
  const deleteMs = performance.now() - t;
  console.log(
    `batched DELETE: ${f1(deleteMs / 1000)} s in ${statements} statements (p50 ${f1(pct(lat, 50))} ms, max ${f1(Math.max(...lat))} ms)`,
  );
  console.log(`after the DELETE: ${JSON.stringify(await deadTuples(c, b))}`);
  t = performance.now();
  await c.query(`VACUUM queue.${b}`);
  console.log(`VACUUM to clear that debt: ${f1((performance.now() - t) / 1000)} s`);
  await c.end();
}

/**
 * Claim latency of a real Worker draining no-op jobs, without a prune and while one runs, in
 * rounds: each round makes two hours of ROWS rows and 200,000 rows of a queue with a shorter
 * keep in an hour kept for another queue (outside the measured windows), then runs the
 * maintenance once to drop the two hours and once to delete the 200,000 rows in batches.
 * If the worker's finish does not write history (before it did), its cycle statement is given a
 * history INSERT here (the same CTE shape), so that it takes the locks the real one does:
 * RowExclusiveLock on job_history and on the current hour's partition.
 */
async function claimsBench(): Promise<void> {
  const c = await freshDatabase();
  const per = Number(process.env.ROWS ?? 500_000);
  const rounds = Number(process.env.ROUNDS ?? 3);
  console.log(
    `\nclaim latency of a draining worker (cycle = finish + claim, one statement), ${rounds} rounds`,
  );
  // Keep the worker's own maintenance out of the way: this script runs the one measured.
  await c.query(`INSERT INTO queue.checks VALUES ('history', now() + interval '1 day')`);
  await c.query(`INSERT INTO queue.queues (name, keep) VALUES ('pings', interval '1 hour')`);

  const queue = new Queue({ connectionString: url, logger: silentLogger, tasks: { noop: async () => {} } });
  const jobs = Number(process.env.JOBS ?? 600_000);
  for (let i = 0; i < jobs; i += 10_000) {
    await queue.enqueueMany(Array.from({ length: 10_000 }, () => ({ task: 'noop' as const, payload: null })));
  }
  const worker = queue.worker({ concurrency: 50, pollInterval: 200 });
  const cycles: { at: number; ms: number }[] = [];
  withHistoryAndTiming(worker, cycles);
  await worker.start();
  const windows = new Map<string, { xs: number[]; ms: number[] }>();
  /** The cycles that overlapped `during`: begun before its end, ended after its start. */
  const window = async (label: string, during: () => Promise<unknown>) => {
    const from = performance.now();
    await during();
    const to = performance.now();
    await new Promise((r) => setTimeout(r, 500)); // let the cycles in flight end
    const w = windows.get(label) ?? { xs: [], ms: [] };
    windows.set(label, w);
    w.ms.push(to - from);
    w.xs.push(...cycles.filter((x) => x.at <= to && x.at + x.ms >= from).map((x) => x.ms));
  };
  const idle = (ms: number) => () => new Promise((r) => setTimeout(r, ms));
  const prune = new pg.Client(url);
  await prune.connect();
  await prune.query(`SET client_min_messages = warning`);
  await window('warming up', idle(3_000));
  windows.clear();
  for (let round = 30; round < 30 + 2 * rounds; round += 2) {
    await hourOfRows(prune, round, per);
    await hourOfRows(prune, round + 1, per);
    await prune.query('VACUUM ANALYZE queue.job_history');
    await prune.query('CHECKPOINT');
    await window('without prune', idle(3_000));
    await window(`maintenance: DROP of 2 hours of ${per / 1000}k rows`, () =>
      runMaintenance(prune, names, silentLogger),
    );
    await hourOfRows(prune, 3, 200_000, 'pings');
    // One 'default' row keeps that hour for a day: its 'pings' rows go by DELETE.
    await prune.query(`INSERT INTO queue.job_history (${COLUMNS})
      SELECT -${round}, 'default', 'send', '{}', 0, 'completed', null, 1, 25, '[]', '{}', '{}', now(), now(),
        now(), date_trunc('hour', now()) - interval '3 hours' + interval '1 s', 'w1'`);
    await prune.query('VACUUM ANALYZE queue.job_history');
    await window('without prune', idle(3_000));
    await window('maintenance: DELETE of 200k rows, 10k a batch', () =>
      runMaintenance(prune, names, silentLogger),
    );
  }
  for (const [label, w] of windows) {
    console.log(
      `${label.padEnd(42)} ${w.xs.length.toString().padStart(5)} cycles: p50 ${f1(pct(w.xs, 50))} ms, ` +
        `p99 ${f1(pct(w.xs, 99))} ms, max ${f1(Math.max(...w.xs))} ms  (operation: ${w.ms.map((m) => Math.round(m)).join('/')} ms)`,
    );
  }
  const [{ left }] = (await prune.query(`SELECT count(*)::int AS left FROM queue.jobs`)).rows;
  console.log(`jobs left to drain: ${left} of ${jobs}`);
  await prune.end();
  await worker.stop();
  await queue.close();
  await c.end();
}

function withHistoryAndTiming(worker: Worker, cycles: { at: number; ms: number }[]): void {
  const claimer = (worker as unknown as { claimer: any }).claimer;
  if (!claimer.sql.cycle.includes('job_history')) addHistoryInsert(claimer);
  const cycle = claimer.cycle.bind(claimer);
  claimer.cycle = async (...args: unknown[]) => {
    const s = performance.now();
    const r = await cycle(...args);
    cycles.push({ at: s, ms: performance.now() - s });
    return r;
  };
}

/** Before the finish wrote history itself: the INSERT it makes, added to the cycle statement. */
function addHistoryInsert(claimer: any): void {
  const done = `DELETE FROM ${names.q}.jobs WHERE id = ANY($2::bigint[]) RETURNING id\n    )`;
  if (!claimer.sql.cycle.includes(done)) throw new Error('the finish statement changed: update the bench');
  claimer.sql.cycle = claimer.sql.cycle.replace(
    done,
    `DELETE FROM ${names.q}.jobs WHERE id = ANY($2::bigint[]) RETURNING *
    ), hist AS (
      INSERT INTO ${names.q}.job_history (${COLUMNS})
      SELECT id, queue, task, payload, priority, 'completed', null, attempts, max_attempts, errors, tags, meta,
        created_at, run_at, started_at, now(), $8 FROM done
    )`,
  );
}

const parts = process.argv.slice(2);
for (const p of parts.length > 0 ? parts : ['insert', 'indexes', 'prune', 'claims']) {
  if (p === 'insert') await insertBench();
  else if (p === 'prune') await pruneBench();
  else if (p === 'claims') await claimsBench();
  else if (p === 'indexes') await indexBench();
  else throw new Error(`unknown part ${p}`);
}
await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
