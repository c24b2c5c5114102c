import { recordingLogger, useTestDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ensurePartitions,
  HistoryMaintenance,
  HOURS_AHEAD,
  partitionName,
  runMaintenance,
} from '../src/history.js';
import { silentLogger } from '../src/index.js';
import { createPartitionSql } from '../src/sql/history.js';
import { makeNames } from '../src/sql/names.js';
import { queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
const names = makeNames();
const HOUR = 3_600_000;

/** A client of this test's database, closed after `use`. */
async function withClient<T>(use: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(db.url);
  await c.connect();
  try {
    return await use(c);
  } finally {
    await c.end();
  }
}

async function dbNow(): Promise<number> {
  const [r] = await db.query('SELECT (extract(epoch FROM now()) * 1000)::float8 AS now');
  return r.now;
}

/** The hourly partitions (not the DEFAULT one), oldest first, with their bounds. */
async function partitions(): Promise<{ name: string; lo: number; hi: number; rows: number }[]> {
  const rows = await db.query(
    `SELECT c.relname AS name,
       (extract(epoch FROM b[1]::timestamptz) * 1000)::float8 AS lo,
       (extract(epoch FROM b[2]::timestamptz) * 1000)::float8 AS hi
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
       regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)') b
     WHERE i.inhparent = 'queue.job_history'::regclass AND b IS NOT NULL ORDER BY 2`,
  );
  const counts = await db.query(
    `SELECT tableoid::regclass::text AS t, count(*)::int AS n FROM queue.job_history GROUP BY 1`,
  );
  const n = new Map(counts.map((r: { t: string; n: number }) => [r.t.replace(/^queue\./, ''), r.n]));
  return rows.map((r) => ({ ...r, rows: n.get(r.name) ?? 0 }));
}

/** Makes the partition of the hour `hoursAgo` hours before the current one, as the maintenance would. */
async function pastPartition(hoursAgo: number): Promise<{ name: string; lo: number }> {
  const lo = Math.floor((await dbNow()) / HOUR) * HOUR - hoursAgo * HOUR;
  const name = partitionName(new Date(lo));
  for (const sql of createPartitionSql(names, name, new Date(lo), new Date(lo + HOUR))) await db.query(sql);
  return { name, lo };
}

let nextId = 1;
/** `count` history rows of `queue` finished at `at` (epoch ms) + i ms, written with plain INSERTs. */
async function addHistory(queue: string, at: number, count = 1): Promise<void> {
  const first = nextId;
  nextId += count;
  await db.query(
    `INSERT INTO queue.job_history (id, queue, task, payload, priority, outcome, attempts, max_attempts,
       errors, tags, meta, created_at, run_at, started_at, finished_at, worker)
     SELECT $1::bigint + g, $2, 'send', '{}', 0, 'completed', 1, 25, '[]', '{}', '{}', now(), now(), now(),
       to_timestamp(($3::float8 + g) / 1000), 'w1'
     FROM generate_series(0, $4::int - 1) g`,
    [first, queue, at, count],
  );
}

async function historyCount(queue?: string): Promise<number> {
  const [r] = await db.query(
    `SELECT count(*)::int AS n FROM queue.job_history WHERE $1::text IS NULL OR queue = $1`,
    [queue ?? null],
  );
  return r.n;
}

async function maintain(options: { batchSize?: number } = {}) {
  return withClient((c) => runMaintenance(c, names, silentLogger, options));
}

beforeEach(async () => {
  nextId = 1;
  await db.query('TRUNCATE queue.job_history, queue.checks, queue.queues, queue.jobs');
  // Past hours made by earlier tests go; the current hour and those ahead stay.
  for (const p of await partitions()) {
    if (p.hi <= (await dbNow())) await db.query(`DROP TABLE queue.${p.name}`);
  }
});

describe('history partitions', () => {
  it('migrate() makes the partitions of the current UTC hour through 24 hours ahead', async () => {
    // This file's database is a copy of a template that migrate() made: its hours, at that time.
    for (const p of await partitions()) await db.query(`DROP TABLE queue.${p.name}`);
    await makeQueue().migrate();
    const made = await partitions();
    const hour = Math.floor((await dbNow()) / HOUR) * HOUR;
    expect(made.map((p) => p.lo)).toEqual(Array.from({ length: HOURS_AHEAD + 1 }, (_, i) => hour + i * HOUR));
    expect(made.every((p) => p.hi === p.lo + HOUR)).toBe(true);
    expect(made[0]!.name).toBe(partitionName(new Date(hour)));
    expect(made[0]!.name).toMatch(/^job_history_p\d{10}$/);
    // Each carries every index of job_history (the ATTACH builds them).
    const [idx] = await db.query(
      `SELECT count(*) FILTER (WHERE tablename = $1)::int AS n,
         count(*) FILTER (WHERE tablename = 'job_history')::int AS parent
       FROM pg_indexes WHERE schemaname = 'queue'`,
      [made[0]!.name],
    );
    expect(idx.n).toBe(idx.parent);
    expect(idx.n).toBeGreaterThanOrEqual(4);
  });

  it('two runs at once make each partition once and neither fails; a third makes none', async () => {
    for (const p of await partitions()) await db.query(`DROP TABLE queue.${p.name}`);
    const log = recordingLogger();
    const [a, b] = await Promise.all([
      withClient((c) => ensurePartitions(c, names, log.logger)),
      withClient((c) => ensurePartitions(c, names, log.logger)),
    ]);
    const made = await partitions();
    expect(made).toHaveLength(HOURS_AHEAD + 1);
    expect([...a, ...b].sort()).toEqual(made.map((p) => p.name).sort());
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(await withClient((c) => ensurePartitions(c, names, silentLogger))).toEqual([]);
  });

  it('an hour whose rows already sit in the DEFAULT partition is skipped with one warning, not a failure', async () => {
    const now = await dbNow();
    const hour = Math.floor(now / HOUR) * HOUR;
    const current = partitionName(new Date(hour));
    await db.query(`DROP TABLE queue.${current}`);
    await addHistory('default', now);
    const log = recordingLogger();
    const warned = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const made = await withClient((c) => ensurePartitions(c, names, log.logger, { warned }));
      expect(made).toEqual([]);
    }
    const warnings = log.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/job_history_default already holds jobs finished in that hour/);
    expect(warnings[0]!.fields).toMatchObject({ partition: current, code: '23514' });
    expect(await historyCount()).toBe(1);
  });
});

