/**
 * What the claim's `unique_queued = NULL` costs a worker draining the queue: a local timing
 * loop, medians of alternating rounds, plain jobs and jobs with distinct keys. Not a test: run
 * it by hand against a migrated scratch database (it empties the jobs and history tables),
 *   npx tsx packages/core/test/unique-drain-timing.ts postgres://…/scratch [rounds] [jobs]
 * and compare with a build whose claim lacks the assignment.
 */
import { performance } from 'node:perf_hooks';
import { Queue, silentLogger } from '../src/index.js';

const url = process.argv[2];
if (!url) throw new Error('usage: unique-drain-timing.ts <connection string of a migrated scratch database>');
const rounds = Number(process.argv[3] ?? 5);
const jobs = Number(process.argv[4] ?? 4000);

const queue = new Queue({ connectionString: url, tasks: { t: async () => {} }, logger: silentLogger });
await queue.migrate();
const pool = (queue as unknown as { pool: { query(t: string): Promise<unknown> } }).pool;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function drain(keyed: boolean, round: number): Promise<number> {
  await pool.query('TRUNCATE queue.jobs, queue.job_history');
  for (let from = 0; from < jobs; from += 1000) {
    await queue.enqueueMany(
      Array.from({ length: Math.min(1000, jobs - from) }, (_, i) => ({
        task: 't' as const,
        payload: { i: from + i },
        options: keyed ? { unique: { key: `r${round}:${from + i}` } } : {},
      })),
    );
  }
  const worker = queue.worker({ concurrency: 16, pollInterval: 1000 });
  let done = 0;
  const all = new Promise<void>((resolve) =>
    worker.on('completed', () => {
      if (++done === jobs) resolve();
    }),
  );
  const t0 = performance.now();
  await worker.start();
  await all;
  const ms = performance.now() - t0;
  await worker.stop();
  return ms;
}

const times: Record<string, number[]> = { plain: [], keyed: [] };
await drain(false, -1);
for (let r = 0; r < rounds; r++) {
  times.plain!.push(await drain(false, r));
  times.keyed!.push(await drain(true, r));
}
for (const [name, xs] of Object.entries(times)) {
  const ms = median(xs);
  console.log(
    `${name.padEnd(6)} drain of ${jobs}: ${ms.toFixed(0)} ms median (${((jobs / ms) * 1000).toFixed(0)} jobs/s); all: ${xs.map((x) => x.toFixed(0)).join(', ')}`,
  );
}
await pool.query('TRUNCATE queue.jobs, queue.job_history');
await queue.close();
