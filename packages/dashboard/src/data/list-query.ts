import { type JobState, parseJobId } from '@queue/core';
import { BadRequestError } from '../errors.js';

/** The list's state filter: one of core's job states, or every live job. */
export type StateFilter = JobState | 'all';

export const STATE_FILTERS: readonly StateFilter[] = [
  'all',
  'available',
  'scheduled',
  'running',
  'failed',
  'completed',
  'cancelled',
];

/** Completed and cancelled jobs are read from the history (core's job_history). */
export const isHistoryState = (state: StateFilter) => state === 'completed' || state === 'cancelled';

/** Core's limits on a tag filter and a search (see @queue/core's "Tags and metadata"). */
const MAX_TAGS = 16;
const MAX_TAG_CHARS = 64;
const MAX_SEARCH_BYTES = 4096;

export interface ListQuery {
  state: StateFilter;
  queue: string | null;
  task: string | null;
  /** Jobs having every one of these tags. */
  tags: string[];
  /** A JSON object contained in each job's payload or metadata. */
  search: Record<string, unknown> | null;
  /** Live jobs: the page of older jobs below this id, or of newer ones above `after`. */
  before: string | null;
  after: string | null;
  /** The history: core's cursor for the next (older) page. */
  cursor: string | null;
  limit: number;
}

/** A job id from a URL, by core's parser: a positive bigint as decimal digits, or a 400 naming what was sent. */
export function parseId(value: string | null | undefined, what = 'job id'): string {
  try {
    return parseJobId(value ?? '', what);
  } catch {
    throw new BadRequestError(`${what} must be a positive integer, got ${JSON.stringify(value ?? '')}`);
  }
}

export function parseListQuery(q: URLSearchParams): ListQuery {
  const state = (q.get('state') || 'all') as StateFilter;
  if (!STATE_FILTERS.includes(state)) {
    throw new BadRequestError(
      `state must be one of ${STATE_FILTERS.join(', ')}, got ${JSON.stringify(state)}`,
    );
  }
  const before = q.get('before') ? parseId(q.get('before'), 'before') : null;
  const after = q.get('after') ? parseId(q.get('after'), 'after') : null;
  if (before && after) throw new BadRequestError('give `before` or `after`, not both');
  const cursor = q.get('cursor') || null;
  if (cursor !== null && (before || after))
    throw new BadRequestError('give `cursor`, or `before`/`after`, not both');
  if (cursor !== null && cursor.length > 200) {
    throw new BadRequestError('cursor must be the `older` value of a previous page');
  }
  if (isHistoryState(state) && (before || after)) {
    throw new BadRequestError(
      `${state} jobs are paged with \`cursor\` (the previous page's \`older\`), not by id`,
    );
  }
  const limit = q.get('limit') ? Number(q.get('limit')) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new BadRequestError(
      `limit must be an integer from 1 to 200, got ${JSON.stringify(q.get('limit'))}`,
    );
  }
  return {
    state,
    queue: name(q.get('queue'), 'queue'),
    task: name(q.get('task'), 'task'),
    tags: parseTags(q.getAll('tag')),
    search: parseSearch(q.get('search')),
    before,
    after,
    cursor,
    limit,
  };
}

function name(value: string | null, what: string): string | null {
  if (!value) return null;
  if (value.length > 128) throw new BadRequestError(`${what} must be at most 128 characters`);
  return value;
}

function parseTags(values: string[]): string[] {
  const tags = values.filter((t) => t !== '');
  if (tags.length > MAX_TAGS) throw new BadRequestError(`give at most ${MAX_TAGS} tags, got ${tags.length}`);
  for (const t of tags) {
    if ([...t].length > MAX_TAG_CHARS) {
      throw new BadRequestError(`a tag is at most ${MAX_TAG_CHARS} characters, got ${JSON.stringify(t)}`);
    }
  }
  return tags;
}

/**
 * The search box: a non-empty JSON object, matched by containment against each job's payload
 * and metadata. Anything else is a 400 that says what was wrong, as the page says before it
 * sends anything.
 */
export function parseSearch(text: string | null): Record<string, unknown> | null {
  if (text === null || text.trim() === '') return null;
  if (Buffer.byteLength(text) > MAX_SEARCH_BYTES) {
    throw new BadRequestError(`search is at most ${MAX_SEARCH_BYTES} bytes of JSON`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BadRequestError(`search must be JSON, such as {"userId": 42}: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError(
      `search must be a JSON object, such as {"userId": 42}, not ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
    );
  }
  if (Object.keys(value).length === 0) {
    throw new BadRequestError('search must name at least one field, such as {"userId": 42}');
  }
  return value as Record<string, unknown>;
}