describe('history retention', () => {
  it('drops an hour once it is past every queue’s keep, and keeps a younger one whole', async () => {
    const old = await pastPartition(25); // ended 24 h ago or more: past the default day
    const young = await pastPartition(23); // ended less than a day ago
    await addHistory('default', old.lo + 1_000, 500);
    await addHistory('crm', old.lo + 2_000, 10);
    await addHistory('default', young.lo + 1_000, 500);
    const report = await maintain();
    expect(report.dropped).toEqual([old.name]);
    expect(report.deletedHistory).toBe(0);
    const left = await partitions();
    expect(left.map((p) => p.name)).not.toContain(old.name);
    expect(left.find((p) => p.name === young.name)?.rows).toBe(500);
  });

  it('a queue with a longer keep holds its hour back; one with a shorter keep is pruned row by row', async () => {
    const queue = makeQueue();
    await queue.setRetention('audit', { keep: 3 * 86_400_000 });
    await queue.setRetention('pings', { keep: HOUR });
    const old = await pastPartition(30);
    const recent = await pastPartition(3);
    await addHistory('audit', old.lo + 1_000, 5);
    await addHistory('default', old.lo + 1_000, 5);
    await addHistory('default', recent.lo + 1_000, 5);
    await addHistory('pings', recent.lo + 1_000, 7);
    const report = await maintain({ batchSize: 2 });
    // 'audit' keeps 3 days: the 30-hour-old hour stays, and its day-old 'default' rows go one by one.
    expect(report.dropped).toEqual([]);
    expect(await historyCount('audit')).toBe(5);
    expect(await historyCount('default')).toBe(5);
    // 'pings' keeps an hour: its 3-hour-old rows go, in batches of 2; 'default' rows of that hour stay.
    expect(await historyCount('pings')).toBe(0);
    expect(report.deletedHistory).toBe(12);
    expect((await partitions()).map((p) => p.name)).toEqual(expect.arrayContaining([old.name, recent.name]));
  });

  it('rows in the DEFAULT partition are deleted once past their queue’s keep', async () => {
    const now = await dbNow();
    // A range no partition covers lands in the DEFAULT partition.
    await addHistory('default', now - 30 * HOUR, 3);
    await addHistory('default', now - 20 * HOUR, 2);
    const [before] = await db.query(`SELECT count(*)::int AS n FROM queue.job_history_default`);
    expect(before.n).toBe(5);
    await maintain();
    const [after] = await db.query(`SELECT count(*)::int AS n FROM queue.job_history_default`);
    expect(after.n).toBe(2);
  });

  it('keepCount keeps the newest jobs of the queue, across partitions', async () => {
    const queue = makeQueue();
    await queue.setRetention('default', { keepCount: 5 });
    const earlier = await pastPartition(2);
    const now = await dbNow();
    await addHistory('default', earlier.lo + 1_000, 6);
    await addHistory('default', now - 1_000, 6); // the current hour
    await addHistory('other', earlier.lo, 20);
    const report = await maintain({ batchSize: 4 });
    expect(report.deletedHistory).toBe(7);
    const kept = await db.query(`SELECT id::int FROM queue.job_history WHERE queue = 'default' ORDER BY id`);
    expect(kept.map((r: { id: number }) => r.id)).toEqual([8, 9, 10, 11, 12]);
    expect(await historyCount('other')).toBe(20);
    await queue.setRetention('default', { keepCount: 0 });
    await maintain();
    expect(await historyCount('default')).toBe(0);
  });

  it("keep 0 deletes the queue's history already written, and nothing of the others", async () => {
    const queue = makeQueue();
    const now = await dbNow();
    await addHistory('quiet', now - 5_000, 3);
    await addHistory('default', now - 5_000, 3);
    await queue.setRetention('quiet', { keep: 0 });
    await maintain();
    expect(await historyCount('quiet')).toBe(0);
    expect(await historyCount('default')).toBe(3);
  });

  it('failed jobs: failedKeep deletes those failed longer ago, failedKeepCount keeps the newest', async () => {
    const queue = makeQueue();
    await db.query(
      `INSERT INTO queue.jobs (queue, task, failed_at)
       SELECT q, 'send', now() - g * interval '1 hour'
       FROM unnest(array['a', 'b', 'c']) q, generate_series(1, 4) g`,
    );
    // Live (not failed) jobs of the same queues are never touched.
    await db.query(`INSERT INTO queue.jobs (queue, task) SELECT q, 'send' FROM unnest(array['a', 'b']) q`);
    await queue.setRetention('a', { failedKeep: 2.5 * HOUR });
    await queue.setRetention('b', { failedKeepCount: 1 });
    const report = await maintain({ batchSize: 1 });
    expect(report.deletedFailed).toBe(2 + 3);
    const left = await db.query(
      `SELECT queue, count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed,
         count(*) FILTER (WHERE failed_at IS NULL)::int AS live
       FROM queue.jobs GROUP BY 1 ORDER BY 1`,
    );
    expect(left).toEqual([
      { queue: 'a', failed: 2, live: 1 },
      { queue: 'b', failed: 1, live: 1 },
      { queue: 'c', failed: 4, live: 0 },
    ]);
    // 'b' keeps its newest: the one that failed an hour ago.
    const [b] = await db.query(`SELECT extract(epoch FROM now() - failed_at)::int AS ago FROM queue.jobs
      WHERE queue = 'b' AND failed_at IS NOT NULL`);
    expect(Math.round(b.ago / 3600)).toBe(1);
  });

  it('per-minute statistics are kept 7 days', async () => {
    await db.query(
      `INSERT INTO queue.job_stats (minute, queue, worker, completed)
       SELECT date_trunc('minute', now()) - d * interval '1 day', 'default', 'w', 1 FROM generate_series(0, 9) d`,
    );
    const report = await maintain();
    expect(report.deletedStats).toBe(3);
    const [r] = await db.query(`SELECT count(*)::int AS n FROM queue.job_stats`);
    expect(r.n).toBe(7);
  });
});

