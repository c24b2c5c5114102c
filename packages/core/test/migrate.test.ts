import { useEmptyDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadMigrations, Queue, silentLogger } from '../src/index.js';

const db = useEmptyDatabase();

describe('migrate', () => {
  it('creates the schema and records each numbered migration once', async () => {
    const queue = new Queue({ connectionString: db.url, schema: 'm_basic', logger: silentLogger });
    const migrations = await loadMigrations();
    expect(await queue.migrate()).toEqual(migrations.map((m) => m.id));
    expect(await queue.migrate()).toEqual([]);
    const rows = await db.query(`SELECT id FROM m_basic.migrations ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(migrations.map((m) => m.id));
    await queue.close();
  });

  it('is safe when 20 queues migrate the same schema at once', async () => {
    const queues = Array.from(
      { length: 20 },
      () => new Queue({ connectionString: db.url, schema: 'm_race', logger: silentLogger }),
    );
    const results = await Promise.all(queues.map((q) => q.migrate()));
    // Exactly one of them applied everything; the others found nothing to do.
    expect(results.filter((r) => r.length > 0)).toHaveLength(1);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM m_race.migrations`);
    expect(n).toBe((await loadMigrations()).length);
    await Promise.all(queues.map((q) => q.close()));
  });

  it('quotes a hostile schema name instead of running it', async () => {
    const schema = `evil"; DROP TABLE canary; --`;
    await db.query(`CREATE TABLE canary (x int)`);
    const queue = new Queue({
      connectionString: db.url,
      schema,
      tasks: { t: async () => {} },
      logger: silentLogger,
    });
    await queue.migrate();
    const job = await queue.enqueue('t', { ok: true });
    const [row] = await db.query(`SELECT payload FROM "evil""; DROP TABLE canary; --".jobs WHERE id = $1`, [
      job.id,
    ]);
    expect(row.payload).toEqual({ ok: true });
    expect(await db.query(`SELECT to_regclass('canary') AS t`)).toEqual([{ t: 'canary' }]);
    await queue.close();
  });

  it('refuses schema names Postgres would truncate or cannot hold', () => {
    expect(() => new Queue({ connectionString: db.url, schema: 'x'.repeat(59) })).toThrow(ConfigError);
    expect(() => new Queue({ connectionString: db.url, schema: 'a\u0000b' })).toThrow(/\\u0000/);
    expect(() => new Queue({ connectionString: db.url, schema: '' })).toThrow(ConfigError);
  });
});
