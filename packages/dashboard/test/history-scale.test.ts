import { Queue, silentLogger } from '@queue/core';
import { expectNoAdvisoryLocks, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../src/index.js';
import { DashboardClient } from './helpers/client.js';

/**
 * The dashboard over a big history (issue 13: "History at 10 million finished rows: listing,
 * search by tag and the overview stay under 100 ms warm"). The rows are bulk-loaded into
 * job_history across a day of hourly partitions, as the maintenance leaves them, and a week of
 * per-minute statistics into job_stats. Timings are printed (they vary by machine), and the
 * plans of the statements the dashboard sent are checked: every non-empty partition is read
 * through an index, never scanned whole.
 *
 * CI runs 200,000 rows; `QUEUE_SCALE_HISTORY_ROWS=10000000` runs the size (loading it
 * takes minutes).
 */
const ROWS = Number(process.env.QUEUE_SCALE_HISTORY_ROWS ?? 200_000);
/** Every ROWS / RARE-th row carries the tag 'vip': a tag few rows have. */
const RARE = 100_000;
const db = useTestDatabase();
let pool: pg.Pool;
let queue: Queue;
let server: StandaloneServer;
let c: DashboardClient;
/** Every statement the dashboard's queue sent through its pool, to explain afterwards. */
const sent: { text: string; values: unknown[] }[] = [];

const say = (line: string) => process.stdout.write(`[history-scale] ${line}\n`);

/** Median of five warm runs of a request, after one to warm the caches. */
async function warm<T>(what: string, f: () => Promise<T>): Promise<T> {
  let result = await f();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    result = await f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  say(
    `${what}: ${times[2]!.toFixed(1)} ms warm (median of 5; ${times[0]!.toFixed(1)}-${times[4]!.toFixed(1)})`,
  );
  return result;
}

async function getJson(path: string): Promise<any> {
  const res = await c.get(path);
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/**
 * The scans over history partitions in the plan of the last statement sent that reads
 * job_history, planned with the values it was sent with.
 */
async function historyScans(): Promise<{ node: string; relation: string; index?: string }[]> {
  const last = sent.findLast((s) => /job_history/.test(s.text));
  if (!last) throw new Error('no statement read job_history');
  const [row] = (await pool.query(`EXPLAIN (FORMAT JSON) ${last.text}`, last.values)).rows;
  const scans: { node: string; relation: string; index?: string }[] = [];
  const walk = (n: PlanNode, relation?: string) => {
    // A Bitmap Index Scan names its index, its Bitmap Heap Scan parent the partition.
    const rel = n['Relation Name'] ?? relation;
    if (rel?.startsWith('job_history') && (n['Relation Name'] || n['Index Name'])) {
      scans.push({ node: n['Node Type'], relation: rel, index: n['Index Name'] });
    }
    for (const child of n.Plans ?? []) walk(child, n['Node Type'] === 'Bitmap Heap Scan' ? rel : undefined);
  };
  walk(row['QUERY PLAN'][0].Plan);
  return scans;
}

/** Partitions holding no rows (the current hour's, the DEFAULT one): a plan may read them as it likes. */
async function emptyPartitions(): Promise<Set<string>> {
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'queue.job_history'::regclass AND c.reltuples <= 0`,
  );
  return new Set(rows.map((r) => r.name));
}

/** Non-empty partitions are read through an index: the page costs the same at any size. */
async function expectIndexedScans(what: string): Promise<void> {
  const scans = await historyScans();
  const empty = await emptyPartitions();
  const indexes = [
    ...new Set(scans.map((s) => s.index?.replace(/^job_history_(p\d+|default)_/, '')).filter(Boolean)),
  ];
  const partitions = new Set(scans.map((s) => s.relation).filter((r) => !empty.has(r)));
  say(
    `${what}: plan reads ${partitions.size} non-empty partitions through ${indexes.join(', ') || 'no index'}`,
  );
  const whole = scans.filter((s) => s.node === 'Seq Scan' && !empty.has(s.relation));
  expect(whole, `${what}: partitions scanned whole`).toEqual([]);
  expect(indexes.length, `${what}: no index used`).toBeGreaterThan(0);
}

beforeAll(async () => {
  const t = performance.now();
  // A day of hourly partitions, named as the maintenance names them; one it has made already is kept.
  await db.query(`DO $$
    DECLARE h timestamptz;
    BEGIN
      FOR h IN SELECT generate_series(date_trunc('hour', now()) - interval '24 hours', date_trunc('hour', now()) + interval '1 hour', interval '1 hour') LOOP
        BEGIN
          EXECUTE format('CREATE TABLE queue.%I PARTITION OF queue.job_history FOR VALUES FROM (%L) TO (%L)',
            'job_history_p' || to_char(h AT TIME ZONE 'UTC', 'YYYYMMDDHH24'), h, h + interval '1 hour');
        EXCEPTION WHEN duplicate_table OR invalid_object_definition THEN NULL;
        END;
      END LOOP;
    END $$`);
  // ROWS jobs finished over the 24 hours before the current one, oldest first (the current hour's
  // partition is empty, as just after the turn of an hour): 1% cancelled, 30% tagged with one of
  // 100 tenants, a few 'vip'; each with a small payload and result, and a run of 150 ms.
  await db.query(`INSERT INTO queue.job_history (id, queue, task, payload, priority, outcome, result, attempts,
      max_attempts, errors, tags, meta, created_at, run_at, started_at, finished_at, worker)
    SELECT i, (ARRAY['default','emails','reports','webhooks'])[1 + i % 4], (ARRAY['send','build','sync'])[1 + i % 3],
      jsonb_build_object('n', i), 0,
      CASE WHEN i % 100 = 0 THEN 'cancelled' ELSE 'completed' END,
      CASE WHEN i % 100 = 0 THEN NULL ELSE '{"ok": true}'::jsonb END,
      1, 25, '[]'::jsonb,
      CASE WHEN i % ${RARE} = 7 THEN ARRAY['vip'] WHEN i % 10 < 3 THEN ARRAY['tenant:' || (i / 10 % 100)] ELSE '{}' END,
      '{}'::jsonb, f - interval '2 seconds', f - interval '2 seconds', f - interval '150 milliseconds', f,
      'worker-' || (i % 8)
    FROM (SELECT i, date_trunc('hour', now()) - (${ROWS} - i + 1) * (86400.0 / ${ROWS}) * interval '1 second' AS f
          FROM generate_series(1, ${ROWS}) i) s`);
  // A week of statistics as 2 workers per queue write them: a row a minute each, with a histogram.
  await db.query(`INSERT INTO queue.job_stats (minute, queue, worker, completed, failed, durations)
    SELECT m, q, w, 60, 1, array_fill(0, ARRAY[7]) || ARRAY[30, 25, 5] || array_fill(0, ARRAY[22])
    FROM generate_series(date_trunc('minute', now()) - interval '7 days' + interval '1 minute', date_trunc('minute', now()), interval '1 minute') m,
      unnest(ARRAY['default','emails','reports','webhooks']) q, unnest(ARRAY['w1','w2']) w`);
  await db.query('VACUUM ANALYZE queue.job_history');
  await db.query('VACUUM ANALYZE queue.job_stats');
  say(
    `loaded ${ROWS.toLocaleString('en')} history rows and a week of statistics in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: typeof query }).query = (text: string, values?: unknown[]) => {
    if (typeof text === 'string') sent.push({ text, values: values ?? [] });
    return query(text, values);
  };
  queue = new Queue({ pool, logger: silentLogger });
  server = await startDashboardServer({ queue, port: 0, unsafeNoAuth: true, refreshInterval: 60_000 });
  c = new DashboardClient(server.url);
}, 3_600_000);

