import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { withDatabase } from '@queue/dev-postgres';
import { Redis } from 'ioredis';
import pg from 'pg';

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database on the server; returns its name and URL. */
export async function createDatabase(
  serverUrl: string,
  label: string,
): Promise<{ name: string; url: string }> {
  const name = `bench_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(3).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  return { name, url: withDatabase(serverUrl, name) };
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** VACUUM ANALYZE of one database, after a bulk load: as the table would be after autovacuum had run. */
export async function vacuumAnalyze(databaseUrl: string): Promise<void> {
  await admin(databaseUrl, (c) => c.query('VACUUM ANALYZE'));
}

export interface ServerInfo {
  version: string;
  settings: Record<string, string>;
}

const SETTINGS = [
  'synchronous_commit',
  'fsync',
  'autovacuum',
  'shared_buffers',
  'max_connections',
  'wal_level',
];

export async function serverInfo(serverUrl: string): Promise<ServerInfo> {
  return admin(serverUrl, async (c) => {
    const { rows } = await c.query(
      `SELECT name, current_setting(name) AS value FROM pg_settings WHERE name = ANY($1::text[])`,
      [SETTINGS],
    );
    const version = (await c.query('SHOW server_version')).rows[0].server_version as string;
    return { version, settings: Object.fromEntries(rows.map((r) => [r.name, r.value])) };
  });
}

/** Redis server facts, or undefined when nothing answers within a second. */
export async function redisInfo(url: string): Promise<Record<string, string> | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    const [, save] = (await redis.config('GET', 'save')) as string[];
    const [, aof] = (await redis.config('GET', 'appendonly')) as string[];
    const [, fsync] = (await redis.config('GET', 'appendfsync')) as string[];
    return { version, save: save ?? '', appendonly: aof ?? '', appendfsync: fsync ?? '' };
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/**
 * CPU time (user + system, ms) of every server process connected to one database, by pid,
 * read from /proc: the database's side of a workload, which a busy machine does not inflate
 * the way it inflates wall time. Undefined when the server's processes are not on this
 * machine (or /proc is not there); Redis peers have none (an empty map).
 */
export async function backendCpuMs(databaseUrl: string): Promise<Map<number, number> | undefined> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    const out = new Map<number, number>();
    for (const { pid } of rows as { pid: number }[]) {
      // A backend that ended since the query is left out (but see below).
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
      if (stat === undefined) continue;
      // Not a postgres process under that pid: the server runs on another machine.
      if (!stat.includes(' (postgres) ')) return undefined;
      // Fields after the command name: utime and stime are the 12th and 13th, in clock
      // ticks (10 ms on Linux).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    }
    // None readable: the server's processes are not visible from here (another machine or
    // a container), not all ended at once.
    return rows.length > 0 && out.size === 0 ? undefined : out;
  } finally {
    await c.end();
  }
}

/** CPU the database's server processes used between two readings; new processes count whole. */
export function cpuBetween(
  before: Map<number, number> | undefined,
  after: Map<number, number> | undefined,
): number | undefined {
  if (!before || !after) return undefined;
  let ms = 0;
  for (const [pid, cpu] of after) ms += cpu - (before.get(pid) ?? 0);
  return ms;
}
