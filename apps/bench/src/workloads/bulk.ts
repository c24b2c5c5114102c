import { now } from '../clock.js';
import { payloads, type Workload } from './common.js';

/** One producer, batches through each peer's bulk API, one after another. */
export const bulkWorkload: Workload = {
  name: 'bulk',
  title: 'bulk enqueue, batches of 1,000',
  async run({ client, sizes }) {
    const { jobs, batch } = sizes.bulk;
    await client.enqueueBulk(payloads(0, batch));
    await client.reset();
    const t0 = now();
    for (let from = 0; from < jobs; from += batch)
      await client.enqueueBulk(payloads(from, Math.min(batch, jobs - from)));
    const ms = now() - t0;
    const stored = await client.pending();
    return { metrics: { jobsPerSec: (jobs / ms) * 1000, ms }, expected: jobs, processed: stored };
  },
};