afterAll(async () => {
  await server?.close();
  await queue?.close();
  await pool?.end();
  await expectNoAdvisoryLocks(db);
});

describe(`with ${ROWS.toLocaleString('en')} finished jobs in the history`, { timeout: 600_000 }, () => {
  it('lists the newest completed jobs, and the next page by cursor, through the indexes', async () => {
    const page1 = await warm('GET api/jobs?state=completed (newest 50)', () =>
      getJson('api/jobs?state=completed'),
    );
    await expectIndexedScans('newest completed');
    expect(page1.jobs).toHaveLength(50);
    expect(page1.jobs[0].id).toBe(String(ROWS - 1)); // ROWS itself is a multiple of 100: cancelled
    expect(page1.jobs[0]).toMatchObject({
      state: 'completed',
      durationMs: 150,
      resultPreview: '{"ok":true}',
    });
    const page2 = await warm('GET api/jobs?state=completed&cursor=… (page 2)', () =>
      getJson(`api/jobs?state=completed&cursor=${encodeURIComponent(page1.older)}`),
    );
    await expectIndexedScans('page 2');
    expect(BigInt(page2.jobs[0].id)).toBeLessThan(BigInt(page1.jobs.at(-1).id));
    await warm('GET api/jobs?state=completed&queue=emails', () =>
      getJson('api/jobs?state=completed&queue=emails'),
    );
    await expectIndexedScans('completed of one queue');
    const cancelled = await warm('GET api/jobs?state=cancelled', () => getJson('api/jobs?state=cancelled'));
    await expectIndexedScans('cancelled');
    expect(cancelled.jobs.every((j: any) => j.state === 'cancelled')).toBe(true);
    const one = await warm(`GET api/jobs/${ROWS / 2} (a finished job's page)`, () =>
      getJson(`api/jobs/${ROWS / 2}`),
    );
    expect(one.finished).toMatchObject({ outcome: 'cancelled', durationMs: 150 });
  });

  it('finds jobs by tag, common or rare, through the indexes', async () => {
    const tenant = await warm('GET api/jobs?state=completed&tag=tenant:42 (0.3% of rows)', () =>
      getJson('api/jobs?state=completed&tag=tenant%3A42'),
    );
    await expectIndexedScans('tag tenant:42');
    expect(tenant.jobs).toHaveLength(50);
    expect(tenant.jobs.every((j: any) => j.tags.includes('tenant:42'))).toBe(true);
    const vip = await warm(`GET api/jobs?state=completed&tag=vip (${Math.floor(ROWS / RARE)} rows)`, () =>
      getJson('api/jobs?state=completed&tag=vip'),
    );
    await expectIndexedScans('tag vip');
    expect(vip.jobs).toHaveLength(Math.min(50, Math.floor(ROWS / RARE)));
    await warm('GET api/jobs?state=completed&tag=nobody (no match)', () =>
      getJson('api/jobs?state=completed&tag=nobody'),
    );
    await expectIndexedScans('tag without a match');
  });

  it('serves the overview, with run times over every range', async () => {
    const overview = await warm('GET api/overview (1 h)', () => getJson('api/overview'));
    expect(overview.throughput.buckets.length).toBeGreaterThan(0);
    expect(overview.throughput.buckets[0]).toMatchObject({ completed: 120, p50Ms: 90.5 });
    for (const range of ['6h', '24h', '7d']) {
      const first = await getJson(`api/overview?range=${range}`);
      say(`core jobStats() for ${range}, as the dashboard read it first: ${first.throughput.computeMs} ms`);
      await warm(`GET api/overview?range=${range} (statistics cached when slow)`, () =>
        getJson(`api/overview?range=${range}`),
      );
    }
  });

  it('says what a search of payloads costs: no index covers them', async () => {
    // Containment in payloads walks the history newest first until it has a page: fast when
    // matches are common, a scan of every partition when there are none.
    await warm('GET api/jobs?state=completed&search={"n":7} (one match, the oldest)', () =>
      getJson(`api/jobs?state=completed&search=${encodeURIComponent('{"n":7}')}`),
    );
  });
});
