import { type Names, quoteIdent, quoteLiteral } from './names.js';

/**
 * Statements of the history maintenance (history.ts): hourly partitions of job_history, and
 * the retention of finished jobs, failed jobs and statistics. Partition names come from
 * history.ts (`job_history_pYYYYMMDDHH` or the catalog), never from user input; they are
 * quoted all the same.
 */

const table = (n: Names, name: string) => `${n.q}.${quoteIdent(name)}`;

/** The effective `keep` of queue row `q` ($default_ms when unset), as an interval. */
const keepOf = (q: string, defaultMs: string) =>
  `coalesce(${q}.keep, make_interval(secs => ${defaultMs}::float8 / 1000))`;

/**
 * Every partition of job_history: its name, and its bounds in epoch milliseconds (null for
 * the DEFAULT partition). Bounds are read back from the catalog, printed and parsed in this
 * session (so whatever its TimeZone and DateStyle), rather than trusted from the name.
 */
export function partitionsSql(n: Names): string {
  return `SELECT c.relname AS name, b IS NULL AS is_default,
      (extract(epoch FROM b[1]::timestamptz) * 1000)::float8 AS lo,
      (extract(epoch FROM b[2]::timestamptz) * 1000)::float8 AS hi
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      LEFT JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
        'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)') AS b ON true
    WHERE i.inhparent = ${quoteLiteral(`${n.q}.job_history`)}::regclass
    ORDER BY lo NULLS FIRST`;
}

/**
 * A new hourly partition, made as a plain table and then attached, in one transaction: ATTACH
 * takes SHARE UPDATE EXCLUSIVE on job_history, which does not conflict with the finish
 * statement's inserts, where CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE on it and
 * would stall every worker's finish (and so its next claim) while it waits. ATTACH still takes
 * ACCESS EXCLUSIVE on the DEFAULT partition, to check it holds no row of the new range: that
 * blocks readers of job_history (and inserts routed to the DEFAULT partition) briefly. The
 * indexes are built by the ATTACH, on an empty table. Bounds are ISO UTC instants.
 */
