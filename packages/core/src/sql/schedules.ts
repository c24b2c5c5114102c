import type { Names } from './names.js';
import { JOB_COLUMNS } from './rows.js';

/**
 * The statements behind recurring jobs (migration 0010). Times go out as epoch milliseconds;
 * `next_us` and `version` are next_run_at and updated_at as exact epoch microseconds (text),
 * which a compare-and-set hands back, so no timestamp is ever rounded on its way through JS.
 */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;
const us = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;

/** Wakes every worker's scheduler: a notification on the jobs channel with the queue name '' (never a queue's). */
const wakeSchedulers = (n: Names, at: string) =>
  `pg_notify(${n.channelLiteral}, json_build_object('q', '', 'd',
     greatest(0, floor(extract(epoch FROM ${at} - now()) * 1000)))::text)`;

/** The queue name in a wake-up that means "a schedule changed" (see wakeSchedulers). */
export const SCHEDULES_WAKE = '';

export const SCHEDULE_COLUMNS = `s.name, s.task, s.payload, s.queue, s.priority, s.max_attempts, s.tags, s.meta,
  s.cron, s.interval_ms::float8 AS interval_ms, s.time_zone, s.catch_up, s.catch_up_max,
  ${ms('s.paused_at')} AS paused_at, ${ms('s.next_run_at')} AS next_run_at, ${ms('s.last_run_at')} AS last_run_at,
  s.last_job_id::text AS last_job_id, ${ms('s.created_at')} AS created_at, ${ms('s.updated_at')} AS updated_at,
  ${us('s.updated_at')} AS version`;

/** The database clock, for computing first ticks. */
export const NOW_SQL = `SELECT ${ms('now()')} AS now`;

/**
 * The scheduler's read: the database's now, the due schedules (next_run_at passed, not
 * paused; at most $1, earliest first), and how long until the earliest schedule that is not
 * due yet, by the database clock. Two index range scans of schedules_due_idx.
 */
export function scanSchedulesSql(n: Names): string {
  return `SELECT ${ms('now()')} AS now,
    (SELECT ${ms('min(next_run_at)')} - ${ms('now()')} FROM ${n.q}.schedules
      WHERE paused_at IS NULL AND next_run_at > now()) AS next_in,
    coalesce((SELECT json_agg(d) FROM (
      SELECT s.name, s.cron, s.interval_ms::float8 AS interval_ms, s.time_zone, s.catch_up, s.catch_up_max,
        ${ms('s.next_run_at')} AS next_run_at, ${us('s.next_run_at')} AS next_us, ${us('s.updated_at')} AS version
      FROM ${n.q}.schedules s WHERE s.paused_at IS NULL AND s.next_run_at <= now()
      ORDER BY s.next_run_at LIMIT $1) d), '[]') AS due`;
}

/**
 * Fires the planned ticks of a batch of schedules in one statement, each schedule by a
 * compare-and-set: its row is taken only if next_run_at and updated_at are still what the
 * plan was made from and it is not paused, and only then are its jobs inserted and its
 * next_run_at moved on, all in this statement's transaction. Another process firing the same
 * tick either holds the row (SKIP LOCKED: skipped, no wait, no deadlock) or has moved
 * next_run_at on (the compare fails, also after waiting: READ COMMITTED re-checks the newest
 * row version). Backstops: a tick at or before last_run_at is never inserted, and the unique
 * index over (schedule, scheduledAt) of live jobs turns a duplicate into nothing.
 *
 * Per schedule: $1 name, $2 next_run_at and $3 updated_at as read (epoch µs), $4 the new
 * next_run_at, $5 the latest tick fired (or null). Per job: $6 schedule name, $7 tick, $8 the
 * meta the scheduler adds. Queue, priority and max_attempts: the schedule's, else the task's
 * row in tasks, else the defaults, as in SQL enqueue(). Wakes the workers of each queue that
 * got a job. Returns how many schedules moved on and how many jobs were inserted.
 *
 * Each schedule's newest job id comes from one jsonb object, built once (MATERIALIZED) and
 * looked up by key: a join with `ins` was planned as a nested loop (the planner cannot size
 * unnest()), quadratic in the batch: 90 ms for 500 schedules instead of 18.
 */
