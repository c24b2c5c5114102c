/**
 * Where the worker's cycle statement (finish one batch + claim the next, one statement)
 * spends its time with job history on and off: the statement is run on a fresh database
 * per variant, as the worker runs it (one session holding the claimed jobs' locks, custom
 * plans), batch after batch, and some of the cycles are run under
 * EXPLAIN (ANALYZE, BUFFERS, WAL) instead. Variants change one thing each: history off or
 * on, the DEFAULT partition only, one of job_history's indexes dropped, the finish without
 * its history CTE. Prints medians over rounds; variants are interleaved within a round.
 *
 *   DATABASE_URL=postgres://… pnpm --filter @queue/bench explain:cycle [--batch 500]
 *     [--cycles 30] [--rounds 3] [--variants off,on,…] [--plan]
 *
 * The statement's text comes from core's own source (cycle.ts): this script measures what
 * the worker sends, not a copy of it.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, silentLogger } from '@queue/core';
import pg from 'pg';
import { now } from './clock.js';
import { createDatabase, dropDatabase } from './db.js';
import { keepHistory, QUEUE, SCHEMA } from './peers/queue-history.js';
import { TASK } from './peers/types.js';
import { median } from './stats.js';

const CORE_SQL = join(import.meta.dirname, '..', '..', '..', 'packages', 'core', 'src', 'sql');
const HISTORY_INDEXES = [
  'job_history_id_idx',
  'job_history_queue_idx',
  'job_history_finished_idx',
  'job_history_tags_idx',
];

interface Variant {
  name: string;
  what: string;
  history: boolean;
  /** Make the hourly partitions (else every row goes to the DEFAULT partition). */
  partitions?: boolean;
  drop?: string[];
  /** A changed statement: what a proposed change to the finish would save. */
  rewrite?: (sql: string) => string;
  /** A setting for the worker's session. */
  session?: string;
}

/** Replaces exactly one occurrence, so a changed core statement fails loudly instead of measuring nothing. */
function once(sql: string, from: RegExp, to: string): string {
  const hits = sql.match(new RegExp(from.source, `${from.flags.replace('g', '')}g`))?.length ?? 0;
  if (hits !== 1) throw new Error(`rewrite: ${from} matched ${hits} times in the cycle statement`);
  // A function, so that a '$2' in the new text stays a parameter, not a capture group.
  return sql.replace(from, () => to);
}

/** The finish with no history CTE and a DELETE returning only what the notification needs. */
function withoutHistory(sql: string): string {
  const lean = once(
    sql,
    /RETURNING j\.id, j\.queue, j\.task,[\s\S]*?AS outcome/,
    "RETURNING j.id, j.waited, CASE WHEN l.cancelled THEN 'cancelled' ELSE 'completed' END AS outcome",
  );
  return once(lean, /kept AS \(\s*INSERT INTO[\s\S]*?RETURNING 1\s*\)/, 'kept AS (SELECT 1 WHERE false)');
}

/** The retention read once per statement (one row per queue in the batch) rather than once per job. */
function keepPerQueue(sql: string): string {
  return once(
    sql,
    /WHERE coalesce\(\(SELECT k\.keep FROM [^)]*\), interval '1 day'\)\s*> interval '0'/,
    `WHERE d.queue NOT IN (SELECT k.name FROM ${SCHEMA}.queues k WHERE k.keep = interval '0')`,
  );
}