describe('one process at a time', () => {
  it('of two workers starting together, one runs the maintenance and the other finds it done', async () => {
    const log = recordingLogger();
    const queue = makeQueue({ tasks: { send: async () => {} }, logger: log.logger });
    await Promise.all([startWorker(queue), startWorker(queue)]);
    const turns = () => log.lines.filter((l) => /^history maintenance/.test(l.msg));
    await waitFor('both workers to ask for their turn', () => turns().length === 2);
    expect(
      turns()
        .map((l) => l.msg)
        .sort(),
    ).toEqual([
      'history maintenance ran',
      expect.stringMatching(/^history maintenance: (not this process’s turn|running in another process)$/),
    ]);
  });

  it('runs are never closer than 0.9 × the interval, across two processes asking at every tick', async () => {
    const interval = 400;
    const log = recordingLogger();
    const queue = makeQueue();
    const runners = [0, 1].map(
      () => new HistoryMaintenance({ pool: queue.pool, names, logger: log.logger, intervalMs: interval }),
    );
    const ran = () => log.lines.filter((l) => l.msg === 'history maintenance ran');
    for (const r of runners) r.start();
    await waitFor('four runs', () => ran().length >= 4, { timeoutMs: 30_000 });
    await Promise.all(runners.map((r) => r.stop()));
    const runs = ran().map((l) => l.fields as { turnAt: number; ms: number });
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.turnAt - runs[i - 1]!.turnAt).toBeGreaterThanOrEqual(0.9 * interval);
    }
    // Every worker asked at every tick: far more asks than runs.
    const asked = log.lines.filter((l) => /^history maintenance/.test(l.msg)).length;
    expect(asked).toBeGreaterThan(runs.length);
  });

  it('a run that outlasts the interval is not joined by a second one', async () => {
    const queue = makeQueue();
    const runner = () =>
      new HistoryMaintenance({ pool: queue.pool, names, logger: silentLogger, intervalMs: 0 });
    // Hold the maintenance's session lock as a long run would.
    await withClient(async (c) => {
      await c.query(`SELECT pg_advisory_lock($1, hashtext('history:queue'))`, [names.lockNamespace]);
      expect(await runner().runIfTurn()).toBeNull();
      await c.query(`SELECT pg_advisory_unlock($1, hashtext('history:queue'))`, [names.lockNamespace]);
    });
    expect(await runner().runIfTurn()).not.toBeNull();
  });
});

