import { pathToFileURL } from 'node:url';
import { useTestDatabase } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';
import { createFaultTables, fixturePath, ms, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFaultTables(db));

const HOUR = 3_600_000;
const DELAY = 500;
const BACKOFF = 200;

describe('fault 15: clock skew, the database clock is the authority', () => {
  it('worker processes whose Node clock is 1 h ahead and 1 h behind run a delayed job and a retry on time', async () => {
    const skews = [
      { label: '+1 h', skew: HOUR, queue: 'skew_ahead' },
      { label: '-1 h', skew: -HOUR, queue: 'skew_behind' },
    ];
    // Polling once a minute: only the worker's own timers, set from database-computed delays,
    // can start these jobs on time.
    const procs = await Promise.all(
      skews.map((s) =>
        spawnFixture('fault-worker.ts', {
          env: {
            DATABASE_URL: db.url,
            CLOCK_SKEW_MS: String(s.skew),
            QUEUES: s.queue,
            POLL_INTERVAL: '60000',
            FLAKY_BACKOFF_MS: String(BACKOFF),
          },
          nodeArgs: ['--import', pathToFileURL(fixturePath('clock-skew.ts')).href],
        }),
      ),
    );
    const producer = makeQueue({ tasks: { stamp: async () => {}, flaky: async () => {} } });
    const results: {
      label: string;
      clockOffset: number;
      late: number;
      delay: number;
      gap: number;
      nodeSaid: number;
    }[] = [];
    await Promise.all(
      skews.map(async (s, i) => {
        const proc = procs[i]!;
        const ready = JSON.parse(proc.lines[0]!.slice('ready '.length)) as { now: number };
        const clockOffset = ready.now - Date.now();
        const delayed = await producer.enqueue('stamp', null, { queue: s.queue, delay: DELAY });
        const flaky = await producer.enqueue('flaky', null, { queue: s.queue });
        // Bounded: a worker an hour off would otherwise wait an hour.
        await Promise.all(
          [delayed.id, flaky.id].map((id) =>
            proc.event((e) => e.event === 'completed' && e.id === id, `job ${id} on ${s.label}`, 10_000),
          ),
        );
        const [d] = await db.query(
          `SELECT extract(epoch FROM s.db_at - $2::timestamptz) * 1000 AS late,
                  extract(epoch FROM s.db_at - $3::timestamptz) * 1000 AS delay,
                  s.node_ms - extract(epoch FROM s.db_at) * 1000 AS node_said
           FROM stamps s WHERE s.job_id = $1`,
          [delayed.id, delayed.runAt.toISOString(), delayed.createdAt.toISOString()],
        );
        const [f] = await db.query(
          `SELECT extract(epoch FROM b.db_at - a.db_at) * 1000 AS gap
           FROM stamps a JOIN stamps b ON b.job_id = a.job_id AND b.attempt = 2
           WHERE a.job_id = $1 AND a.attempt = 1`,
          [flaky.id],
        );
        results.push({
          label: s.label,
          clockOffset,
          late: Number(d.late),
          delay: Number(d.delay),
          gap: Number(f.gap),
          nodeSaid: Number(d.node_said),
        });
      }),
    );
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));

    results.sort((a, b) => a.label.localeCompare(b.label));
    const ok = (r: (typeof results)[number]) =>
      Math.abs(Math.abs(r.clockOffset) - HOUR) < 60_000 &&
      r.late >= -2 &&
      r.late < 300 &&
      r.gap >= BACKOFF - 2 &&
      r.gap < BACKOFF + 400;
    recordFigure({
      scenario: 15,
      name: 'clock skew (worker Node clock +/-1 h)',
      figure: results
        .map(
          (r) =>
            `${r.label} (process clock ${(r.nodeSaid / 60_000).toFixed(1)} min off the database's): delay-${DELAY} job began ${ms(r.delay)} after enqueue, ${ms(r.late)} after its run_at; retry after a ${BACKOFF} ms backoff began ${ms(r.gap)} after the failed attempt (database clock)`,
        )
        .join('; '),
      pass: results.length === 2 && results.every(ok),
    });
    for (const r of results) {
      // The process really was an hour off.
      expect(Math.abs(Math.abs(r.clockOffset) - HOUR)).toBeLessThan(60_000);
      expect(Math.abs(Math.abs(r.nodeSaid) - HOUR)).toBeLessThan(60_000);
      // Not before its time by the database clock, and not an hour late.
      expect(r.late).toBeGreaterThanOrEqual(-2);
      expect(r.late).toBeLessThan(300);
      expect(r.gap).toBeGreaterThanOrEqual(BACKOFF - 2);
      expect(r.gap).toBeLessThan(BACKOFF + 400);
    }
  });
});