export function createPartitionSql(n: Names, name: string, lo: Date, hi: Date): string[] {
  return [
    `CREATE TABLE ${table(n, name)} (LIKE ${n.q}.job_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
    `ALTER TABLE ${n.q}.job_history ATTACH PARTITION ${table(n, name)}
      FOR VALUES FROM (${quoteLiteral(lo.toISOString())}) TO (${quoteLiteral(hi.toISOString())})`,
  ];
}

/**
 * The queues with rows in one partition, with their effective `keep` in ms ($1: the default,
 * for queues without a setting). A loose index scan over (queue, finished_at, id): one index
 * probe per distinct queue, however many rows the partition holds.
 */
export function partitionQueuesSql(n: Names, name: string): string {
  const t = table(n, name);
  return `WITH RECURSIVE d AS (
      (SELECT queue FROM ${t} ORDER BY queue LIMIT 1)
      UNION ALL
      SELECT (SELECT h.queue FROM ${t} h WHERE h.queue > d.queue ORDER BY h.queue LIMIT 1)
      FROM d WHERE d.queue IS NOT NULL)
    SELECT d.queue, (extract(epoch FROM ${keepOf('q', '$1')}) * 1000)::float8 AS keep_ms
    FROM d LEFT JOIN ${n.q}.queues q ON q.name = d.queue
    WHERE d.queue IS NOT NULL`;
}

/**
 * Takes the lock DROP TABLE would take (ACCESS EXCLUSIVE on job_history, so no finish or
 * cancel is writing meanwhile), then says whether every row of the partition is past its
 * queue's keep: its upper bound $2 (epoch ms) is older than the longest keep among the
 * queues with rows in it. Asked again under the lock because a finish in flight (or a
 * transaction that cancelled a job and has not committed) may have written a row the first
 * look could not see, and a retention setting may have changed since. $1: the default keep in ms.
 */
export function lockAndCheckDropSql(n: Names, name: string): { lock: string; check: string } {
  return {
    // ONLY: the parent alone, which every reader and writer locks first (not each partition).
    lock: `LOCK TABLE ONLY ${n.q}.job_history IN ACCESS EXCLUSIVE MODE`,
    check: `SELECT to_timestamp($2::float8 / 1000) <= now() AND NOT EXISTS (
        SELECT FROM (${partitionQueuesSql(n, name)}) k
        WHERE to_timestamp($2::float8 / 1000) > now() - k.keep_ms * interval '1 millisecond') AS droppable`,
  };
}

/**
 * A session-level lock that processes making partitions at once (migrate() in many processes,
 * a worker's run) take in turn, so that the later one lists the partitions after the earlier
 * one has made them, rather than racing it to the same names.
 */
export function partitionsLockSql(n: Names, take: boolean): string {
  const key = `${n.lockNamespace}, hashtext(${quoteLiteral(`history-partitions:${n.schema}`)})`;
  return take ? `SELECT pg_advisory_lock(${key})` : `SELECT pg_advisory_unlock(${key})`;
}

export function dropPartitionSql(n: Names, name: string): string {
  return `DROP TABLE IF EXISTS ${table(n, name)}`;
}

/**
 * Deletes up to $3 rows of queue $1 from one partition that finished more than $2 ms ago,
 * oldest first. By ctid (a TID scan): one short statement and transaction per batch, so no
 * long lock and a bounded amount of WAL at a time. History rows are never updated, so a ctid
 * read in the subquery still names the same row in the DELETE.
 */
export function deleteExpiredSql(n: Names, name: string): string {
  const t = table(n, name);
  return `DELETE FROM ${t} WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM ${t}
      WHERE queue = $1::text AND finished_at < now() - $2::float8 * interval '1 millisecond'
      ORDER BY finished_at LIMIT $3::int))`;
}

/**
 * The newest finished job of queue $1 past its count cap: the ($2 + 1)th newest by
 * (finished_at, id), or no row when it has $2 or fewer. finished_at as text, so that its
 * microseconds survive the round trip (read back in the same session).
 */
export function historyCutoffSql(n: Names): string {
  return `SELECT finished_at::text AS at, id::text AS id FROM ${n.q}.job_history
    WHERE queue = $1::text ORDER BY finished_at DESC, id DESC OFFSET $2::int LIMIT 1`;
}

/** Deletes up to $4 rows of queue $1 from one partition at or before the cutoff ($2, $3). */
export function deleteOverCountSql(n: Names, name: string): string {
  const t = table(n, name);
  return `DELETE FROM ${t} WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM ${t}
      WHERE queue = $1::text AND (finished_at, id) <= ($2::timestamptz, $3::bigint)
      ORDER BY finished_at, id LIMIT $4::int))`;
}

/**
 * Deletes up to $3 failed-for-good jobs of queue $1 that failed more than $2 ms ago, oldest
 * first (jobs_failed_idx). The conditions are repeated on the DELETE itself so that a job
 * retried meanwhile (failed_at cleared) is re-checked on its newest version and kept; the
 * try-lock, last, skips a job a worker holds (a claim that found it used up, for a moment).
 */
export function deleteFailedExpiredSql(n: Names): string {
  const expired = `failed_at < now() - $2::float8 * interval '1 millisecond'`;
  return `DELETE FROM ${n.q}.jobs WHERE id = ANY(ARRAY(
      SELECT id FROM ${n.q}.jobs WHERE queue = $1::text AND failed_at IS NOT NULL AND ${expired}
      ORDER BY failed_at LIMIT $3::int))
    AND queue = $1::text AND failed_at IS NOT NULL AND ${expired}
    AND pg_try_advisory_xact_lock(${n.lockKey('id')})`;
}

/** The newest failed job of queue $1 past its count cap ($2): as historyCutoffSql. */
export function failedCutoffSql(n: Names): string {
  return `SELECT failed_at::text AS at, id::text AS id FROM ${n.q}.jobs
    WHERE queue = $1::text AND failed_at IS NOT NULL
    ORDER BY failed_at DESC, id DESC OFFSET $2::int LIMIT 1`;
}

/** Deletes up to $4 failed jobs of queue $1 at or before the cutoff ($2, $3); see deleteFailedExpiredSql. */
export function deleteFailedOverCountSql(n: Names): string {
  const over = `(failed_at, id) <= ($2::timestamptz, $3::bigint)`;
  return `DELETE FROM ${n.q}.jobs WHERE id = ANY(ARRAY(
      SELECT id FROM ${n.q}.jobs WHERE queue = $1::text AND failed_at IS NOT NULL AND ${over}
      ORDER BY failed_at, id LIMIT $4::int))
    AND queue = $1::text AND failed_at IS NOT NULL AND ${over}
    AND pg_try_advisory_xact_lock(${n.lockKey('id')})`;
}

/** Deletes up to $2 per-minute statistics rows older than $1 ms. */
export function deleteOldStatsSql(n: Names): string {
  return `DELETE FROM ${n.q}.job_stats WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM ${n.q}.job_stats WHERE minute < now() - $1::float8 * interval '1 millisecond'
      LIMIT $2::int))`;
}

/** The retention settings of every queue that has one (the rest take the defaults). */
export function retentionSettingsSql(n: Names): string {
  return `SELECT ${RETENTION_COLUMNS} FROM ${n.q}.queues
    WHERE keep IS NOT NULL OR keep_count IS NOT NULL OR failed_keep IS NOT NULL OR failed_keep_count IS NOT NULL
    ORDER BY name`;
}

/** A queue's row as retention.ts reads it: intervals as milliseconds. */
export const RETENTION_COLUMNS = `name AS queue,
    (extract(epoch FROM keep) * 1000)::float8 AS keep,
    keep_count,
    (extract(epoch FROM failed_keep) * 1000)::float8 AS failed_keep,
    failed_keep_count`;

/** One queue's retention settings (no row: none set). */
export function queueRetentionSql(n: Names): string {
  return `SELECT ${RETENTION_COLUMNS} FROM ${n.q}.queues WHERE name = $1::text`;
}

/**
 * Sets the given retention settings of queue $1 and leaves the others: $2/$4/$6/$8 say
 * whether keep / keep_count / failed_keep / failed_keep_count are given, $3/$5/$7/$9 their
 * values (ms for the intervals; NULL restores the default). A queue without a row gets one.
 */
export function setRetentionSql(n: Names): string {
  const ms = (p: string) => `make_interval(secs => ${p}::float8 / 1000)`;
  return `INSERT INTO ${n.q}.queues AS q (name, keep, keep_count, failed_keep, failed_keep_count)
    VALUES ($1::text, ${ms('$3')}, $5::int, ${ms('$7')}, $9::int)
    ON CONFLICT (name) DO UPDATE SET
      keep = CASE WHEN $2::bool THEN excluded.keep ELSE q.keep END,
      keep_count = CASE WHEN $4::bool THEN excluded.keep_count ELSE q.keep_count END,
      failed_keep = CASE WHEN $6::bool THEN excluded.failed_keep ELSE q.failed_keep END,
      failed_keep_count = CASE WHEN $8::bool THEN excluded.failed_keep_count ELSE q.failed_keep_count END
    RETURNING ${RETENTION_COLUMNS}`;
}

/**
 * Whether this caller's turn has come for the maintenance: the `checks` row 'history' says
 * when it last ran; it runs again once $1 ms have passed. The upsert's condition sees the
 * latest committed time, so of workers asking together only one gets a row back. Run while
 * holding the maintenance's session lock, so it never races a run in progress.
 */
export function maintenanceTurnSql(n: Names): string {
  return `INSERT INTO ${n.q}.checks AS c (name, checked_at) VALUES ('history', now())
    ON CONFLICT (name) DO UPDATE SET checked_at = excluded.checked_at
    WHERE c.checked_at <= now() - $1::float8 * interval '1 millisecond'
    RETURNING (extract(epoch FROM checked_at) * 1000)::float8 AS at`;
}

/**
 * The session-level try-lock that makes one process at a time run the maintenance; in the
 * two-int4 form (never a job's key), named for the schema so that two queues in one
 * database do not exclude each other.
 */
export function maintenanceLockSql(n: Names, take: boolean): string {
  const key = `${n.lockNamespace}, hashtext(${quoteLiteral(`history:${n.schema}`)})`;
  return take ? `SELECT pg_try_advisory_lock(${key}) AS locked` : `SELECT pg_advisory_unlock(${key})`;
}
