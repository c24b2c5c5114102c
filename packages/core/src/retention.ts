import { InvalidOptionError } from './errors.js';
import { checkQueueName, show } from './options.js';
import { queueRetentionSql, retentionSettingsSql, setRetentionSql } from './sql/history.js';
import type { Names } from './sql/names.js';
import type { Queryable } from './types.js';

/**
 * How long a queue's finished and failed jobs are kept. The settings live in the `queues`
 * table, not in Queue options: the maintenance that prunes runs in whichever worker's turn it
 * is, and every process (workers, the finish statement, the dashboard) must read one value.
 */
export interface RetentionSettings {
  /**
   * Milliseconds a completed or cancelled job is kept in the history after it finished.
   * 0 keeps none (the finish writes no history row: the cheapest). Default 1 day.
   */
  keep: number | null;
  /** At most this many finished jobs of the queue are kept, the newest. Default: no cap. */
  keepCount: number | null;
  /** Milliseconds a failed-for-good job is kept after it failed. Default: until retried or deleted. */
  failedKeep: number | null;
  /** At most this many failed-for-good jobs of the queue are kept, the newest. Default: no cap. */
  failedKeepCount: number | null;
}

/** What `setRetention` accepts: the settings to change (null restores the default); the others stay. */
export type RetentionOptions = Partial<RetentionSettings>;

/** A queue's retention: what applies (its own setting, else the default) and what was set. */
export interface QueueRetention {
  queue: string;
  /** Milliseconds finished jobs are kept (the default, 1 day, when not set). */
  keep: number;
  keepCount: number | null;
  failedKeep: number | null;
  failedKeepCount: number | null;
  /** The queue's own settings; null where it takes the default. */
  settings: RetentionSettings;
}

/** One day: how long finished jobs are kept when a queue sets no `keep`. */
export const DEFAULT_KEEP_MS = 86_400_000;

/** What applies to a queue that sets nothing. */
export const RETENTION_DEFAULTS: Readonly<Omit<QueueRetention, 'queue' | 'settings'>> = Object.freeze({
  keep: DEFAULT_KEEP_MS,
  keepCount: null,
  failedKeep: null,
  failedKeepCount: null,
});

const KEYS = ['keep', 'keepCount', 'failedKeep', 'failedKeepCount'] as const;

/** int4 columns. */
const MAX_COUNT = 2_147_483_647;

const RULES: Record<(typeof KEYS)[number], { max: number; what: string }> = {
  keep: {
    max: Number.MAX_SAFE_INTEGER,
    what: 'milliseconds (0 keeps none; null restores the default of 1 day)',
  },
  keepCount: { max: MAX_COUNT, what: 'jobs (null removes the cap)' },
  failedKeep: {
    max: Number.MAX_SAFE_INTEGER,
    what: 'milliseconds (null keeps failed jobs until retried or deleted)',
  },
  failedKeepCount: { max: MAX_COUNT, what: 'jobs (null removes the cap)' },
};

/** Checks everything before anything is written: the queue name, unknown keys, each value. */
export function checkRetention(queue: unknown, options: unknown): { queue: string; given: RetentionOptions } {
  const name = checkQueueName('queue', queue);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError('options', `must be an object of ${KEYS.join(', ')}, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(key, `is not a retention setting: the settings are ${KEYS.join(', ')}`);
    }
  }
  const given: RetentionOptions = {};
  for (const key of KEYS) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (value !== null) {
      const { max, what } = RULES[key];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
        throw new InvalidOptionError(
          key,
          `must be a whole number of ${what} from 0 to ${max}, got ${show(value)}`,
        );
      }
    }
    given[key] = value as number | null;
  }
  return { queue: name, given };
}

/** Sets the given settings of one queue (see RetentionOptions) and returns what now applies. */
export async function setRetention(
  db: Queryable,
  names: Names,
  queue: unknown,
  options: unknown,
): Promise<QueueRetention> {
  const { queue: name, given } = checkRetention(queue, options);
  const { rows } = await db.query(setRetentionSql(names), [
    name,
    ...KEYS.flatMap((k) => [k in given, given[k] ?? null]),
  ]);
  return toRetention(rows[0]);
}

/**
 * One queue's retention (the defaults when it sets nothing), or, without a queue, that of every
 * queue with a setting of its own, by name; every other queue has RETENTION_DEFAULTS.
 */
export async function getRetention(db: Queryable, names: Names, queue?: unknown) {
  if (queue === undefined) {
    const { rows } = await db.query(retentionSettingsSql(names));
    return rows.map(toRetention);
  }
  const name = checkQueueName('queue', queue);
  const { rows } = await db.query(queueRetentionSql(names), [name]);
  return toRetention(rows[0] ?? { queue: name });
}

interface RetentionRow {
  queue: string;
  keep?: number | null;
  keep_count?: number | null;
  failed_keep?: number | null;
  failed_keep_count?: number | null;
}

function toRetention(r: RetentionRow): QueueRetention {
  // Intervals come back as float8 milliseconds: whole numbers for what setRetention wrote.
  const ms = (v: number | null | undefined) => (v == null ? null : Math.round(v));
  const settings: RetentionSettings = {
    keep: ms(r.keep),
    keepCount: r.keep_count ?? null,
    failedKeep: ms(r.failed_keep),
    failedKeepCount: r.failed_keep_count ?? null,
  };
  return {
    queue: r.queue,
    keep: settings.keep ?? DEFAULT_KEEP_MS,
    keepCount: settings.keepCount,
    failedKeep: settings.failedKeep,
    failedKeepCount: settings.failedKeepCount,
    settings,
  };
}