const VARIANTS: Variant[] = [
  { name: 'off', what: "keep '0': the finish writes no history", history: false },
  { name: 'on', what: 'default retention, hourly partitions (4 indexes)', history: true, partitions: true },
  { name: 'on-default-part', what: 'default retention, DEFAULT partition only', history: true },
  ...HISTORY_INDEXES.map((index) => ({
    name: `on-no-${index.replace('job_history_', '').replace('_idx', '')}`,
    what: `on, without ${index}`,
    history: true,
    partitions: true,
    drop: [index],
  })),
  {
    name: 'on-heap-only',
    what: 'on, no index on job_history',
    history: true,
    partitions: true,
    drop: HISTORY_INDEXES,
  },
  {
    name: 'on-keep-per-queue',
    what: 'on, keep looked up per queue, not per job',
    history: true,
    partitions: true,
    rewrite: keepPerQueue,
  },
  {
    name: 'off-rpc',
    what: 'off, session random_page_cost 1.1 (the table is cached)',
    history: false,
    session: 'SET random_page_cost = 1.1',
  },
  {
    name: 'on-rpc',
    what: 'on, session random_page_cost 1.1 (the table is cached)',
    history: true,
    partitions: true,
    session: 'SET random_page_cost = 1.1',
  },
  {
    name: 'off-lean',
    what: 'off, statement without the history CTE, narrow RETURNING',
    history: false,
    rewrite: withoutHistory,
  },
];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  Operation?: string;
  'Actual Total Time': number;
  'Actual Loops': number;
  'WAL Bytes'?: number;
  'WAL Records'?: number;
  'WAL FPI'?: number;
  'Shared Dirtied Blocks'?: number;
  Plans?: PlanNode[];
}

/**
 * One cycle's EXPLAIN, boiled down to its CTEs. A CTE is run once and its rows kept, so the
 * inclusive time of the CTE's own plan is what running it cost, whichever node pulled it
 * first; the scans that read it later read the kept rows. Node times of the rest of the tree
 * fold CTE runs into whichever node pulled them, so they are not summed.
 */
interface Breakdown {
  executionMs: number;
  walBytes: number;
  walRecords: number;
  walFpi: number;
  /** Per CTE: its plan's time, WAL and pages dirtied. */
  ctes: Map<string, { ms: number; walBytes: number; dirtied: number }>;
}

function breakdown(plan: { Plan: PlanNode; 'Execution Time': number }): Breakdown {
  const ctes = new Map<string, { ms: number; walBytes: number; dirtied: number }>();
  const walk = (node: PlanNode) => {
    const name = node['Subplan Name'];
    if (name?.startsWith('CTE ')) {
      ctes.set(name.slice(4), {
        ms: node['Actual Total Time'] * node['Actual Loops'],
        walBytes: node['WAL Bytes'] ?? 0,
        dirtied: node['Shared Dirtied Blocks'] ?? 0,
      });
    }
    for (const k of node.Plans ?? []) walk(k);
  };
  walk(plan.Plan);
  return {
    executionMs: plan['Execution Time'],
    walBytes: plan.Plan['WAL Bytes'] ?? 0,
    walRecords: plan.Plan['WAL Records'] ?? 0,
    walFpi: plan.Plan['WAL FPI'] ?? 0,
    ctes,
  };
}

interface VariantRun {
  cycleMs: number[];
  /** The session's backend CPU time (user + system) per plain cycle: what contention on a busy machine does not inflate. */
  cpuMsPerCycle: number;
  explains: Breakdown[];
  plan?: string;
}

type CycleSql = (n: unknown) => string;

