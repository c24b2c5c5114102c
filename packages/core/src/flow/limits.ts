import { InvalidLimitError, UnknownQueueError } from '../errors.js';
import { checkQueueName, show } from '../options.js';
import { lockedIdsSql } from '../sql/admin.js';
import type { Names } from '../sql/names.js';
import type { Queryable } from '../types.js';
import { LIMITS_WAKE } from './state.js';

/** At most this many starts per `periodMs`. */
export interface RateLimit {
  limit: number;
  periodMs: number;
}

/**
 * A queue's flow limits (README "Flow control"), shared by every worker through the queues
 * table. null: no such limit.
 */
export interface FlowLimits {
  /** At most this many of the queue's jobs run at once, across every worker. */
  concurrency: number | null;
  /** At most this many jobs of one concurrency key run at once. */
  keyConcurrency: number | null;
  /** At most `limit` of the queue's jobs start per `periodMs`, in any window of that length. */
  rate: RateLimit | null;
  /** Claim round-robin across concurrency keys (implied by keyConcurrency). */
  fair: boolean;
}

/** What setLimits() accepts: the limits to change (null removes one); the others stay. */
export type LimitsOptions = Partial<FlowLimits>;

export interface QueueLimits extends FlowLimits {
  queue: string;
}

/** One queue's limits and what is using them now: for the dashboard and `queue limits`. */
export interface LimitUsage extends QueueLimits {
  /** Slots of the global limit held right now (null without one). */
  inUse: number | null;
  /** Starts within the last rate period (null without a rate limit). */
  recentStarts: number | null;
  /** Due jobs not running, and running ones. */
  waiting: number;
  running: number;
  /** Per concurrency key, the keys with the most waiting jobs first (at most `maxKeys`). */
  keys: { key: string; running: number; waiting: number }[];
}

const MAX_SLOTS = 65_535;
const MAX_RATE = 1_000_000;
const MAX_PERIOD_MS = 86_400_000;
const FIELDS = new Set(['concurrency', 'keyConcurrency', 'rate', 'fair']);

function positiveInt(option: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidLimitError(
      option,
      `must be an integer from 1 to ${max} (or null to remove the limit), got ${show(value)}`,
    );
  }
  return value;
}

