/**
 * The throughput figures, measured apart from the story: a burst of jobs that do no work,
 * enqueued in batches and drained by one worker in this process.
 */
import type { Queue } from '@queue/core';
import { progressBars } from './progress.js';
import { quote } from './schema.js';

export interface Throughput {
  jobs: number;
  batch: number;
  concurrency: number;
  enqueueSeconds: number;
  drainSeconds: number;
  /** Jobs counted in the table after the enqueue phase. */
  enqueued: number;
  /** Jobs still in the table after the drain (0 when every job completed). */
  left: number;
}

const BATCH = 1_000;

export async function runThroughput(
  queue: Queue<{ noop: (payload: { n: number }) => Promise<void> }>,
  schema: string,
  jobs: number,
  concurrency: number,
  signal: AbortSignal,
): Promise<Throughput> {
  const count = async () =>
    (await queue.pool.query(`SELECT count(*)::int AS n FROM ${quote(schema)}.jobs WHERE task = 'noop'`))
      .rows[0].n as number;
  const bars = progressBars(9);
  const enqueueBar = bars.add('enqueued', jobs);
  const drainBar = bars.add('drained', jobs);
  const worker = queue.worker({ concurrency });
  try {
    const enqueueStart = performance.now();
    for (let i = 0; i < jobs; i += BATCH) {
      signal.throwIfAborted();
      const size = Math.min(BATCH, jobs - i);
      await queue.enqueueMany(
        Array.from({ length: size }, (_, j) => ({ task: 'noop', payload: { n: i + j } })),
      );
      enqueueBar.update(i + size);
    }
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
    const enqueued = await count();

    // The worker's events only say when to stop the clock; the figure is checked by a count.
    let finished = 0;
    const done = new Promise<void>((resolve, reject) => {
      const tick = () => {
        drainBar.update(++finished);
        if (finished === jobs) resolve();
      };
      worker.on('completed', tick);
      worker.on('failed', tick);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const drainStart = performance.now();
    await worker.start();
    await done;
    const drainSeconds = (performance.now() - drainStart) / 1000;
    await worker.stop();
    const left = await count();
    return { jobs, batch: BATCH, concurrency, enqueueSeconds, drainSeconds, enqueued, left };
  } finally {
    bars.stop();
    await worker.stop();
  }
}