export function fireTicksSql(n: Names): string {
  return `WITH x AS (
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::timestamptz[])
        AS x(name, next_us, version, next, last)),
    cur AS (
      SELECT s.name, s.task, s.payload, s.queue, s.priority, s.max_attempts, s.tags, s.meta,
        s.last_run_at, x.next, x.last
      FROM ${n.q}.schedules s JOIN x ON x.name = s.name
      WHERE s.paused_at IS NULL
        AND (extract(epoch FROM s.next_run_at) * 1000000)::bigint = x.next_us
        AND (extract(epoch FROM s.updated_at) * 1000000)::bigint = x.version
      ORDER BY s.name
      FOR UPDATE OF s SKIP LOCKED),
    ins AS (
      INSERT INTO ${n.q}.jobs (task, queue, payload, priority, max_attempts, tags, meta)
      SELECT c.task, coalesce(c.queue, t.queue, 'default'), c.payload, coalesce(c.priority, t.priority, 0),
        coalesce(c.max_attempts, t.max_attempts, 25), c.tags, c.meta || k.meta
      FROM unnest($6::text[], $7::timestamptz[], $8::jsonb[]) WITH ORDINALITY AS k(name, tick, meta, i)
      JOIN cur c ON c.name = k.name
      LEFT JOIN ${n.q}.tasks t ON t.name = c.task
      WHERE c.last_run_at IS NULL OR k.tick > c.last_run_at
      ORDER BY k.i
      ON CONFLICT ((meta ->> 'schedule'), (meta ->> 'scheduledAt')) WHERE meta ? 'scheduledAt' DO NOTHING
      RETURNING id, queue, meta ->> 'schedule' AS name),
    newest AS MATERIALIZED (SELECT coalesce(jsonb_object_agg(name, id), '{}') AS ids
      FROM (SELECT name, max(id) AS id FROM ins GROUP BY name) i),
    upd AS (
      UPDATE ${n.q}.schedules s SET next_run_at = c.next, last_run_at = greatest(s.last_run_at, c.last),
        last_job_id = coalesce((l.ids ->> s.name)::bigint, s.last_job_id)
      FROM cur c, newest l
      WHERE s.name = c.name
      RETURNING 1)
    SELECT (SELECT count(*) FROM upd)::int AS advanced, (SELECT count(*) FROM ins)::int AS inserted,
      (SELECT count(pg_notify(${n.channelLiteral}, json_build_object('q', q.queue, 'd', 0)::text))
        FROM (SELECT DISTINCT queue FROM ins) q)::int AS woken`;
}

export interface ScheduleInsert {
  name: string;
  task: string;
  payload: unknown;
  queue: string | null;
  priority: number | null;
  max_attempts: number | null;
  tags: string[];
  meta: unknown;
  cron: string | null;
  interval_ms: number | null;
  time_zone: string;
  catch_up: string;
  catch_up_max: number | null;
  next_run_at: string;
}

/** The columns a definition sets, read from $1, a jsonb array of ScheduleInsert. */
// A JSON null payload reads as SQL NULL: it is stored as the JSON null it was.
const RECORDS = `SELECT r.name, r.task, coalesce(r.payload, 'null') AS payload, r.queue, r.priority, r.max_attempts,
    r.tags, r.meta, r.cron, r.interval_ms, r.time_zone, r.catch_up, r.catch_up_max, r.next_run_at
  FROM jsonb_to_recordset($1::jsonb) AS r(name text, task text,
    payload jsonb, queue text, priority smallint, max_attempts integer, tags text[], meta jsonb, cron text,
    interval_ms bigint, time_zone text, catch_up text, catch_up_max integer, next_run_at timestamptz)`;
