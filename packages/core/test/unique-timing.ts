/**
 * Enqueue cost with and without unique keys: a local timing loop, medians of alternating rounds
 * (so that drift in a shared machine's load hits every variant alike). Not a test: run it by
 * hand against a migrated scratch database,
 *   npx tsx packages/core/test/unique-timing.ts postgres://…/scratch
 * It empties the schema's jobs table as it goes.
 */
import { performance } from 'node:perf_hooks';
import { Queue, type UniqueOptions } from '../src/index.js';

const url = process.argv[2];
if (!url) throw new Error('usage: unique-timing.ts <connection string of a migrated scratch database>');
const rounds = Number(process.argv[3] ?? 9);
/** Which measurements: any of single, concurrent, bulk (default all). */
const only = new Set((process.argv[4] ?? 'single,concurrent,bulk').split(','));
/** Which variants (names as below; default all). */
const which = process.argv[5]?.split(',');

const queue = new Queue({ connectionString: url, tasks: { t: async () => {} } });
await queue.migrate();
const pool = (queue as unknown as { pool: { query(t: string): Promise<unknown> } }).pool;
const reset = () => pool.query('TRUNCATE queue.jobs');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

let seq = 0;
type Variant = [string, (i: number) => UniqueOptions | undefined];
const variants: Variant[] = [
  ['plain', () => undefined],
  ['key', (i) => ({ key: `k${i}` })],
  ['by', () => ({ by: ['i'] })],
  ['key, deduplicated', () => ({ key: 'same' })],
  ['key, replace', (i) => ({ key: `r${i}`, mode: 'replace' })],
];

async function sequential(unique: Variant[1], n: number): Promise<number> {
  const times: number[] = [];
  for (let j = 0; j < n; j++) {
    const i = seq++;
    const t0 = performance.now();
    await queue.enqueue('t', { i }, { unique: unique(i) });
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function concurrent(unique: Variant[1], producers: number, n: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next++ < n) {
        const i = seq++;
        await queue.enqueue('t', { i }, { unique: unique(i) });
      }
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

async function bulk(unique: Variant[1], size: number): Promise<number> {
  const items = Array.from({ length: size }, () => {
    const i = seq++;
    const u = unique(i);
    return { task: 't' as const, payload: { i }, options: u ? { unique: u } : {} };
  });
  const t0 = performance.now();
  await queue.enqueueMany(items);
  return performance.now() - t0;
}

const results: Record<string, { single: number[]; concurrent: number[]; bulk: number[] }> = {};
if (which)
  variants.splice(0, variants.length, ...variants.filter(([n]) => n === 'plain' || which.includes(n)));
for (const [name] of variants) results[name] = { single: [], concurrent: [], bulk: [] };
// Warm-up: connections, plans.
for (const [, u] of variants) {
  await sequential(u, 50);
  await bulk(u, 1000);
}
for (let r = 0; r < rounds; r++) {
  for (const [name, u] of variants) {
    await reset();
    if (only.has('single')) results[name]!.single.push(await sequential(u, 300));
    await reset();
    if (only.has('concurrent')) results[name]!.concurrent.push(await concurrent(u, 16, 3000));
    await reset();
    if (only.has('bulk')) results[name]!.bulk.push(await bulk(u, 1000));
  }
}
const plain = results.plain!;
console.log(
  `${rounds} rounds; medians. single: one enqueue at a time (ms per call); concurrent: 16 producers on one Queue (jobs/s); bulk: enqueueMany of 1,000 (ms)`,
);
for (const [name, r] of Object.entries(results)) {
  const s = r.single.length ? median(r.single) : Number.NaN;
  const c = r.concurrent.length ? median(r.concurrent) : Number.NaN;
  const b = r.bulk.length ? median(r.bulk) : Number.NaN;
  const vs = (x: number, base: number) => `${x >= base ? '+' : ''}${(((x - base) / base) * 100).toFixed(0)}%`;
  console.log(
    `${name.padEnd(18)} single ${s.toFixed(3)} ms (${vs(s, median(plain.single))})  concurrent ${c.toFixed(0)}/s (${vs(c, median(plain.concurrent))})  bulk ${b.toFixed(1)} ms (${vs(b, median(plain.bulk))})`,
  );
}
await reset();
await queue.close();
