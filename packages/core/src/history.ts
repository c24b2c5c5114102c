/**
 * History maintenance: the hourly partitions of job_history, made ahead and dropped once past
 * every queue's retention, and the row-by-row retention that dropping cannot do (a queue that
 * keeps less than others sharing its partition, count caps, the DEFAULT partition, failed jobs,
 * per-minute statistics). Every worker starts it; one process in the cluster runs it per interval.
 *
 * Measured (scripts/history-bench.ts; PostgreSQL 15, 2 cores shared with other work): the
 * finish's statement for 500 jobs ran at 281-329k jobs/s deleting them only, 100-108k moving
 * them into the partitioned history, 95-101k into a plain table with the same indexes (so
 * partitions cost the write nothing); the four indexes are 3.8 of the 5.1 µs a history row
 * costs (the tags GIN nothing for untagged jobs). Pruning an hour of 1M rows (300 MB): DROP
 * 0.2-0.3 s and nothing left behind; batched DELETE 4.3-14.5 s, leaving 1M dead tuples and the
 * 300 MB until a VACUUM (2.6-6.4 s). A finish queued behind a DROP goes through 3-20 ms after
 * the DROP gets its lock.
 */
import type pg from 'pg';
import type { Logger } from './logger.js';
import { migrateFromPool } from './migrate.js';
import { DEFAULT_KEEP_MS } from './retention.js';
import {
  createPartitionSql,
  deleteExpiredSql,
  deleteFailedExpiredSql,
  deleteFailedOverCountSql,
  deleteOldStatsSql,
  deleteOverCountSql,
  dropPartitionSql,
  failedCutoffSql,
  historyCutoffSql,
  lockAndCheckDropSql,
  maintenanceLockSql,
  maintenanceTurnSql,
  partitionQueuesSql,
  partitionsLockSql,
  partitionsSql,
  retentionSettingsSql,
} from './sql/history.js';
import type { Names } from './sql/names.js';
import { checkOut } from './transaction.js';

const HOUR_MS = 3_600_000;
/** Partitions are made from the current UTC hour through this many hours ahead. */
export const HOURS_AHEAD = 24;
/** How often each worker asks for its turn; one run per 0.9 × this across the cluster. */
export const MAINTENANCE_INTERVAL_MS = 60_000;
/** Rows per DELETE: one short statement and transaction each (~0.1 s here). */
export const DELETE_BATCH = 10_000;
/** Per-minute statistics are kept this long (the dashboard's longest range). */
export const STATS_KEEP_MS = 7 * 86_400_000;
/**
 * How long a DDL statement (ATTACH, DROP) waits for its lock before giving up until the next
 * run. While it waits, every statement that wants the table queues behind it: for DROP that is
 * every worker's finish (and so its claim), so the wait must stay short.
 */
export const DDL_LOCK_TIMEOUT_MS = 200;

export interface MaintenanceOptions {
  /** Hours of partitions to keep made ahead. Default HOURS_AHEAD. */
  hoursAhead?: number;
  /** Rows per DELETE. Default DELETE_BATCH. */
  batchSize?: number;
  /** Ends the run between statements. */
  signal?: AbortSignal;
  /** Problems already logged at warn (by key), so a recurring one is logged once per process. */
  warned?: Set<string>;
}

/** What one run did. */
export interface MaintenanceReport {
  /** Partitions made, and dropped. */
  created: string[];
  dropped: string[];
  /** Rows deleted: finished jobs from the history, failed jobs from jobs, statistics rows. */
  deletedHistory: number;
  deletedFailed: number;
  deletedStats: number;
}

type Client = pg.ClientBase;

interface Partition {
  name: string;
  isDefault: boolean;
  /** Bounds in epoch ms; null for the DEFAULT partition. */
  lo: number | null;
  hi: number | null;
}

interface Settings {
  queue: string;
  keep: number | null;
  keep_count: number | null;
  failed_keep: number | null;
  failed_keep_count: number | null;
}

/** `job_history_p2026120103`: the partition of that UTC hour. */
export function partitionName(hourStart: Date): string {
  return `job_history_p${hourStart.toISOString().slice(0, 13).replace(/\D/g, '')}`;
}

