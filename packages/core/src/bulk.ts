import { InvalidOptionError } from './errors.js';
import { parseJobId } from './job-id.js';
import { checkQueueName, show } from './options.js';
import { deleteFromHistorySql, deleteLiveSql, retryFromHistorySql, retryLiveSql } from './sql/bulk.js';
import type { Names } from './sql/names.js';
import { type JobRecord, toJob } from './sql/rows.js';
import { isUniqueRace } from './sql/unique.js';
import type { Job, Queryable } from './types.js';

/**
 * Which jobs a bulk retry or delete acts on: given ids, and/or every job matching the filters.
 * `state` picks the table: 'failed', 'scheduled', 'available' are live jobs; 'completed' and
 * 'cancelled' are in the history. Without `state`, ids are looked up in both.
 */
export interface JobSelection {
  ids?: readonly (string | bigint)[];
  state?: 'failed' | 'scheduled' | 'available' | 'completed' | 'cancelled';
  queue?: string;
  task?: string;
  /** Jobs carrying this tag. */
  tag?: string;
}

const LIVE = new Set(['failed', 'scheduled', 'available']);
const FINISHED = new Set(['completed', 'cancelled']);
const KEYS = new Set(['ids', 'state', 'queue', 'task', 'tag']);

/** A checked selection as statement parameters $1..$4, and which tables it reaches. */
export function checkSelection(
  op: string,
  s: JobSelection,
): { params: unknown[]; live: boolean; history: boolean } {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) {
    throw new InvalidOptionError(
      'selection',
      `${op} takes { ids?, state?, queue?, task?, tag? }, got ${show(s)}`,
    );
  }
  for (const key of Object.keys(s)) {
    if (!KEYS.has(key))
      throw new InvalidOptionError(
        key,
        `is not a selection key of ${op}: use ids, state, queue, task or tag`,
      );
  }
  if (s.ids !== undefined && !Array.isArray(s.ids)) {
    throw new InvalidOptionError('ids', `must be an array of job ids, got ${show(s.ids)}`);
  }
  if (s.state !== undefined && !LIVE.has(s.state) && !FINISHED.has(s.state)) {
    throw new InvalidOptionError(
      'state',
      `must be one of ${[...LIVE, ...FINISHED].join(', ')} for ${op}, got ${show(s.state)}`,
    );
  }
  if (s.ids === undefined && s.state === undefined) {
    // A bare filter would reach every job of a queue whatever its state: say which.
    throw new InvalidOptionError('state', `${op} needs ids or a state to act on`);
  }
  for (const key of ['task', 'tag'] as const) {
    const v = s[key];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) {
      throw new InvalidOptionError(key, `must be a non-empty string, got ${show(v)}`);
    }
  }
  const params = [
    s.ids === undefined ? null : s.ids.map((id, i) => parseJobId(id, `ids[${i}]`)),
    s.queue === undefined ? null : checkQueueName('queue', s.queue),
    s.task ?? null,
    s.tag ?? null,
  ];
  return {
    params,
    live: s.state === undefined || LIVE.has(s.state),
    history: s.state === undefined || FINISHED.has(s.state),
  };
}

/**
 * The history step's parameters after the live step: a selection by ids reaches each id once.
 * The two steps are two statements, so a job the live step retried can be run and finished by a
 * worker before the history step, which would then retry it a second time; leaving out the ids
 * the live step touched closes that. Null when no id is left to look for.
 */
function untouched(params: unknown[], touched: { id: string }[], liveRan: boolean): unknown[] | null {
  const ids = params[0] as string[] | null;
  if (ids === null || !liveRan) return params;
  const done = new Set(touched.map((t) => t.id));
  const rest = ids.filter((id) => !done.has(id));
  return rest.length === 0 ? null : [rest, ...params.slice(1)];
}

/** What a bulk change touched: ids, and the queues whose workers are to be woken. */
export interface Touched {
  id: string;
  queue: string;
}

/** Retries the selected jobs that are not running (live ones in place, finished ones from history). */
export async function retryJobs(db: Queryable, n: Names, s: JobSelection): Promise<Touched[]> {
  const { params, live, history } = checkSelection('retryJobs()', s);
  if (s.state === 'available') {
    throw new InvalidOptionError(
      'state',
      "available jobs are already due: retryJobs() takes 'failed', 'scheduled', 'completed' or 'cancelled'",
    );
  }
  const out: Touched[] = [];
  if (live) {
    // A filter retries failed jobs only unless it says 'scheduled'; ids retry either.
    const failedOnly = s.state === 'failed' || (s.ids === undefined && s.state !== 'scheduled');
    const { rows } = await db.query(retryLiveSql(n), [...params, failedOnly]);
    out.push(...(rows as Touched[]));
  }
  const rest = untouched(params, out, live);
  if (history && rest) {
    out.push(...(await retryFromHistory(db, n, rest, s.state)).map(({ id, queue }) => ({ id, queue })));
  }
  return out;
}

/** Finished jobs back in the queue under their own ids; `state` narrows to one outcome. */
export async function retryFromHistory(
  db: Queryable,
  n: Names,
  params: unknown[],
  state?: string,
): Promise<Job[]> {
  const values = [...params, FINISHED.has(state ?? '') ? state : null];
  // A job of a retried key enqueued and committed meanwhile fails the statement (see
  // retryFromHistorySql); sent again, it sees that job and leaves it the slot.
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await db.query(retryFromHistorySql(n), values);
      return (rows as JobRecord[]).map(toJob);
    } catch (error) {
      if (attempt >= 3 || !isUniqueRace(error)) throw error;
    }
  }
}

/** Deletes the selected jobs that are not running, live or in history; returns their ids. */
export async function deleteJobs(db: Queryable, n: Names, s: JobSelection): Promise<string[]> {
  const { params, live, history } = checkSelection('deleteJobs()', s);
  const ids: string[] = [];
  if (live) {
    const { rows } = await db.query(deleteLiveSql(n), [...params, s.state ?? null]);
    ids.push(...rows.map((r: { id: string }) => r.id));
  }
  const rest = untouched(
    params,
    ids.map((id) => ({ id })),
    live,
  );
  if (history && rest) ids.push(...(await deleteFromHistory(db, n, rest, s.state)).map((j) => j.id));
  return ids;
}

/** Deletes history rows (`state` narrows to one outcome); returns them. */
export async function deleteFromHistory(
  db: Queryable,
  n: Names,
  params: unknown[],
  state?: string,
): Promise<Job[]> {
  const outcome = FINISHED.has(state ?? '') ? state : null;
  const { rows } = await db.query(deleteFromHistorySql(n), [...params, outcome]);
  return (rows as JobRecord[]).map(toJob);
}
