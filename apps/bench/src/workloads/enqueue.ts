import { now } from '../clock.js';
import { payloads, type Workload } from './common.js';

/** 16 producers, each awaiting one durable single-job enqueue after another. */
export const enqueueWorkload: Workload = {
  name: 'enqueue',
  title: 'enqueue, 16 concurrent producers',
  async run({ client, sizes }) {
    const { jobs, producers } = sizes.enqueue;
    // Warm the pool's connections (and prepared statements) first, then start from empty.
    await Promise.all(payloads(0, producers * 2).map((p) => client.enqueueOne(p)));
    await client.reset();
    let next = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: producers }, async () => {
        for (let i = next++; i < jobs; i = next++) await client.enqueueOne({ t: now(), i });
      }),
    );
    const ms = now() - t0;
    const stored = await client.pending();
    return { metrics: { jobsPerSec: (jobs / ms) * 1000, ms }, expected: jobs, processed: stored };
  },
};
