import type { BenchResult } from './runner.js';

/** The figures the table shows, and which direction is better. */
interface Row {
  workload: string;
  metric: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /**
   * The workload whose figures the peers' cells show, when the peers do not run this one:
   * the history row shows their drain, each keeping what it keeps of finished jobs.
   */
  peersFrom?: string;
  /** An @queue figure this row's is compared with in its own cell, as a change in percent. */
  versus?: { workload: string; metric: string; label: string };
}

function rows(result: BenchResult): Row[] {
  const points = result.meta.sizes.scale.points;
  const s = result.meta.sizes;
  return [
    {
      workload: 'enqueue',
      metric: 'jobsPerSec',
      label: `enqueue, ${s.enqueue.producers} producers`,
      unit: 'jobs/s',
      better: 'higher',
    },
    {
      workload: 'bulk',
      metric: 'jobsPerSec',
      label: `bulk enqueue, batches of ${s.bulk.batch}`,
      unit: 'jobs/s',
      better: 'higher',
    },
    ...(['enqueue', 'bulk'] as const).map(
      (w): Row => ({
        workload: 'unique',
        metric: `${w}KeyedPerSec`,
        label: w === 'enqueue' ? 'enqueue, unique keys' : 'bulk enqueue, unique keys',
        unit: 'jobs/s',
        better: 'higher',
        versus: { workload: 'unique', metric: `${w}PlainPerSec`, label: 'plain' },
      }),
    ),
    {
      workload: 'drain',
      metric: 'jobsPerSec',
      label: `drain ${s.drain.jobs} jobs, 1 process`,
      unit: 'jobs/s',
      better: 'higher',
    },
    {
      workload: 'history',
      metric: 'jobsPerSec',
      label: `drain ${s.drain.jobs} jobs, history kept`,
      unit: 'jobs/s',
      better: 'higher',
      peersFrom: 'drain',
      versus: { workload: 'drain', metric: 'jobsPerSec', label: 'off' },
    },
    ...(['flow-global', 'flow-keys'] as const).map(
      (w): Row => ({
        workload: w,
        metric: 'jobsPerSec',
        label: `drain ${s.drain.jobs} jobs, ${w === 'flow-global' ? 'global limit 10,000' : '1,000 keys at limit 1'}`,
        unit: 'jobs/s',
        better: 'higher',
        versus: { workload: 'drain', metric: 'jobsPerSec', label: 'plain' },
      }),
    ),
    ...(['Simple', 'Batch'] as const).flatMap((mode): Row[] => {
      const label = mode === 'Simple' ? 'tracing, in-memory exporter' : 'tracing, batched to memory';
      const versus = (metric: string) => ({ workload: 'tracing', metric, label: 'off' });
      return [
        {
          workload: 'tracing',
          metric: `enqueue${mode}PerSec`,
          label: `enqueue, ${s.enqueue.producers} producers, ${label}`,
          unit: 'jobs/s',
          better: 'higher',
          versus: versus('enqueueOffPerSec'),
        },
        {
          workload: 'tracing',
          metric: `drain${mode}PerSec`,
          label: `drain ${s.drain.jobs} jobs, ${label}`,
          unit: 'jobs/s',
          better: 'higher',
          versus: versus('drainOffPerSec'),
        },
        {
          workload: 'tracing',
          metric: `drain${mode}CpuMsPer1kJobs`,
          label: `worker CPU per 1,000 jobs, ${label}`,
          unit: 'ms',
          better: 'lower',
          versus: versus('drainOffCpuMsPer1kJobs'),
        },
      ];
    }),
    { workload: 'latency', metric: 'p50', label: 'latency idle p50', unit: 'ms', better: 'lower' },
    { workload: 'latency', metric: 'p95', label: 'latency idle p95', unit: 'ms', better: 'lower' },
    { workload: 'latency', metric: 'p99', label: 'latency idle p99', unit: 'ms', better: 'lower' },
    {
      workload: 'load',
      metric: 'throughputPerSec',
      label: `under ${s.load.rate}/s: throughput`,
      unit: 'jobs/s',
      better: 'higher',
    },
    {
      workload: 'load',
      metric: 'backlogEnd',
      label: `under ${s.load.rate}/s: backlog at end`,
      unit: 'jobs',
      better: 'lower',
    },
    {
      workload: 'load',
      metric: 'p50',
      label: `under ${s.load.rate}/s: latency p50`,
      unit: 'ms',
      better: 'lower',
    },
    {
      workload: 'load',
      metric: 'p99',
      label: `under ${s.load.rate}/s: latency p99`,
      unit: 'ms',
      better: 'lower',
    },
    ...points.map(
      (p, k): Row => ({
        workload: 'scale',
        metric: `p${k}JobsPerSec`,
        label: `drain, ${p.label}`,
        unit: 'jobs/s',
        better: 'higher',
      }),
    ),
    {
      workload: 'drain',
      metric: 'peakRssMb',
      label: 'memory: worker peak RSS (drain)',
      unit: 'MB',
      better: 'lower',
    },
    {
      workload: 'drain',
      metric: 'cpuMsPer1kJobs',
      label: 'worker CPU per 1,000 jobs (drain)',
      unit: 'ms',
      better: 'lower',
    },
    {
      workload: 'drain',
      metric: 'dbCpuMsPer1kJobs',
      label: 'database CPU per 1,000 jobs (drain)',
      unit: 'ms',
      better: 'lower',
    },
    {
      workload: 'history',
      metric: 'dbCpuMsPer1kJobs',
      label: 'database CPU per 1,000 jobs (history kept)',
      unit: 'ms',
      better: 'lower',
      peersFrom: 'drain',
      versus: { workload: 'drain', metric: 'dbCpuMsPer1kJobs', label: 'off' },
    },
  ];
}