/**
 * Makes the partitions of the current UTC hour through `hoursAhead` hours ahead that do not
 * exist (an hour that some partition already covers, whatever its name, is left alone). Safe
 * when several processes do it at once: they take turns (partitionsLockSql), and each
 * partition is made in its own transaction. Nothing another session does fails the run: these
 * errors skip that hour until the next run (logged at debug, or at warn once per process for
 * those that need attention):
 * - 42P07 / 42710 / 23505: a session that does not take turns (a person, another tool) made
 *   the same partition meanwhile (the catalog's unique indexes make the second CREATE wait for
 *   the first, then fail on the table's name or its row type's);
 * - 42P17: the range overlaps a partition made meanwhile under another name;
 * - 23514: the DEFAULT partition holds rows of that hour (no partition existed when they were
 *   written): they stay there, pruned by DELETE, and the hour gets no partition;
 * - 55P03 / 40P01: a lock not granted within DDL_LOCK_TIMEOUT_MS, or a deadlock.
 */
export async function ensurePartitions(
  client: Client,
  names: Names,
  logger: Logger,
  options: MaintenanceOptions = {},
): Promise<string[]> {
  const ahead = options.hoursAhead ?? HOURS_AHEAD;
  const warned = options.warned ?? new Set<string>();
  await client.query(partitionsLockSql(names, true));
  try {
    return await makePartitions(client, names, logger, ahead, warned, options.signal);
  } finally {
    await client.query(partitionsLockSql(names, false));
  }
}

async function makePartitions(
  client: Client,
  names: Names,
  logger: Logger,
  ahead: number,
  warned: Set<string>,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const now = await dbNow(client);
  const existing = await listPartitions(client, names);
  const created: string[] = [];
  const first = Math.floor(now / HOUR_MS) * HOUR_MS;
  for (let lo = first; lo <= first + ahead * HOUR_MS; lo += HOUR_MS) {
    if (signal?.aborted) break;
    const hi = lo + HOUR_MS;
    if (existing.some((p) => !p.isDefault && p.lo! < hi && lo < p.hi!)) continue;
    const name = partitionName(new Date(lo));
    try {
      await inTransaction(client, async () => {
        for (const sql of createPartitionSql(names, name, new Date(lo), new Date(hi)))
          await client.query(sql);
      });
      created.push(name);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = SKIPPED[code ?? ''];
      if (!why) throw error;
      const fields = { partition: name, code, err: (error as Error).message };
      if (why.warn && !warned.has(`${code}:${name}`)) {
        warned.add(`${code}:${name}`);
        logger.warn(fields, `history partition ${name} not made: ${why.text}`);
      } else {
        logger.debug(fields, `history partition ${name} not made: ${why.text}`);
      }
    }
  }
  return created;
}

const SKIPPED: Record<string, { text: string; warn: boolean }> = {
  '42P07': { text: 'another session made it meanwhile', warn: false },
  '23505': { text: 'another session made it meanwhile', warn: false },
  '42710': { text: 'another session made it meanwhile', warn: false },
  '42P17': { text: 'it overlaps a partition made meanwhile', warn: false },
  '40P01': { text: 'deadlock with another process; the next run tries again', warn: false },
  '55P03': {
    text: `its lock was not granted within ${DDL_LOCK_TIMEOUT_MS} ms (a long query on job_history?); the next run tries again`,
    warn: true,
  },
  '23514': {
    text:
      'job_history_default already holds jobs finished in that hour (written while no partition ' +
      'covered it): they stay there and are pruned by DELETE per their retention; later hours get partitions',
    warn: true,
  },
};

/**
 * One maintenance run on `client` (which must not be a worker's claimer session: it holds
 * no job locks and may wait on DDL locks). The caller makes sure no other run is in progress.
 */
