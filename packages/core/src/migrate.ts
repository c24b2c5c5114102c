import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { Names } from './sql/names.js';
import { checkOut } from './transaction.js';
import type { Queryable } from './types.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

interface Connection extends Queryable {
  release?(err?: boolean | Error): void;
}

// Works from src/ (tests) and dist/ (published) alike: both sit next to migrations/.
const migrationsDir = new URL('../migrations/', import.meta.url);

let cached: Promise<Migration[]> | undefined;

/** The numbered migrations shipped in the package, in order. */
export function loadMigrations(): Promise<Migration[]> {
  cached ??= (async () => {
    const files = (await readdir(migrationsDir)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
    return Promise.all(
      files.map(async (file) => ({
        id: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql: await readFile(new URL(file, migrationsDir), 'utf8'),
      })),
    );
  })();
  return cached;
}

/** Each queue's migrate() in progress, by its Names (a queue and its workers share one). */
const inProgress = new WeakMap<Names, Promise<unknown>>();

/**
 * Marks `run` as this queue's migrate() in progress until it settles, so that a worker of the
 * same queue starting meanwhile checks the schema after it (see schema-check.ts): an app may
 * start its worker while its own migrate() still waits for Postgres.
 */
export function trackMigration<T>(names: Names, run: Promise<T>): Promise<T> {
  const settled = run.then(
    () => {},
    () => {},
  );
  const previous = inProgress.get(names);
  const all = previous ? Promise.all([previous, settled]) : settled;
  inProgress.set(names, all);
  void all.then(() => {
    if (inProgress.get(names) === all) inProgress.delete(names);
  });
  return run;
}

/** Resolves once no migrate() of this queue is in progress. */
export async function migrationsSettled(names: Names): Promise<void> {
  for (let p = inProgress.get(names); p; p = inProgress.get(names)) await p;
}

export function renderMigration(sql: string, names: Names): string {
  // Replacer functions, not strings: in a replacement string `$&`, `$'` and `$$` are
  // patterns, and a schema name may contain them.
  return sql.replaceAll('{{schema}}', () => names.q).replaceAll('{{channel}}', () => names.channelLiteral);
}

/**
 * Applies the migrations this schema has not had yet, in one transaction, under a
 * transaction-level advisory lock: processes that start together queue up behind the
 * first, then find nothing left to do. Returns the ids it applied.
 */
export async function migrate(conn: Connection, names: Names): Promise<number[]> {
  const migrations = await loadMigrations();
  await conn.query('BEGIN');
  try {
    // The two-int4 lock form never collides with the one-bigint form used for jobs.
    await conn.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      names.lockNamespace,
      `migrate:${names.schema}`,
    ]);
    await conn.query(`CREATE SCHEMA IF NOT EXISTS ${names.q}`);
    await conn.query(
      `CREATE TABLE IF NOT EXISTS ${names.q}.migrations (
         id integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await conn.query(`SELECT id FROM ${names.q}.migrations`);
    const done = new Set(rows.map((r: { id: number }) => r.id));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await conn.query(renderMigration(m.sql, names));
      await conn.query(`INSERT INTO ${names.q}.migrations (id, name) VALUES ($1, $2)`, [m.id, m.name]);
      applied.push(m.id);
    }
    await conn.query('COMMIT');
    return applied;
  } catch (error) {
    await conn.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Migrates on a client checked out of `pool`. A checked-out client has no 'error' listener
 * of the pool's: a session ending mid-migration (a restart, a failover) would otherwise be an
 * unhandled 'error' event that ends the process. After a failure the session's state is
 * unknown, so the client is destroyed rather than pooled.
 */
export async function migrateFromPool(pool: pg.Pool, names: Names): Promise<number[]> {
  // Listening from the handover on: a session ended mid-migration fails this call, not the process.
  const tx = await checkOut(pool);
  try {
    const applied = await migrate(tx.client, names);
    tx.release();
    return applied;
  } catch (error) {
    tx.release(true);
    throw error;
  }
}
