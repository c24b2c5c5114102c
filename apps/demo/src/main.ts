/**
 * The main demo: a burst of jobs through one worker, on the embedded Postgres unless
 * DATABASE_URL is set. Prints progress, then the figures.
 */
import { createHash } from 'node:crypto';
import { Queue } from '@queue/core';
import { startPostgres } from '@queue/dev-postgres';
import { progressLine } from './progress.js';

const JOBS = Number(process.env.JOBS ?? 10_000);
const BATCH = 1_000;
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);

const format = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  console.log(process.env.DATABASE_URL ? 'Using DATABASE_URL' : 'Starting an embedded Postgres…');
  const postgres = await startPostgres();
  // Each run starts from an empty schema of its own, so reruns on a shared DATABASE_URL stay clean.
  const schema = `queue_demo_${process.pid}`;
  const queue = new Queue({
    connectionString: postgres.url,
    schema,
    tasks: {
      // Stand-in for real work: a little CPU per job.
      digest: async (payload: { n: number }) => {
        createHash('sha256').update(String(payload.n)).digest('hex');
      },
    },
  });
  try {
    await queue.migrate();
    const progress = progressLine(JOBS);

    const enqueueStart = performance.now();
    for (let i = 0; i < JOBS; i += BATCH) {
      const size = Math.min(BATCH, JOBS - i);
      await queue.enqueueMany(
        Array.from({ length: size }, (_, j) => ({ task: 'digest', payload: { n: i + j } })),
      );
      progress.update('enqueued', i + size, i + size === JOBS);
    }
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
    progress.end();

    const worker = queue.worker({ concurrency: CONCURRENCY });
    let done = 0;
    let failed = 0;
    const finished = new Promise<void>((resolve) => {
      const tick = () => {
        progress.update('completed', done + failed, done + failed === JOBS);
        if (done + failed === JOBS) resolve();
      };
      worker.on('completed', () => {
        done++;
        tick();
      });
      worker.on('failed', () => {
        failed++;
        tick();
      });
    });
    const drainStart = performance.now();
    await worker.start();
    await finished;
    const drainSeconds = (performance.now() - drainStart) / 1000;
    progress.end();
    await worker.stop();

    console.log('');
    console.log(`jobs       ${format(JOBS)} (${format(done)} completed, ${failed} failed)`);
    console.log(
      `enqueue    ${enqueueSeconds.toFixed(2)} s  (${format(JOBS / enqueueSeconds)} jobs/s, batches of ${BATCH})`,
    );
    console.log(
      `drain      ${drainSeconds.toFixed(2)} s  (${format(JOBS / drainSeconds)} jobs/s, 1 worker, concurrency ${CONCURRENCY})`,
    );
    console.log(`postgres   ${postgres.embedded ? 'embedded' : 'DATABASE_URL'}; synchronous_commit on`);
    if (failed > 0) process.exitCode = 1;
  } finally {
    await queue.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await queue.close();
    await postgres.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
