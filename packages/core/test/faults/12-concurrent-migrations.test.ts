import { useEmptyDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/index.js';
import { recordFigure } from './figures.js';
import { ms, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useEmptyDatabase();
useProcessCleanup();

const PROCESSES = 20;

describe('fault 12: concurrent migrations from separate processes', () => {
  it('20 processes migrate the same fresh schema at once: one schema, each migration once, no error', async () => {
    const schema = 'fresh_race';
    const processes = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        spawnFixture('migrate-process.ts', {
          env: { DATABASE_URL: db.url, SCHEMA: schema },
          stdin: true,
          readyTimeoutMs: 80_000,
        }),
      ),
    );
    // Every process is connected: release them together.
    const t0 = performance.now();
    for (const p of processes) p.send('go');
    const exits = await Promise.all(processes.map((p) => p.exited));
    const seconds = performance.now() - t0;
    const applied = processes.map((p) => {
      const line = p.lines.find((l) => l.startsWith('applied '));
      return line ? (JSON.parse(line.slice(8)) as number[]) : null;
    });
    const errors = processes.flatMap((p) => p.lines.filter((l) => l.startsWith('error ')));
    const migrations = (await loadMigrations()).map((m) => m.id);
    const recorded = (await db.query(`SELECT id FROM ${schema}.migrations ORDER BY id`)).map(
      (r) => r.id as number,
    );
    const schemas = (await db.query(`SELECT nspname FROM pg_namespace WHERE nspname = $1`, [schema])).length;
    const tables = (
      await db.query(
        `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'u') ORDER BY relname`,
        [schema],
      )
    ).map((r) => r.relname as string);
    const appliers = applied.filter((a) => a !== null && a.length > 0);
    const exitedZero = exits.filter((e) => e.code === 0).length;
    const pass =
      exitedZero === PROCESSES &&
      errors.length === 0 &&
      schemas === 1 &&
      JSON.stringify(recorded) === JSON.stringify(migrations) &&
      appliers.length === 1;
    recordFigure({
      scenario: 12,
      name: 'concurrent migrations (20 processes)',
      figure: `exit 0: ${exitedZero}/${PROCESSES}, errors ${errors.length}; schemas ${schemas}; migrations recorded [${recorded.join(', ')}] (each once), applied by ${appliers.length} process, the other ${PROCESSES - appliers.length} found nothing to do; all done ${ms(seconds)} after "go"`,
      pass,
    });
    expect(errors).toEqual([]);
    expect(exits.every((e) => e.code === 0)).toBe(true);
    expect(schemas).toBe(1);
    expect(recorded).toEqual(migrations);
    expect(appliers).toEqual([migrations]);
    expect(applied.filter((a) => a !== null && a.length === 0)).toHaveLength(PROCESSES - 1);
    expect(tables).toEqual(expect.arrayContaining(['job_stats', 'jobs', 'migrations', 'queues']));
    // Twenty Node processes booting on a shared 2-core machine take most of the time.
  }, 90_000);
});
