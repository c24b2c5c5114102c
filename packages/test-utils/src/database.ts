import { randomBytes } from 'node:crypto';
import { withDatabase } from '@queue/dev-postgres';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import './context.js';

export interface TestDatabase {
  /** Connection string of this test file's own database. */
  readonly url: string;
  readonly name: string;
  /** Runs one query on a short-lived connection. */
  query<R = any>(text: string, values?: unknown[]): Promise<R[]>;
}

/** Creates a database for this test file from the migrated template, and drops it afterwards. */
export function useTestDatabase(): TestDatabase {
  return useDatabase('t', (name) => `CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
}

/** Creates an empty database (no queue schema) for this test file; dropped afterwards. */
export function useEmptyDatabase(): TestDatabase {
  return useDatabase('e', (name) => `CREATE DATABASE ${name}`);
}

function useDatabase(prefix: string, create: (name: string) => string): TestDatabase {
  const server = inject('databaseUrl');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const url = withDatabase(server, name);
  beforeAll(() => adminQuery(server, create(name)));
  afterAll(() => adminQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  return {
    url,
    name,
    async query(text, values) {
      const c = new pg.Client(url);
      await c.connect();
      try {
        return (await c.query(text, values)).rows;
      } finally {
        await c.end();
      }
    },
  };
}

async function adminQuery(server: string, text: string): Promise<void> {
  const c = new pg.Client(server);
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/**
 * Advisory locks held in this database by any session. Every advisory lock in a test
 * file's database is the queue's, so after each test (with workers stopped) there must be none.
 */
export async function heldAdvisoryLocks(db: TestDatabase): Promise<{ pid: number; key: string }[]> {
  return db.query(
    `SELECT l.pid, ((l.classid::int8 << 32) | l.objid::int8)::text AS key
     FROM pg_locks l JOIN pg_database d ON d.oid = l.database
     WHERE l.locktype = 'advisory' AND d.datname = $1`,
    [db.name],
  );
}

export async function expectNoAdvisoryLocks(db: TestDatabase): Promise<void> {
  const held = await heldAdvisoryLocks(db);
  if (held.length > 0) {
    throw new Error(`advisory locks still held after the test: ${JSON.stringify(held)}`);
  }
}