const DEF_COLUMNS = `name, task, payload, queue, priority, max_attempts, tags, meta, cron, interval_ms, time_zone,
  catch_up, catch_up_max, next_run_at`;
const TIMING = (a: string) => `(${a}.cron, ${a}.interval_ms, ${a}.time_zone)`;
const DEFINITION = (a: string) => `(${a}.task, ${a}.payload, ${a}.queue, ${a}.priority, ${a}.max_attempts,
  ${a}.tags, ${a}.meta, ${a}.cron, ${a}.interval_ms, ${a}.time_zone, ${a}.catch_up, ${a}.catch_up_max)`;

/** createSchedule(): inserts one schedule unless the name is taken (then no row). */
export function createScheduleSql(n: Names): string {
  return `WITH s AS (
      INSERT INTO ${n.q}.schedules (${DEF_COLUMNS}) ${RECORDS}
      ON CONFLICT (name) DO NOTHING RETURNING *)
    SELECT ${SCHEDULE_COLUMNS}, ${wakeSchedulers(n, 's.next_run_at')} FROM s`;
}

/**
 * Records the schedules a Queue declares (workers call it when they start), in one statement,
 * rows sorted by name so concurrent writers lock in one order. Last writer wins. A row whose
 * definition did not change is left alone; one whose timing (cron, interval, zone) did not
 * change keeps its next_run_at, so a restart neither skips nor repeats a tick. A pause made
 * at runtime is kept.
 */
export function upsertSchedulesSql(n: Names): string {
  return `WITH s AS (
      INSERT INTO ${n.q}.schedules AS s (${DEF_COLUMNS}) ${RECORDS}
      ON CONFLICT (name) DO UPDATE SET task = excluded.task, payload = excluded.payload,
        queue = excluded.queue, priority = excluded.priority, max_attempts = excluded.max_attempts,
        tags = excluded.tags, meta = excluded.meta, cron = excluded.cron, interval_ms = excluded.interval_ms,
        time_zone = excluded.time_zone, catch_up = excluded.catch_up, catch_up_max = excluded.catch_up_max,
        next_run_at = CASE WHEN ${TIMING('s')} IS NOT DISTINCT FROM ${TIMING('excluded')}
          THEN s.next_run_at ELSE excluded.next_run_at END,
        updated_at = now()
      WHERE ${DEFINITION('s')} IS DISTINCT FROM ${DEFINITION('excluded')}
      RETURNING s.next_run_at),
    x AS (SELECT count(*)::int AS changed, min(next_run_at) AS soonest FROM s)
    SELECT x.changed, CASE WHEN x.changed > 0 THEN ${wakeSchedulers(n, 'x.soonest')} END FROM x`;
}

/**
 * updateSchedule(): $1 the new definition (a jsonb array of one ScheduleInsert), stored if the
 * row's updated_at is still $2 (epoch µs; the caller reads again otherwise). next_run_at is
 * replaced only when $3 is true (the timing changed).
 */
export function updateScheduleSql(n: Names): string {
  return `WITH r AS (${RECORDS}), s AS (
      UPDATE ${n.q}.schedules s SET task = r.task, payload = r.payload, queue = r.queue, priority = r.priority,
        max_attempts = r.max_attempts, tags = r.tags, meta = r.meta, cron = r.cron, interval_ms = r.interval_ms,
        time_zone = r.time_zone, catch_up = r.catch_up, catch_up_max = r.catch_up_max,
        next_run_at = CASE WHEN $3::boolean THEN r.next_run_at ELSE s.next_run_at END, updated_at = now()
      FROM r WHERE s.name = r.name AND (extract(epoch FROM s.updated_at) * 1000000)::bigint = $2::bigint
      RETURNING s.*)
    SELECT ${SCHEDULE_COLUMNS}, ${wakeSchedulers(n, 's.next_run_at')} FROM s`;
}