describe('pruning while a worker drains', () => {
  it('drops and deletes history while jobs are claimed and completed; every job completes once', async () => {
    const done = new Map<string, number>();
    const queue = makeQueue({
      tasks: {
        send: async (_p: unknown, ctx) => {
          done.set(ctx.job.id, (done.get(ctx.job.id) ?? 0) + 1);
        },
      },
    });
    await queue.setRetention('pings', { keep: HOUR });
    const olds = [];
    for (const h of [30, 29, 28]) {
      const p = await pastPartition(h);
      await addHistory('default', p.lo, 20_000);
      olds.push(p.name);
    }
    // 'default' rows keep this hour for a day; the 'pings' rows in it go row by row.
    const recent = await pastPartition(2);
    await addHistory('pings', recent.lo, 20_000);
    await addHistory('default', recent.lo, 10);
    const jobs = await queue.enqueueMany(
      Array.from({ length: 3_000 }, (_, i) => ({ task: 'send' as const, payload: { i } })),
    );
    // The worker's own maintenance finds it is not its turn: this test's run is the one measured.
    await db.query(`INSERT INTO queue.checks (name, checked_at) VALUES ('history', now())`);
    const worker = await startWorker(queue, { concurrency: 20 });
    const report = await maintain({ batchSize: 5_000 });
    await waitFor('every job to complete', async () => {
      const [r] = await db.query(`SELECT count(*)::int AS n FROM queue.jobs`);
      return r.n === 0;
    });
    await worker.stop();
    expect(report.dropped).toEqual(olds);
    expect(report.deletedHistory).toBe(20_000);
    expect(done.size).toBe(jobs.length);
    expect([...done.values()].every((n) => n === 1)).toBe(true);
  });
});