function value(result: BenchResult, workload: string, peer: string, metric: string): number | undefined {
  const v = result.workloads[workload]?.peers[peer]?.median[metric];
  return v === undefined || !Number.isFinite(v) ? undefined : v;
}

/** The workload a row's cell for `peer` reads from. */
function source(row: Row, peer: string): string {
  return peer !== 'queue' && row.peersFrom ? row.peersFrom : row.workload;
}

/** How many times better @queue is than the peer (above 1: @queue is better). */
function advantage(row: Row, queue: number, peer: number): number {
  return row.better === 'higher' ? queue / peer : peer / queue;
}

export function ratios(result: BenchResult): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const row of rows(result)) {
    const q = value(result, row.workload, 'queue', row.metric);
    if (q === undefined) continue;
    for (const { name } of result.meta.peers) {
      const p = value(result, source(row, name), name, row.metric);
      // A ratio to or from zero (an empty backlog) says nothing.
      if (name === 'queue' || p === undefined || p <= 0 || q <= 0) continue;
      const key = `${row.workload}.${row.metric}`;
      out[key] = { ...out[key], [name]: advantage(row, q, p) };
    }
  }
  return out;
}

export interface TargetCheck {
  target: string;
  value: string;
  /** null when a figure it needs is missing (peer skipped or workload not run). */
  met: boolean | null;
}