async function runVariant(
  serverUrl: string,
  variant: Variant,
  sql: string,
  opts: { batch: number; jobs: number; cycles: number; explainEvery: number; plan: boolean },
): Promise<VariantRun> {
  const db = await createDatabase(serverUrl, `explain_${variant.name}`);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const session = new pg.Client({ connectionString: db.url });
  try {
    const queue = new Queue({ pool, logger: silentLogger });
    await queue.migrate();
    await keepHistory(pool, variant.history);
    // migrate() made the partitions; the DEFAULT-only variant takes them away again.
    if (variant.history && !variant.partitions) {
      const { rows } = await pool.query(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = '${SCHEMA}.job_history'::regclass AND c.relname <> 'job_history_default'`,
      );
      for (const r of rows) await pool.query(`DROP TABLE ${SCHEMA}.${r.relname}`);
    }
    for (const index of variant.drop ?? []) await pool.query(`DROP INDEX ${SCHEMA}.${index}`);
    // As the drain workload queues them: through the bulk API, not vacuumed.
    const jobs = Math.max(opts.jobs, opts.batch * (opts.cycles + 2));
    for (let from = 0; from < jobs; from += 1_000) {
      const n = Math.min(1_000, jobs - from);
      await queue.enqueueMany(
        Array.from({ length: n }, (_, k) => ({ task: TASK, payload: { t: 0, i: from + k } })),
      );
    }
    await queue.close();

    await session.connect();
    // As the worker's claimer session: a custom plan for every execution.
    await session.query('SET plan_cache_mode = force_custom_plan');
    if (variant.session) await session.query(variant.session);
    const text = variant.rewrite ? variant.rewrite(sql) : sql;
    const params = (finished: string[]) => [
      finished,
      finished,
      [],
      [],
      [],
      [],
      [],
      'explain-worker',
      finished.length ? [QUEUE] : [],
      finished.length ? [finished.length] : [],
      finished.length ? [0] : [],
      QUEUE,
      [TASK],
      // The worker still counts the batch it finishes as held: the claim must not lock it again.
      finished,
      Math.max(opts.batch * 2, 64),
      opts.batch,
      finished.map(() => null),
      finished.map(() => false),
      // Every run under 1 ms: the no-op handler's histogram.
      finished.length ? [`{${[finished.length, ...new Array(31).fill(0)].join(',')}}`] : [],
    ];
    const first = await session.query({ name: 'cycle', text, values: params([]) });
    let held = first.rows.filter((r) => r.id != null).map((r) => String(r.id));
    const out: VariantRun = { cycleMs: [], cpuMsPerCycle: 0, explains: [] };
    const pid = (await session.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    let cpuMs = 0;
    for (let i = 1; i <= opts.cycles; i++) {
      if (held.length < opts.batch) throw new Error(`${variant.name}: only ${held.length} jobs claimed`);
      if (i % opts.explainEvery === 0) {
        const { rows } = await session.query(
          `EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT ${opts.plan && out.plan === undefined ? 'TEXT' : 'JSON'}) ${text}`,
          params(held),
        );
        if (opts.plan && out.plan === undefined) out.plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        else out.explains.push(breakdown(rows[0]['QUERY PLAN'][0]));
        // EXPLAIN returns no rows: the claimed jobs are those started and not finished.
        const claimed = await session.query(
          `SELECT id::text FROM ${SCHEMA}.jobs WHERE started_at IS NOT NULL`,
        );
        held = claimed.rows.map((r) => r.id);
      } else {
        const c0 = await backendCpuMs(pid);
        const t0 = now();
        const { rows } = await session.query({ name: 'cycle', text, values: params(held) });
        out.cycleMs.push(now() - t0);
        cpuMs += (await backendCpuMs(pid)) - c0;
        held = rows.filter((r) => r.id != null).map((r) => String(r.id));
      }
    }
    out.cpuMsPerCycle = cpuMs / out.cycleMs.length;
    return out;
  } finally {
    await session.end().catch(() => {});
    await pool.end().catch(() => {});
    await dropDatabase(serverUrl, db.name).catch(() => {});
  }
}

/**
 * A backend's CPU time so far, from /proc (the server must run on this machine), in ms.
 * Clock ticks are 10 ms; summed over a run's cycles, that is precise enough.
 */
async function backendCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '500' },
      jobs: { type: 'string', default: '50000' },
      cycles: { type: 'string', default: '30' },
      rounds: { type: 'string', default: '3' },
      'explain-every': { type: 'string', default: '3' },
      variants: { type: 'string' },
      plan: { type: 'boolean', default: false },
    },
  });
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is required: the Postgres server to run on');
  const opts = {
    batch: Number(values.batch),
    jobs: Number(values.jobs),
    cycles: Number(values.cycles),
    explainEvery: Number(values['explain-every']),
    plan: values.plan ?? false,
  };
  const wanted = values.variants?.split(',').map((s) => s.trim());
  const variants = wanted ? VARIANTS.filter((v) => wanted.includes(v.name)) : VARIANTS;
  if (wanted && variants.length !== wanted.length)
    throw new Error(`unknown variant; known: ${VARIANTS.map((v) => v.name).join(', ')}`);

  const cycleModule = (await import(pathToFileURL(join(CORE_SQL, 'cycle.ts')).href)) as {
    cycleSql: CycleSql;
  };
  const namesModule = (await import(pathToFileURL(join(CORE_SQL, 'names.ts')).href)) as {
    makeNames(schema?: string): unknown;
  };
  const sql = cycleModule.cycleSql(namesModule.makeNames(SCHEMA));

  const runs = new Map<string, VariantRun[]>(variants.map((v) => [v.name, []]));
  const rounds = Number(values.rounds);
  for (let round = 1; round <= rounds; round++) {
    for (const v of variants) {
      const run = await runVariant(serverUrl, v, sql, opts);
      runs.get(v.name)!.push(run);
      if (run.plan) process.stdout.write(`\n--- ${v.name} (${v.what}) ---\n${run.plan}\n`);
      process.stderr.write(
        `[r${round}] ${v.name}: cycle ${median(run.cycleMs).toFixed(1)} ms, backend CPU ${run.cpuMsPerCycle.toFixed(1)} ms (load ${load()})\n`,
      );
    }
  }
  report(variants, runs, opts.batch);
}

function report(variants: Variant[], runs: Map<string, VariantRun[]>, batch: number): void {
  const all = (name: string) => runs.get(name)!;
  const cycle = (name: string) => median(all(name).flatMap((r) => r.cycleMs));
  const explains = (name: string) => all(name).flatMap((r) => r.explains);
  const base = runs.has('off') ? cycle('off') : undefined;
  const on = runs.has('on') ? cycle('on') : undefined;
  const cpu = (name: string) => median(all(name).map((r) => r.cpuMsPerCycle));
  const cpuBase = runs.has('off') ? cpu('off') : undefined;
  const cpuOn = runs.has('on') ? cpu('on') : undefined;
  const lines = [
    '',
    `cycle statement, finishing ${batch} jobs and claiming ${batch}: medians (load ${load()})`,
    '',
    'variant            | cycle ms | vs off | vs on  | CPU ms | vs off | vs on  | exec ms | WAL kB | WAL recs | FPI | what',
    '-------------------|----------|--------|--------|--------|--------|--------|---------|--------|----------|-----|-----',
  ];
  const pct = (x: number, y: number | undefined) =>
    y === undefined ? '-' : `${x >= y ? '+' : ''}${(((x - y) / y) * 100).toFixed(0)}%`;
  for (const v of variants) {
    const c = cycle(v.name);
    const ex = explains(v.name);
    const m = (f: (b: Breakdown) => number) => median(ex.map(f));
    lines.push(
      [
        v.name.padEnd(18),
        c.toFixed(1).padStart(8),
        pct(c, base).padStart(6),
        pct(c, on).padStart(6),
        cpu(v.name).toFixed(1).padStart(6),
        pct(cpu(v.name), cpuBase).padStart(6),
        pct(cpu(v.name), cpuOn).padStart(6),
        m((b) => b.executionMs)
          .toFixed(1)
          .padStart(7),
        (m((b) => b.walBytes) / 1024).toFixed(0).padStart(6),
        m((b) => b.walRecords)
          .toFixed(0)
          .padStart(8),
        m((b) => b.walFpi)
          .toFixed(0)
          .padStart(3),
        v.what,
      ].join(' | '),
    );
  }
  // Per CTE, for every variant: where the differences between them sit.
  const names = [...new Set(variants.flatMap((v) => explains(v.name).flatMap((b) => [...b.ctes.keys()])))];
  lines.push('', "EXPLAIN per CTE, median ms (WAL kB), the CTE's plan inclusive:");
  lines.push(['variant'.padEnd(18), ...names.map((n) => n.padStart(14))].join(' | '));
  for (const v of variants) {
    const ex = explains(v.name);
    const cell = (n: string) => {
      const ms = median(ex.map((b) => b.ctes.get(n)?.ms ?? 0));
      const wal = median(ex.map((b) => b.ctes.get(n)?.walBytes ?? 0)) / 1024;
      return `${ms.toFixed(1)} (${wal.toFixed(0)})`.padStart(14);
    };
    lines.push([v.name.padEnd(18), ...names.map(cell)].join(' | '));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
