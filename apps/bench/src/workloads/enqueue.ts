import { now } from '../clock.js';
import { payloads, type Workload } from './common.js';

/** 16 producers, each awaiting one durable single-job enqueue after another. */
export const enqueueWorkload: Workload = {
  name: 'enqueue',
  title: 'enqueue, 16 concurrent producers',
  async run({ client, sizes }) {
    const { jobs, producers, capSeconds } = sizes.enqueue;
    // Warm the pool's connections (and prepared statements) first, then start from empty.
    await Promise.all(payloads(0, producers * 2).map((p) => client.enqueueOne(p)));
    await client.reset();
    let next = 0;
    let done = 0;
    const t0 = now();
    const deadline = t0 + capSeconds * 1000;
    await Promise.all(
      Array.from({ length: producers }, async () => {
        for (let i = next++; i < jobs && now() < deadline; i = next++) {
          await client.enqueueOne({ t: now(), i });
          done++;
        }
      }),
    );
    const ms = now() - t0;
    const stored = await client.pending();
    const capped = done < jobs;
    return {
      metrics: { jobsPerSec: (done / ms) * 1000, ms, capped: capped ? 1 : 0 },
      expected: done,
      processed: stored,
      notes: capped ? [`${done} of ${jobs} jobs within the ${capSeconds} s cap`] : undefined,
    };
  },
};
