import { Queue, silentLogger, type UniqueOptions } from '@queue/core';
import pg from 'pg';
import { now } from '../clock.js';
import { PRODUCER_POOL, TASK } from '../peers/types.js';
import type { Workload } from './common.js';

type Variant = 'plain' | 'keyed';

/**
 * @queue's enqueue with and without unique keys, in the same run and database: the enqueue
 * workload's single enqueues (16 producers) and the bulk workload's batches of 1,000, each
 * plain and with a distinct key per job (`unique: { key }`, the default mode: keys never seen
 * before, so every job is inserted, as in the plain runs). Each pair runs plain, keyed, keyed,
 * plain (so that drift in the machine's load hits both alike), from an empty table each time;
 * the figures are the rates over both halves. Sizes are the enqueue and bulk workloads'.
 */
export const uniqueWorkload: Workload = {
  name: 'unique',
  title: 'enqueue with and without unique keys',
  unsupported: (peer) => (peer.name === 'queue' ? undefined : '@queue only (its unique keys)'),
  async run(ctx) {
    const { enqueue, bulk } = ctx.sizes;
    const pool = new pg.Pool({ connectionString: ctx.target.databaseUrl, max: PRODUCER_POOL });
    const queue = new Queue({ pool, logger: silentLogger });
    let run = 0;
    const key = (i: number): UniqueOptions => ({ key: `r${run}:${i}` });
    try {
      const single = async (variant: Variant) => {
        let next = 0;
        let done = 0;
        const deadline = now() + enqueue.capSeconds * 1000;
        const t0 = now();
        await Promise.all(
          Array.from({ length: enqueue.producers }, async () => {
            for (let i = next++; i < enqueue.jobs && now() < deadline; i = next++) {
              await queue.enqueue(TASK, { t: now(), i }, variant === 'keyed' ? { unique: key(i) } : {});
              done++;
            }
          }),
        );
        return { ms: now() - t0, jobs: done };
      };
      const batches = async (variant: Variant) => {
        const t0 = now();
        for (let from = 0; from < bulk.jobs; from += bulk.batch) {
          const n = Math.min(bulk.batch, bulk.jobs - from);
          await queue.enqueueMany(
            Array.from({ length: n }, (_, k) => ({
              task: TASK,
              payload: { t: now(), i: from + k },
              options: variant === 'keyed' ? { unique: key(from + k) } : {},
            })),
          );
        }
        return { ms: now() - t0, jobs: bulk.jobs };
      };
      // Warm the pool's connections and the statements' plans for both variants.
      for (const variant of ['plain', 'keyed'] as const) {
        await Promise.all(
          Array.from({ length: enqueue.producers * 2 }, (_, i) =>
            queue.enqueue(TASK, { t: now(), i }, variant === 'keyed' ? { unique: key(i) } : {}),
          ),
        );
        await queue.enqueueMany(
          Array.from({ length: bulk.batch }, (_, i) => ({
            task: TASK,
            payload: { t: now(), i },
            options: variant === 'keyed' ? { unique: key(i) } : {},
          })),
        );
        run++;
      }
      const metrics: Record<string, number> = {};
      let expected = 0;
      let processed = 0;
      const notes: string[] = [];
      for (const [name, measure] of [
        ['enqueue', single],
        ['bulk', batches],
      ] as const) {
        const total = { plain: { ms: 0, jobs: 0 }, keyed: { ms: 0, jobs: 0 } };
        for (const variant of ['plain', 'keyed', 'keyed', 'plain'] as const) {
          await ctx.client.reset();
          run++;
          const r = await measure(variant);
          total[variant].ms += r.ms;
          total[variant].jobs += r.jobs;
          expected += r.jobs;
          processed += await ctx.client.pending();
        }
        for (const variant of ['plain', 'keyed'] as const) {
          const t = total[variant];
          metrics[`${name}${variant === 'plain' ? 'Plain' : 'Keyed'}PerSec`] = (t.jobs / t.ms) * 1000;
        }
        // Time per job keyed over time per job plain, minus one: the "within 20% / 30%".
        metrics[`${name}KeyedCost`] = metrics[`${name}PlainPerSec`]! / metrics[`${name}KeyedPerSec`]! - 1;
        if (name === 'enqueue' && total.plain.jobs + total.keyed.jobs < 4 * enqueue.jobs) {
          notes.push(
            `${total.plain.jobs + total.keyed.jobs} of ${4 * enqueue.jobs} single enqueues within the caps`,
          );
        }
      }
      return { metrics, expected, processed, notes: notes.length ? notes : undefined };
    } finally {
      await queue.close();
      await pool.end();
    }
  },
};