export async function runMaintenance(
  client: Client,
  names: Names,
  logger: Logger,
  options: MaintenanceOptions = {},
): Promise<MaintenanceReport> {
  const signal = options.signal;
  const batch = options.batchSize ?? DELETE_BATCH;
  const warned = options.warned ?? new Set<string>();
  const report: MaintenanceReport = {
    created: await ensurePartitions(client, names, logger, { ...options, warned }),
    dropped: [],
    deletedHistory: 0,
    deletedFailed: 0,
    deletedStats: 0,
  };
  /** Runs a batched DELETE until a batch comes back short; returns the rows deleted. */
  const drain = async (sql: string, values: unknown[]) => {
    let total = 0;
    while (!signal?.aborted) {
      const { rowCount } = await client.query(sql, [...values, batch]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < batch) break;
    }
    return total;
  };
  const settings = (await client.query(retentionSettingsSql(names))).rows as Settings[];
  const now = await dbNow(client);
  const kept: Partition[] = [];
  // Past hours (and the DEFAULT partition): drop what every queue in it is done with, else
  // delete the rows of queues that keep less than the partition must live for the others.
  for (const p of await listPartitions(client, names)) {
    if (signal?.aborted) return report;
    if (!p.isDefault && p.lo! > now) continue;
    const queues = (await client.query(partitionQueuesSql(names, p.name), [DEFAULT_KEEP_MS])).rows as {
      queue: string;
      keep_ms: number;
    }[];
    const longest = Math.max(0, ...queues.map((q) => q.keep_ms));
    if (!p.isDefault && p.hi! <= now - longest) {
      if (await dropPartition(client, names, p, logger, warned)) {
        report.dropped.push(p.name);
        continue;
      }
    }
    kept.push(p);
    for (const q of queues) {
      // A queue that keeps as long as the longest waits for the DROP (at most an hour more);
      // in the DEFAULT partition, which is never dropped, every queue is pruned by DELETE.
      if (!p.isDefault && (q.keep_ms >= longest || now - q.keep_ms <= p.lo!)) continue;
      report.deletedHistory += await drain(deleteExpiredSql(names, p.name), [q.queue, q.keep_ms]);
    }
  }
  for (const s of settings) {
    if (signal?.aborted) return report;
    if (s.keep_count !== null) {
      const cut = (await client.query(historyCutoffSql(names), [s.queue, s.keep_count])).rows[0];
      for (const p of cut ? kept : []) {
        report.deletedHistory += await drain(deleteOverCountSql(names, p.name), [s.queue, cut.at, cut.id]);
      }
    }
    if (s.failed_keep !== null) {
      report.deletedFailed += await drain(deleteFailedExpiredSql(names), [s.queue, s.failed_keep]);
    }
    if (s.failed_keep_count !== null) {
      const cut = (await client.query(failedCutoffSql(names), [s.queue, s.failed_keep_count])).rows[0];
      if (cut)
        report.deletedFailed += await drain(deleteFailedOverCountSql(names), [s.queue, cut.at, cut.id]);
    }
  }
  report.deletedStats = await drain(deleteOldStatsSql(names), [STATS_KEEP_MS]);
  return report;
}

/**
 * Drops a partition whose every row is past its queue's keep. DROP TABLE takes ACCESS
 * EXCLUSIVE on job_history (and its DEFAULT partition) until its commit: it waits for every
 * finish in flight and, while it waits, every new finish (and with it the worker's next claim)
 * waits behind it; DDL_LOCK_TIMEOUT_MS bounds that, and on timeout the partition stays for the
 * next run. Once granted, the lock is held for a catalog change: measured here, a finish
 * queued behind the DROP of an hour of 1M rows (300 MB) waited ~20 ms; the COMMIT then spends
 * ~240 ms unlinking files after the locks are released, which delays only this session.
 * DETACH first and DROP after gained nothing over that (the same ~20 ms). DETACH …
 * CONCURRENTLY, which does not block writers at all, is refused on a table with a DEFAULT
 * partition. Under the lock the decision is made again: see lockAndCheckDropSql.
 */