/** Checks a setLimits() argument, naming the offending field; nothing is written before. */
export function checkLimits(where: string, options: unknown): LimitsOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidLimitError(where, `must be an object of limits, got ${show(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) {
      throw new InvalidLimitError(
        `${where}.${key}`,
        `is not a limit: use concurrency, keyConcurrency, rate ({ limit, periodMs }) or fair`,
      );
    }
  }
  const out: LimitsOptions = {};
  for (const key of ['concurrency', 'keyConcurrency'] as const) {
    if (o[key] === undefined) continue;
    out[key] = o[key] === null ? null : positiveInt(`${where}.${key}`, o[key], MAX_SLOTS);
  }
  if (o.rate !== undefined) {
    const r = o.rate as Record<string, unknown> | null;
    if (r === null) out.rate = null;
    else if (typeof r !== 'object' || Array.isArray(r)) {
      throw new InvalidLimitError(`${where}.rate`, `must be { limit, periodMs } or null, got ${show(r)}`);
    } else {
      out.rate = {
        limit: positiveInt(`${where}.rate.limit`, r.limit, MAX_RATE),
        periodMs: positiveInt(`${where}.rate.periodMs`, r.periodMs, MAX_PERIOD_MS),
      };
    }
  }
  if (o.fair !== undefined) {
    if (typeof o.fair !== 'boolean') {
      throw new InvalidLimitError(`${where}.fair`, `must be true or false, got ${show(o.fair)}`);
    }
    out.fair = o.fair;
  }
  return out;
}

const COLUMNS = `name AS queue, flow_concurrency, flow_key_concurrency, flow_rate, flow_rate_period_ms, flow_fair`;

interface LimitsRow {
  queue: string;
  flow_concurrency: number | null;
  flow_key_concurrency: number | null;
  flow_rate: number | null;
  flow_rate_period_ms: number | null;
  flow_fair: boolean;
}

function toLimits(r: LimitsRow): QueueLimits {
  return {
    queue: r.queue,
    concurrency: r.flow_concurrency,
    keyConcurrency: r.flow_key_concurrency,
    rate: r.flow_rate === null ? null : { limit: r.flow_rate, periodMs: r.flow_rate_period_ms as number },
    fair: r.flow_fair,
  };
}

const NONE = (queue: string): QueueLimits => ({
  queue,
  concurrency: null,
  keyConcurrency: null,
  rate: null,
  fair: false,
});

/**
 * Sets a queue's limits; the fields not given stay. The queue must be known (a task, job,
 * worker or setting names it). Workers hear of it on the jobs channel (LIMITS_WAKE), and
 * re-read it every few seconds should they miss that: in between, a worker that has not heard
 * claims nothing from a newly limited queue rather than overshoot (see claimCtes).
 */
export async function setLimits(
  db: Queryable,
  n: Names,
  queue: unknown,
  options: unknown,
): Promise<QueueLimits> {
  const name = checkQueueName('queue', queue);
  const changes = checkLimits('limits', options);
  const { rows: known } = await db.query(
    `SELECT EXISTS (SELECT FROM ${n.q}.queues WHERE name = $1)
       OR EXISTS (SELECT FROM ${n.q}.tasks WHERE queue = $1)
       OR EXISTS (SELECT FROM ${n.q}.jobs WHERE queue = $1)
       OR EXISTS (SELECT FROM ${n.q}.workers WHERE queues ? $1) AS known`,
    [name],
  );
  if (!known[0].known) {
    throw new UnknownQueueError(
      name,
      'no task, job or worker uses it: check the name, or register its tasks first (a worker does when it starts; or queue.registerTasks())',
    );
  }
  const has = (k: keyof LimitsOptions) => changes[k] !== undefined;
  const { rows } = await db.query(
    `WITH s AS (
      INSERT INTO ${n.q}.queues AS q (name, flow_concurrency, flow_key_concurrency, flow_rate, flow_rate_period_ms, flow_fair)
      VALUES ($1, $3, $5, $7, $8, coalesce($10, false))
      ON CONFLICT (name) DO UPDATE SET
        flow_concurrency = CASE WHEN $2 THEN $3 ELSE q.flow_concurrency END,
        flow_key_concurrency = CASE WHEN $4 THEN $5 ELSE q.flow_key_concurrency END,
        flow_rate = CASE WHEN $6 THEN $7 ELSE q.flow_rate END,
        flow_rate_period_ms = CASE WHEN $6 THEN $8 ELSE q.flow_rate_period_ms END,
        flow_fair = CASE WHEN $9 THEN $10 ELSE q.flow_fair END
      RETURNING ${COLUMNS}
    )
    SELECT s.*, pg_notify(${n.channelLiteral}, $11) FROM s`,
    [
      name,
      has('concurrency'),
      changes.concurrency ?? null,
      has('keyConcurrency'),
      changes.keyConcurrency ?? null,
      has('rate'),
      changes.rate?.limit ?? null,
      changes.rate?.periodMs ?? null,
      has('fair'),
      changes.fair ?? null,
      JSON.stringify({ q: LIMITS_WAKE, d: 0 }),
    ],
  );
  return toLimits(rows[0]);
}

/** One queue's limits (all null when it has none), or those of every queue with limits. */
export async function getLimits(
  db: Queryable,
  n: Names,
  queue?: unknown,
): Promise<QueueLimits | QueueLimits[]> {
  if (queue === undefined) {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM ${n.q}.queues WHERE flow_limited ORDER BY name`);
    return rows.map(toLimits);
  }
  const name = checkQueueName('queue', queue);
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM ${n.q}.queues WHERE name = $1`, [name]);
  return rows[0] ? toLimits(rows[0]) : NONE(name);
}

/**
 * A queue's limits and what is using them: global slots held (from pg_locks), starts in the
 * last rate period, waiting and running jobs, and per key (the `maxKeys` with most waiting).
 * Reads every live job of the queue: an admin call, not for a hot path.
 */
export async function limitUsage(
  db: Queryable,
  n: Names,
  queue: unknown,
  options: { maxKeys?: number } = {},
): Promise<LimitUsage> {
  const name = checkQueueName('queue', queue);
  const maxKeys = options.maxKeys ?? 100;
  positiveInt('maxKeys', maxKeys, 10_000);
  const limits = (await getLimits(db, n, name)) as QueueLimits;
  const { rows } = await db.query(
    `WITH held AS MATERIALIZED (
      SELECT ((l.classid::int8 << 32) | l.objid::int8) AS key FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    ), running AS MATERIALIZED (${lockedIdsSql(n)}),
    per AS (
      SELECT j.concurrency_key AS key,
        count(*) FILTER (WHERE r.id IS NOT NULL)::int AS running,
        count(*) FILTER (WHERE r.id IS NULL AND j.run_at <= now())::int AS waiting
      FROM ${n.q}.jobs j LEFT JOIN running r ON r.id = j.id
      WHERE j.queue = $1 AND j.failed_at IS NULL
      GROUP BY j.concurrency_key
    )
    SELECT
      (SELECT count(*)::int FROM held h WHERE $2::int IS NOT NULL AND h.key IN (
        SELECT ${n.q}.flow_slot_key($1, NULL, s, ${n.lockMask}) FROM generate_series(0, $2::int - 1) s)) AS in_use,
      (SELECT coalesce(sum(c), 0)::int FROM ${n.q}.queues q, unnest(q.flow_starts, q.flow_counts) AS x(at, c)
        WHERE q.name = $1 AND q.flow_rate IS NOT NULL
          AND x.at > now() - q.flow_rate_period_ms * interval '1 millisecond') AS recent,
      (SELECT coalesce(sum(waiting), 0)::int FROM per) AS waiting,
      (SELECT coalesce(sum(running), 0)::int FROM per) AS running,
      (SELECT coalesce(json_agg(json_build_object('key', p.key, 'running', p.running, 'waiting', p.waiting)
        ORDER BY p.waiting DESC, p.key), '[]')
        FROM (SELECT * FROM per WHERE key IS NOT NULL ORDER BY waiting DESC, key LIMIT $3) p) AS keys`,
    [name, limits.concurrency, maxKeys],
  );
  const r = rows[0];
  return {
    ...limits,
    inUse: limits.concurrency === null ? null : r.in_use,
    recentStarts: limits.rate === null ? null : r.recent,
    waiting: r.waiting,
    running: r.running,
    keys: r.keys,
  };
}