/** $1 name: the schedule and the database's now (no row: no such schedule). */
export function getScheduleSql(n: Names): string {
  return `SELECT ${SCHEDULE_COLUMNS}, ${ms('now()')} AS now FROM ${n.q}.schedules s WHERE s.name = $1`;
}

/** Every schedule by name, with the queue its jobs go to now (for the unrouted check). */
export function listSchedulesSql(n: Names): string {
  return `SELECT ${SCHEDULE_COLUMNS}, coalesce(s.queue, t.queue, 'default') AS job_queue
    FROM ${n.q}.schedules s LEFT JOIN ${n.q}.tasks t ON t.name = s.task ORDER BY s.name`;
}

/** pauseSchedule(): $1 name. A paused schedule keeps its first pause time. */
export function pauseScheduleSql(n: Names): string {
  return `UPDATE ${n.q}.schedules s SET paused_at = coalesce(s.paused_at, now()), updated_at = now()
    WHERE s.name = $1 RETURNING ${SCHEDULE_COLUMNS}`;
}

/**
 * resumeSchedule(): $1 name, $2 updated_at as read (epoch µs), $3 the first tick after now.
 * Ticks that fell in the pause are not caught up: the schedule goes on from $3.
 */
export function resumeScheduleSql(n: Names): string {
  return `WITH s AS (
      UPDATE ${n.q}.schedules s SET paused_at = NULL, next_run_at = $3::timestamptz, updated_at = now()
      WHERE s.name = $1 AND s.paused_at IS NOT NULL
        AND (extract(epoch FROM s.updated_at) * 1000000)::bigint = $2::bigint
      RETURNING s.*)
    SELECT ${SCHEDULE_COLUMNS}, ${wakeSchedulers(n, 's.next_run_at')} FROM s`;
}

export function deleteScheduleSql(n: Names): string {
  return `DELETE FROM ${n.q}.schedules s WHERE s.name = $1 RETURNING ${SCHEDULE_COLUMNS}`;
}

/**
 * runScheduleNow(): $1 name. One job now, as a tick would make it, with meta.manual = true and
 * meta.scheduledAt = now, in microseconds (so two manual runs never share the unique key of a
 * tick); the schedule's own ticks are left as they are. The job becomes the schedule's last run
 * (last_run_at = now, last_job_id) unless a tick of it is due and not yet fired: last_run_at
 * also keeps ticks at or before it from firing (see fireTicksSql), and the due tick, fired
 * moments later (or caught up after downtime), is the last run then. The UPDATE re-reads the
 * row if a scheduler is firing it meanwhile (READ COMMITTED), so it sees the tick fired.
 */
export function runScheduleNowSql(n: Names): string {
  return `WITH j AS (
      INSERT INTO ${n.q}.jobs (task, queue, payload, priority, max_attempts, tags, meta)
      SELECT s.task, coalesce(s.queue, t.queue, 'default'), s.payload, coalesce(s.priority, t.priority, 0),
        coalesce(s.max_attempts, t.max_attempts, 25), s.tags,
        s.meta || jsonb_build_object('schedule', s.name, 'manual', true,
          'scheduledAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
      FROM ${n.q}.schedules s LEFT JOIN ${n.q}.tasks t ON t.name = s.task
      WHERE s.name = $1
      RETURNING *),
    last AS (
      UPDATE ${n.q}.schedules s SET last_run_at = greatest(s.last_run_at, now()), last_job_id = j.id
      FROM j WHERE s.name = $1 AND (s.paused_at IS NOT NULL OR s.next_run_at > now())
      RETURNING 1)
    SELECT ${JOB_COLUMNS('j')}, pg_notify(${n.channelLiteral}, json_build_object('q', j.queue, 'd', 0)::text),
      (SELECT count(*) FROM last) AS recorded
    FROM j`;
}
