import { nextEvent, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Job, Queue, UniqueOptions } from '../src/index.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

const PRODUCERS = 16;
const ROUNDS = 20;

/**
 * 16 producers, each a Queue of its own (its own pool and sessions, as separate processes
 * would have), enqueue the same key ROUNDS times each, all starting together. Returns every
 * Job they got back.
 */
async function hammer(
  unique: UniqueOptions,
  producers: Queue<any>[],
  options: { delay?: number } = {},
): Promise<Job[]> {
  // Every pool connected first, so that the enqueues overlap rather than the connects.
  await Promise.all(producers.map((q) => q.ping()));
  const results = await Promise.all(
    producers.map(async (queue, p) => {
      const jobs: Job[] = [];
      for (let r = 0; r < ROUNDS; r++) jobs.push(await queue.enqueue('t', { p, r }, { ...options, unique }));
      return jobs;
    }),
  );
  return results.flat();
}

const producers = () => Array.from({ length: PRODUCERS }, () => makeQueue({ tasks: { t: async () => {} } }));
const live = (key: string) =>
  db.query<{ id: string; payload: { p: number; r: number }; queued: boolean | null; run_ms: number }>(
    `SELECT id::text, payload, unique_queued AS queued, floor(extract(epoch FROM run_at) * 1000)::float8 AS run_ms
     FROM queue.jobs WHERE unique_key = $1 ORDER BY id`,
    [key],
  );
const tally = (jobs: Job[]) => {
  const t: Record<string, number> = {};
  for (const j of jobs) t[j.unique!.outcome] = (t[j.unique!.outcome] ?? 0) + 1;
  return t;
};
const N = PRODUCERS * ROUNDS;