export function targets(result: BenchResult): TargetCheck[] {
  const v = (w: string, peer: string, m: string) => value(result, w, peer, m);
  const pgPeers = result.meta.peers
    .filter((p) => p.backend === 'postgres' && p.name !== 'queue')
    .map((p) => p.name);
  const best = (w: string, m: string) => {
    const vals = pgPeers.map((p) => v(w, p, m)).filter((x): x is number => x !== undefined);
    return vals.length ? Math.max(...vals) : undefined;
  };
  const check = (
    target: string,
    x: number | undefined,
    ok: (x: number) => boolean,
    show: (x: number) => string,
  ): TargetCheck =>
    x === undefined ? { target, value: 'n/a', met: null } : { target, value: show(x), met: ok(x) };
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? a / b : undefined;
  const times = (x: number) => `${x.toFixed(2)}x`;
  const rss = result.meta.peers
    .filter((p) => p.name !== 'queue')
    .map((p) => v('drain', p.name, 'peakRssMb'))
    .filter((x): x is number => x !== undefined);
  const loadP99 = v('load', 'queue', 'p99');
  const scale = result.meta.sizes.scale;
  const keptUp = v('load', 'queue', 'keptUp');
  const historyOn = v('history', 'queue', 'jobsPerSec');
  const historyOff = v('drain', 'queue', 'jobsPerSec');
  return [
    check(
      'drain >= 2.5x graphile-worker',
      ratio(v('drain', 'queue', 'jobsPerSec'), v('drain', 'graphile', 'jobsPerSec')),
      (x) => x >= 2.5,
      times,
    ),
    check(
      'drain with history kept within 15% of drain with history off',
      ratio(historyOn, historyOff),
      (x) => x >= 0.85,
      (x) => {
        const cpu = ratio(v('history', 'queue', 'dbCpuMsPer1kJobs'), v('drain', 'queue', 'dbCpuMsPer1kJobs'));
        const perJob = cpu === undefined ? '' : `; database CPU per job ${signed((cpu - 1) * 100)}%`;
        return `${(x * 100).toFixed(0)}% (${fmt(historyOn, 'jobs/s')} vs ${fmt(historyOff, 'jobs/s')} jobs/s${perJob})`;
      },
    ),
    ...(['flow-global', 'flow-keys'] as const).map((w) =>
      check(
        `drain with ${w === 'flow-global' ? 'a global limit' : '1,000 keys at limit 1'} within 25% of plain drain`,
        ratio(v(w, 'queue', 'jobsPerSec'), historyOff),
        (x) => x >= 0.75,
        (x) =>
          `${(x * 100).toFixed(0)}% (${fmt(v(w, 'queue', 'jobsPerSec'), 'jobs/s')} vs ${fmt(historyOff, 'jobs/s')} jobs/s)`,
      ),
    ),
    check(
      'enqueue (16 producers) >= 5x best Postgres peer',
      ratio(v('enqueue', 'queue', 'jobsPerSec'), best('enqueue', 'jobsPerSec')),
      (x) => x >= 5,
      times,
    ),
    check(
      'bulk enqueue >= 2.5x best Postgres peer',
      ratio(v('bulk', 'queue', 'jobsPerSec'), best('bulk', 'jobsPerSec')),
      (x) => x >= 2.5,
      times,
    ),
    ...(
      [
        ['enqueue', 'keyed single enqueue (16 producers) within 20% of plain', 0.2],
        ['bulk', 'keyed bulk enqueue within 30% of plain', 0.3],
      ] as const
    ).map(([w, target, most]) =>
      check(
        target,
        v('unique', 'queue', `${w}KeyedCost`),
        (x) => x <= most,
        (x) => `${signed(x * 100)}% time per job`,
      ),
    ),
    check(
      'idle latency p50 <= 2 ms',
      v('latency', 'queue', 'p50'),
      (x) => x <= 2,
      (x) => `${x.toFixed(2)} ms`,
    ),
    check(
      'idle latency p99 <= 10 ms',
      v('latency', 'queue', 'p99'),
      (x) => x <= 10,
      (x) => `${x.toFixed(2)} ms`,
    ),
    check(
      `p99 <= 50 ms under ${result.meta.sizes.load.rate} jobs/s, backlog not growing`,
      loadP99 === undefined || keptUp === undefined ? undefined : loadP99,
      (x) => x <= 50 && keptUp === 1,
      (x) => `${x.toFixed(1)} ms, ${keptUp === 1 ? 'kept up' : 'backlog grew'}`,
    ),
    check(
      `drain with ${scale.points[scale.compare.big]?.label} within 20% of drain with ${scale.points[scale.compare.base]?.label}`,
      ratio(
        v('scale', 'queue', `p${scale.compare.big}JobsPerSec`),
        v('scale', 'queue', `p${scale.compare.base}JobsPerSec`),
      ),
      (x) => x >= 0.8,
      (x) => `${(x * 100).toFixed(0)}%`,
    ),
    check(
      "worker peak RSS <= leanest peer's",
      ratio(v('drain', 'queue', 'peakRssMb'), rss.length ? Math.min(...rss) : undefined),
      (x) => x <= 1,
      () => `${v('drain', 'queue', 'peakRssMb')?.toFixed(0)} MB vs ${Math.min(...rss).toFixed(0)} MB`,
    ),
  ];
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(0)}`;
}

function fmt(x: number | undefined, unit: string): string {
  if (x === undefined) return '-';
  if (unit === 'ms') return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
  if (unit === 'MB') return x.toFixed(0);
  return Math.round(x).toLocaleString('en-US');
}

/** The results as a fixed-width text table, then the targets. */
export function formatTable(result: BenchResult): string {
  const peers = result.meta.peers.map((p) => p.name);
  const header = ['workload (median)', ...peers.map((p) => (p === 'queue' ? '@queue' : p))];
  const body: string[][] = [];
  for (const row of rows(result)) {
    if (!result.workloads[row.workload]) continue;
    const q = value(result, row.workload, 'queue', row.metric);
    const cells = peers.map((peer) => {
      const x = value(result, source(row, peer), peer, row.metric);
      const slot = result.workloads[source(row, peer)]?.peers[peer];
      if (slot?.error) return 'error';
      const cappedKey = row.metric.replace('JobsPerSec', 'Capped').replace('jobsPerSec', 'capped');
      const hitCap =
        row.metric.toLowerCase().endsWith('jobspersec') &&
        slot?.rounds.some((r) => r.metrics[cappedKey] === 1);
      const capped = hitCap ? '*' : '';
      const base = `${fmt(x, row.unit)}${capped}`;
      if (peer === 'queue' && row.versus && x !== undefined) {
        const y = value(result, row.versus.workload, peer, row.versus.metric);
        if (y !== undefined && y > 0) return `${base} (${signed((x / y - 1) * 100)}% vs ${row.versus.label})`;
      }
      if (peer === 'queue' || q === undefined || x === undefined || x <= 0 || q <= 0) return base;
      return `${base} (${advantage(row, q, x).toFixed(1)}x)`;
    });
    body.push([`${row.label} [${row.unit}]`, ...cells]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)];
  out.push(
    '',
    '(Nx): how many times better @queue is than that peer (higher throughput, or lower latency/memory).',
    '*: hit its time cap (in at least one round); the rate is over the jobs done within the cap.',
    ...(result.workloads.history
      ? [
          'history kept: @queue keeping completed jobs in job_history (default retention), against its drain row,',
          "  run with history off (keep '0'); the peers' cells repeat their drain row: each keeps what it always",
          '  keeps of finished jobs (Settings: keeps).',
        ]
      : []),
    '',
    'Targets (medians):',
  );
  for (const t of targets(result)) {
    out.push(`  [${t.met === null ? ' n/a ' : t.met ? ' met ' : 'MISSED'}] ${t.target}: ${t.value}`);
  }
  out.push('', 'Settings:');
  for (const p of result.meta.peers) {
    out.push(`  ${p.name.padEnd(12)} ${p.label}: ${p.settings}${p.durable ? '' : ' (not durable)'}`);
    out.push(`  ${''.padEnd(12)} keeps: ${p.keeps}`);
  }
  for (const s of result.meta.skipped) out.push(`  ${s.peer.padEnd(12)} skipped: ${s.reason}`);
  const notes = Object.entries(result.workloads).flatMap(([w, r]) =>
    Object.entries(r.peers).flatMap(([p, slot]) => [
      ...(slot.error ? [`${w}/${p}: error: ${slot.error.split('\n')[0]}`] : []),
      ...[...new Set(slot.notes)].map((n) => `${w}/${p}: ${n}`),
    ]),
  );
  if (notes.length) out.push('', 'Notes:', ...notes.map((n) => `  ${n}`));
  return out.join('\n');
}

/** The JSON written to disk: the raw results plus the derived ratios and target checks. */
export function toJson(result: BenchResult): string {
  return `${JSON.stringify({ ...result, ratios: ratios(result), targets: targets(result) }, null, 2)}\n`;
}