async function dropPartition(
  client: Client,
  names: Names,
  p: Partition,
  logger: Logger,
  warned: Set<string>,
): Promise<boolean> {
  try {
    return await inTransaction(client, async () => {
      const { lock, check } = lockAndCheckDropSql(names, p.name);
      await client.query(lock);
      const { rows } = await client.query(check, [DEFAULT_KEEP_MS, p.hi]);
      if (!rows[0]?.droppable) return false;
      await client.query(dropPartitionSql(names, p.name));
      return true;
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '55P03' && code !== '40P01') throw error;
    const fields = { partition: p.name, code, err: (error as Error).message };
    const text = `history partition ${p.name} not dropped yet: its lock was not granted within ${DDL_LOCK_TIMEOUT_MS} ms; the next run tries again`;
    if (warned.has(`drop:${p.name}`)) logger.debug(fields, text);
    else {
      warned.add(`drop:${p.name}`);
      logger.warn(fields, text);
    }
    return false;
  }
}

/** DDL in a transaction of its own, waiting at most DDL_LOCK_TIMEOUT_MS for each lock. */
async function inTransaction<T>(client: Client, run: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${DDL_LOCK_TIMEOUT_MS}`);
    const result = await run();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function dbNow(client: Client): Promise<number> {
  const { rows } = await client.query('SELECT (extract(epoch FROM now()) * 1000)::float8 AS now');
  return rows[0].now;
}

async function listPartitions(client: Client, names: Names): Promise<Partition[]> {
  const { rows } = await client.query(partitionsSql(names));
  return rows.map((r) => ({ name: r.name, isDefault: r.is_default, lo: r.lo, hi: r.hi }));
}

/** Runs `use` on a client of the pool; a client whose use failed is destroyed, not pooled. */
async function withClient<T>(pool: pg.Pool, use: (client: Client) => Promise<T>): Promise<T> {
  const tx = await checkOut(pool);
  try {
    const result = await use(tx.client);
    tx.release();
    return result;
  } catch (error) {
    tx.release(true);
    throw error;
  }
}

/** `migrate()`: the migrations, then the first partitions, so that a fresh schema has them. */
export async function migrateWithHistory(pool: pg.Pool, names: Names, logger: Logger): Promise<number[]> {
  const applied = await migrateFromPool(pool, names);
  await withClient(pool, (client) => ensurePartitions(client, names, logger));
  return applied;
}

export interface HistoryMaintenanceOptions extends Omit<MaintenanceOptions, 'signal' | 'warned'> {
  pool: pg.Pool;
  names: Names;
  logger: Logger;
  /** Milliseconds between turns asked for. Default MAINTENANCE_INTERVAL_MS. */
  intervalMs?: number;
}

/**
 * A worker's share of the maintenance: at start and every interval it asks for its turn, and
 * runs when it gets it. Two guards: a session-level try-lock held for the whole run, so two
 * runs never overlap even when one outlasts the interval, and the compare-and-set on the
 * `checks` row, so that of N workers asking within an interval one runs. It uses a client of
 * the queue's pool, never the claimer's session, which stays free for claims.
 */
export class HistoryMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly abort = new AbortController();
  private readonly warned = new Set<string>();
  private readonly interval: number;

  constructor(private readonly o: HistoryMaintenanceOptions) {
    this.interval = o.intervalMs ?? MAINTENANCE_INTERVAL_MS;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.interval);
    this.timer.unref();
  }

  /** Stops asking, ends a run in progress between statements, and waits for it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.running;
  }

  private tick(): void {
    if (this.running || this.abort.signal.aborted) return;
    this.running = this.runIfTurn()
      .catch((error) => {
        this.o.logger.warn(
          { err: (error as Error).message },
          'history maintenance failed; the next run tries again',
        );
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Runs the maintenance if it is this process's turn; null when it is not. */
  async runIfTurn(): Promise<MaintenanceReport | null> {
    const { names, logger } = this.o;
    return withClient(this.o.pool, async (client) => {
      const { rows } = await client.query(maintenanceLockSql(names, true));
      if (!rows[0].locked) {
        logger.debug({}, 'history maintenance: running in another process');
        return null;
      }
      try {
        const turn = await client.query(maintenanceTurnSql(names), [this.interval * 0.9]);
        const turnAt = turn.rows[0]?.at as number | undefined;
        if (turnAt === undefined) {
          logger.debug({}, 'history maintenance: not this process’s turn');
          return null;
        }
        const started = performance.now();
        const report = await runMaintenance(client, names, logger, {
          ...this.o,
          signal: this.abort.signal,
          warned: this.warned,
        });
        const fields = { ...report, turnAt, ms: Math.round(performance.now() - started) };
        if (report.dropped.length > 0) logger.info(fields, 'history maintenance ran');
        else logger.debug(fields, 'history maintenance ran');
        return report;
      } finally {
        await client.query(maintenanceLockSql(names, false));
      }
    });
  }
}