describe(`${PRODUCERS} concurrent producers hammering one key`, () => {
  it.each([
    ['queued', { key: 'k' }],
    ['active', { key: 'k', mode: 'active' }],
    ['period', { key: 'k', period: 3_600_000 }],
    ['throttle, first payload', { key: 'k', throttle: 3_600_000 }],
  ] as [string, UniqueOptions][])(
    '%s: one job, every other enqueue deduplicated against it',
    async (_mode, unique) => {
      const jobs = await hammer(unique, producers());
      const rows = await live('k');
      expect(rows).toHaveLength(1);
      const id = rows[0]!.id;
      expect(tally(jobs)).toEqual({ inserted: 1, deduplicated: N - 1 });
      expect(new Set(jobs.map((j) => j.id))).toEqual(new Set([id]));
      const inserted = jobs.find((j) => j.unique!.outcome === 'inserted')!;
      // Everyone got the stored job back: the first producer's payload.
      expect(rows[0]!.payload).toEqual(inserted.payload);
      for (const j of jobs) expect(j.payload).toEqual(inserted.payload);
      for (const j of jobs) if (j !== inserted) expect(j.unique!.existingId).toBe(id);
    },
  );

  it.each([
    ['replace', { key: 'k', mode: 'replace' }],
    ['debounce', { key: 'k', debounce: 3_600_000 }],
    ['throttle, last payload', { key: 'k', throttle: 3_600_000, keep: 'last' }],
  ] as [string, UniqueOptions][])(
    '%s: one job, every other enqueue replaced it in turn',
    async (mode, unique) => {
      const jobs = await hammer(unique, producers());
      const rows = await live('k');
      expect(rows).toHaveLength(1);
      const [row] = rows;
      expect(tally(jobs)).toEqual({ inserted: 1, replaced: N - 1 });
      expect(new Set(jobs.map((j) => j.id))).toEqual(new Set([row!.id]));
      // Each producer's own rounds replaced it in order, so its last round is its latest write,
      // and the stored payload is some producer's last round.
      expect(row!.payload.r).toBe(ROUNDS - 1);
      // The job as each enqueue left it: the last writer's is the stored one.
      const last = jobs.filter((j) => JSON.stringify(j.payload) === JSON.stringify(row!.payload));
      expect(last).toHaveLength(1);
      expect(last[0]!.runAt.getTime()).toBe(row!.run_ms);
      if (mode === 'debounce') {
        // run_at only ever moved forward, whatever order the transactions committed in.
        expect(row!.run_ms).toBe(Math.max(...jobs.map((j) => j.runAt.getTime())));
      }
    },
  );

  it('with the key running: active dedupes against the running job; queued, replace and debounce queue one job behind it', async () => {
    const release = gate();
    const queue = makeQueue({ tasks: { t: async () => release.opened } });
    const worker = await startWorker(queue);
    try {
      const started = nextEvent<{ job: Job }>(worker, 'started');
      const running = await queue.enqueue('t', 'running', { unique: { key: 'k' } });
      await started;
      const ps = producers();

      const active = await hammer({ key: 'k', mode: 'active' }, ps);
      expect(tally(active)).toEqual({ deduplicated: N });
      expect(new Set(active.map((j) => j.id))).toEqual(new Set([running.id]));
      for (const j of active) expect(j).toMatchObject({ payload: 'running', attempts: 1 });

      // Due in an hour, so that the worker leaves the queued job alone.
      const later = { delay: 3_600_000 };
      const queued = await hammer({ key: 'k' }, ps.slice(0, 8), later);
      const behind = queued.find((j) => j.unique!.outcome === 'inserted')!;
      expect(tally(queued)).toEqual({ inserted: 1, deduplicated: 8 * ROUNDS - 1 });
      const replaced = await hammer({ key: 'k', mode: 'replace' }, ps.slice(8), later);
      const debounced = await hammer({ key: 'k', debounce: 3_600_000 }, ps.slice(0, 8));
      expect(tally([...replaced, ...debounced])).toEqual({ replaced: 16 * ROUNDS });
      for (const j of [...queued, ...replaced, ...debounced]) expect(j.id).toBe(behind.id);
      // The running job was never touched; the one behind it holds the queued slot.
      const rows = await live('k');
      expect(rows).toMatchObject([
        { id: running.id, payload: 'running', queued: null },
        { id: behind.id, queued: true },
      ]);
      expect(await queue.getJob(running.id)).toMatchObject({ state: 'running', payload: 'running' });
    } finally {
      release.open();
      await worker.stop();
    }
  });

  it('while a worker drains the key as fast as it can, every result names a job that existed and no two queued jobs ever share it', async () => {
    let ran = 0;
    const queue = makeQueue({
      tasks: {
        t: async () => {
          ran++;
        },
      },
    });
    const worker = await startWorker(queue, { concurrency: 4 });
    try {
      const ps = producers();
      const jobs = [
        ...(await hammer({ key: 'k' }, ps)),
        ...(await hammer({ key: 'k', mode: 'replace' }, ps)),
        ...(await hammer({ key: 'k', mode: 'active' }, ps)),
      ];
      const inserted = new Set(jobs.filter((j) => j.unique!.outcome === 'inserted').map((j) => j.id));
      // Every deduplicated or replaced result points at a job some enqueue inserted.
      for (const j of jobs)
        if (j.unique!.outcome !== 'inserted') expect(inserted).toContain(j.unique!.existingId);
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM queue.jobs WHERE unique_key = 'k' AND unique_queued AND failed_at IS NULL`,
      );
      expect(n).toBeLessThanOrEqual(1);
      // Every inserted job ran (it is in the history) or is still queued: none was lost.
      await worker.stop();
      const [{ left }] = await db.query(
        `SELECT count(*)::int AS left FROM queue.jobs WHERE unique_key = 'k'`,
      );
      expect(ran).toBeGreaterThan(0);
      const [{ done }] = await db.query(
        `SELECT count(*)::int AS done FROM queue.job_history WHERE unique_key = 'k'`,
      );
      expect(done + left).toBe(inserted.size);
    } finally {
      await worker.stop();
    }
  });

  it.each([
    ['queued', { key: 'k' }, 'NULL'],
    ['replace', { key: 'k', mode: 'replace' }, `'replace'`],
  ] as [string, UniqueOptions, string][])(
    '%s: enqueue, enqueueMany, transactional enqueue and SQL enqueue() at once all meet on one job',
    async (_mode, unique, sqlMode) => {
      const queues = producers();
      const clients = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const c = new pg.Client(db.url);
          await c.connect();
          return c;
        }),
      );
      try {
        await Promise.all(queues.map((q) => q.ping()));
        const ids = await Promise.all(
          Array.from({ length: PRODUCERS }, async (_, p) => {
            const got: string[] = [];
            const queue = queues[p]!;
            const client = clients[p % 8]!;
            for (let r = 0; r < ROUNDS; r++) {
              const payload = { p, r };
              switch (p % 4) {
                case 0:
                  got.push((await queue.enqueue('t', payload, { unique })).id);
                  break;
                case 1: {
                  // The key twice in one batch, among other keys.
                  const jobs = await queue.enqueueMany([
                    { task: 't', payload, options: { unique: { key: `other-${p}-${r}` } } },
                    { task: 't', payload, options: { unique } },
                    { task: 't', payload, options: { unique } },
                  ]);
                  got.push(jobs[1]!.id, jobs[2]!.id);
                  break;
                }
                case 2:
                  await client.query('BEGIN');
                  got.push((await queue.enqueue('t', payload, { unique, client })).id);
                  await client.query('COMMIT');
                  break;
                default: {
                  const { rows } = await client.query(
                    `SELECT queue.enqueue('t', $1::jsonb, unique_key => 'k', unique_mode => ${sqlMode})::text AS id`,
                    [JSON.stringify(payload)],
                  );
                  got.push(rows[0].id);
                }
              }
            }
            return got;
          }),
        );
        const rows = await live('k');
        expect(rows).toHaveLength(1);
        expect(new Set(ids.flat())).toEqual(new Set([rows[0]!.id]));
      } finally {
        await Promise.all(clients.map((c) => c.end()));
      }
    },
  );
});
