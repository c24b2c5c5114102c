import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { formatTable, toJson } from '../src/report.js';
import { runBench } from '../src/runner.js';

const lines0 = (result: Parameters<typeof formatTable>[0]) => formatTable(result);

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL from the root global setup (packages/test-utils). */
    databaseUrl: string;
  }
}

const WORKLOADS = [
  'enqueue',
  'bulk',
  'unique',
  'drain',
  'history',
  'flow-global',
  'flow-keys',
  'tracing',
  'latency',
  'load',
  'scale',
];

it('runs the smoke benchmark on @queue: every workload, every job, a table and JSON', async () => {
  const result = await runBench({ databaseUrl: inject('databaseUrl'), smoke: true, peers: ['queue'] });
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  try {
    // The JSON as written to disk must parse back.
    await writeFile(join(dir, 'out.json'), toJson(result));
    const json = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8'));

    expect(json.meta.mode).toBe('smoke');
    expect(json.meta.postgres.settings.synchronous_commit).toBe('on');
    expect(json.meta.peers.map((p: { name: string }) => p.name)).toEqual(['queue']);
    expect(Object.keys(json.workloads)).toEqual(WORKLOADS);
    for (const name of WORKLOADS) {
      const slot = json.workloads[name].peers.queue;
      expect(slot.error, `${name}: ${slot.error}`).toBeUndefined();
      expect(slot.rounds).toHaveLength(1);
      for (const run of slot.rounds) {
        expect(run.expected, name).toBeGreaterThan(0);
        expect(run.processed, `${name}: every job processed`).toBe(run.expected);
      }
      expect(slot.allProcessed, name).toBe(true);
    }
    const m = (w: string) => json.workloads[w].peers.queue.median;
    expect(m('enqueue').jobsPerSec).toBeGreaterThan(0);
    expect(m('bulk').jobsPerSec).toBeGreaterThan(0);
    expect(m('drain').jobsPerSec).toBeGreaterThan(0);
    for (const key of ['enqueuePlainPerSec', 'enqueueKeyedPerSec', 'bulkPlainPerSec', 'bulkKeyedPerSec'])
      expect(m('unique')[key], key).toBeGreaterThan(0);
    expect(m('drain').peakRssMb).toBeGreaterThan(10);
    expect(m('drain').duplicates).toBe(0);
    // History on: every drained job recorded, in the hourly partitions the setup made.
    expect(m('history').jobsPerSec).toBeGreaterThan(0);
    expect(m('history').historyRows).toBe(json.meta.sizes.drain.jobs);
    expect(m('history').historyInDefault).toBe(0);
    expect(m('history').duplicates).toBe(0);
    for (const key of ['p50', 'p95', 'p99']) expect(m('latency')[key]).toBeGreaterThan(0);
    expect(m('load').p99).toBeGreaterThan(0);
    expect(m('scale').p1JobsPerSec).toBeGreaterThan(0);
    // Flow limits: every job drained once, beside the plain drain (see workloads/flow.ts).
    for (const w of ['flow-global', 'flow-keys']) expect(m(w).duplicates, w).toBe(0);
    // Tracing: one enqueue span per enqueue call and one run span per job, in each mode.
    expect(m('tracing').spansMissing).toBe(0);
    expect(m('tracing').drainSimplePerSec).toBeGreaterThan(0);
    expect(lines0(result)).toMatch(/1,000 keys at limit 1 \[jobs\/s\]\s+\|\s+[\d,.]+ \([+-]\d+% vs plain\)/);
    expect(json.targets).toHaveLength(13);
    for (const t of json.targets)
      expect(t).toEqual({
        target: expect.any(String),
        value: expect.any(String),
        met: expect.toBeOneOf([true, false, null]),
      });

    const table = formatTable(result);
    const lines = table.split('\n');
    // The @queue column is as wide as its widest cell (the history row's "(+N% vs off)").
    expect(lines[0]).toMatch(/^workload \(median\)\s+\|\s+@queue$/);
    for (const row of [
      'enqueue, 16 producers',
      'bulk enqueue',
      'drain 2000 jobs',
      'latency idle p99',
      '/s: latency p99',
      'memory: worker peak RSS',
    ]) {
      expect(
        lines.some((l) => l.includes(row) && /\|\s+[\d,.]+$/.test(l)),
        row,
      ).toBe(true);
    }
    // The history row compares @queue with its own drain row, history off.
    expect(lines.some((l) => l.includes('history kept') && /\|\s+[\d,.]+ \([+-]\d+% vs off\)$/.test(l))).toBe(
      true,
    );
    // The keyed rows compare @queue with its own plain runs.
    for (const row of ['enqueue, unique keys', 'bulk enqueue, unique keys'])
      expect(
        lines.some((l) => l.includes(row) && /\|\s+[\d,.]+ \([+-]\d+% vs plain\)$/.test(l)),
        row,
      ).toBe(true);
    expect(table).toContain('Targets (medians):');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
