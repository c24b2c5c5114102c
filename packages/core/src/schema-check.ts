import { SchemaNotMigratedError } from './errors.js';
import type { Logger } from './logger.js';
import { loadMigrations, migrationsSettled } from './migrate.js';
import type { Names } from './sql/names.js';

/** 42P01 undefined_table: the schema or its migrations table does not exist. */
const UNDEFINED_TABLE = '42P01';

/**
 * Compares the migrations recorded in the schema's `migrations` table (the one `migrate()`
 * keeps) with the ones this package ships, in one statement, after any migrate() of the same
 * queue in progress (not one of another process). A schema that lacks any of them throws
 * SchemaNotMigratedError naming them: without it, a worker started and then failed on every
 * statement, with a warning twice a second that never said what to do. Migrations the
 * package does not know mean a newer version migrated the schema already (a rolling deploy):
 * migrations only add, so this one can run, and says so once.
 */
export async function checkSchema(
  session: { ask(text: string): Promise<{ rows: any[] }> },
  names: Names,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  // This queue's own migrate() may be under way (still waiting for Postgres, say): check after it.
  await Promise.race([migrationsSettled(names), aborted(signal)]);
  // stop() meanwhile: start() resolves with the worker stopped, whatever is thrown here.
  if (signal.aborted) throw new Error('the worker stopped before it checked the schema');
  const shipped = await loadMigrations();
  let applied: { id: number; name: string }[] | null;
  try {
    applied = (await session.ask(`SELECT id, name FROM ${names.q}.migrations ORDER BY id`)).rows;
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNDEFINED_TABLE) throw error;
    applied = null;
  }
  const have = new Set((applied ?? []).map((r) => r.id));
  const missing = shipped.filter((m) => !have.has(m.id)).map(({ id, name }) => ({ id, name }));
  if (missing.length > 0) throw new SchemaNotMigratedError(names.schema, missing, applied === null);
  const known = new Set(shipped.map((m) => m.id));
  const unknown = (applied ?? []).filter((r) => !known.has(r.id));
  if (unknown.length > 0) {
    logger.warn(
      {
        schema: names.schema,
        unknownMigrations: unknown.map((r) => `${String(r.id).padStart(4, '0')}_${r.name}`),
      },
      `schema ${JSON.stringify(names.schema)} has migrations this version of @queue/core does not know ` +
        '(a newer version migrated it); running anyway',
    );
  }
}

/** Resolves when `signal` aborts (stop() during start()), so that stop() never waits on a migrate(). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
