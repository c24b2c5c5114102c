import type { Names } from './names.js';

/**
 * The live rows of the workers table: those whose marker lock (the two-int4 advisory lock
 * `(lock_namespace, lock_marker)`, objsubid 2 in pg_locks) is granted to their recorded backend
 * right now. Postgres drops the lock with the session, so a killed worker's row stops being
 * live at once. pg_locks is read once (a semi-join on a function scan).
 */
export function liveWorkersSql(n: Names): string {
  return `SELECT w.id, w.host, w.pid, w.backend_pid, w.queues, w.tasks, w.started_at
    FROM ${n.q}.workers w
    WHERE EXISTS (SELECT FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
        AND l.classid = w.lock_namespace::oid AND l.objid = w.lock_marker::oid AND l.pid = w.backend_pid
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))`;
}

export function workersSql(n: Names): string {
  return `${liveWorkersSql(n)} ORDER BY w.host, w.pid, w.started_at, w.id`;
}

/**
 * Run on a worker's claimer session: deletes other workers' dead rows, then writes this
 * worker's own (again after a reconnect: a new backend pid). $1 id, $2 host, $3 Node pid,
 * $4 lock namespace, $5 marker, $6 queues (jsonb), $7 tasks, $8 when it first registered (or null).
 *
 * A row is dead when its marker lock can be taken: no session holds it. The try-lock, not a
 * read of pg_locks, decides the delete, so it cannot race a worker that is reconnecting: that
 * worker takes its marker before it rewrites its row, and once taken, no try-lock succeeds.
 * The transaction-level locks it takes on dead markers end with the statement. The row is
 * rewritten only when something changed, so a refresh of a healthy worker writes nothing.
 */
export function registerWorkerSql(n: Names): string {
  return `WITH pruned AS (
      DELETE FROM ${n.q}.workers d
      WHERE d.id <> $1::text AND pg_try_advisory_xact_lock(d.lock_namespace, d.lock_marker))
    INSERT INTO ${n.q}.workers AS w
      (id, host, pid, backend_pid, lock_namespace, lock_marker, queues, tasks, started_at)
    VALUES ($1, $2, $3, pg_backend_pid(), $4, $5, $6::jsonb, $7::text[], coalesce($8::timestamptz, now()))
    ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
      backend_pid = excluded.backend_pid, lock_namespace = excluded.lock_namespace,
      lock_marker = excluded.lock_marker, queues = excluded.queues, tasks = excluded.tasks
    WHERE (w.host, w.pid, w.backend_pid, w.lock_namespace, w.lock_marker, w.queues, w.tasks)
      IS DISTINCT FROM (excluded.host, excluded.pid, excluded.backend_pid, excluded.lock_namespace,
        excluded.lock_marker, excluded.queues, excluded.tasks)
    RETURNING w.started_at`;
}

export function unregisterWorkerSql(n: Names): string {
  return `DELETE FROM ${n.q}.workers WHERE id = $1::text`;
}

/**
 * In one snapshot: the live workers, and per queue and task the due jobs (not failed, run_at
 * passed, running ones included), the oldest due time and how long ago that was (database
 * clock). Which of them no live worker will run is decided from these (see `unrouted()`).
 * The aggregate is a scan of the jobs table: ~110 ms per 1,000,000 jobs on a 2-core machine
 * (PostgreSQL 15, parallel seq scan); an index on (queue, task) would make it a few index
 * probes but slowed every enqueue by 7-15% here, a poor trade for a check made once a minute.
 */
const ROUTING_COLUMNS = (n: Names) => `
      (SELECT coalesce(json_agg(l), '[]') FROM (${liveWorkersSql(n)}) l) AS workers,
      (SELECT coalesce(json_agg(d), '[]') FROM (
        SELECT queue, task, count(*)::int AS count, min(run_at) AS oldest_due,
          (extract(epoch FROM now() - min(run_at)) * 1000)::float8 AS waited_ms
        FROM ${n.q}.jobs WHERE failed_at IS NULL AND run_at <= now()
        GROUP BY queue, task) d) AS due`;

export function routingSql(n: Names): string {
  return `SELECT ${ROUTING_COLUMNS(n)}`;
}

/**
 * The same as routingSql, for the periodic check, only if this caller's turn has come: the
 * row of check $1 in `checks` says when it last ran; it runs again once $2 milliseconds have
 * passed. A transaction-level try-lock makes one caller at a time the leader (the others get
 * no row at once, rather than waiting on the row lock during the scan), and the upsert's
 * condition sees the latest committed time even from an older snapshot, so a worker that comes
 * right after the leader has committed does not check again. Not the leader: no row, and the
 * scan never runs (it sits below the one-time filter).
 */
export function routingTurnSql(n: Names): string {
  return `WITH turn AS (
      INSERT INTO ${n.q}.checks AS c (name, checked_at)
      SELECT $1::text, now() WHERE pg_try_advisory_xact_lock(${n.lockNamespace}, hashtext($1::text))
      ON CONFLICT (name) DO UPDATE SET checked_at = excluded.checked_at
      WHERE c.checked_at <= now() - make_interval(secs => $2::float8 / 1000)
      RETURNING 1)
    SELECT ${ROUTING_COLUMNS(n)}
    WHERE EXISTS (SELECT FROM turn)`;
}
