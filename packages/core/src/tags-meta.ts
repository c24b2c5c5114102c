import { InvalidOptionError } from './errors.js';
import { show } from './options.js';
import { encodeJson } from './payload.js';

/** Tags per job: enough to label a tenant, a source and a few kinds, small enough for a GIN key set. */
export const MAX_TAGS = 16;
/** Characters per tag (code points, as Postgres' length() counts them). */
export const MAX_TAG_LENGTH = 64;
/** Bytes of a job's meta as JSON: a label set for search, not a second payload. */
export const MAX_META_BYTES = 4096;

/** A lone UTF-16 surrogate cannot be sent as UTF-8: node-postgres would store U+FFFD instead. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Why one tag is refused, or null. */
function tagProblem(tag: unknown): string | null {
  if (typeof tag !== 'string') return `each tag must be a string, got ${show(tag)}`;
  if (tag.length === 0) return 'a tag must not be empty';
  // Code points: a UTF-16 length over the limit may still be within it.
  const length = tag.length > MAX_TAG_LENGTH ? [...tag].length : tag.length;
  if (length > MAX_TAG_LENGTH) {
    return `a tag is at most ${MAX_TAG_LENGTH} characters, got ${length} (${show(tag.slice(0, 20))}…)`;
  }
  if (tag.includes('\u0000'))
    return `tag ${show(tag)} contains a \\u0000 character, which Postgres text cannot store`;
  if (LONE_SURROGATE.test(tag)) return `tag ${show(tag)} contains a lone UTF-16 surrogate`;
  return null;
}

/** An enqueue's `tags`, checked: null when there are none, so that untagged jobs send nothing. */
export function checkTags(task: string, tags: unknown): string[] | null {
  if (tags === undefined || tags === null) return null;
  const fail = (reason: string) =>
    new InvalidOptionError('tags', `for task ${JSON.stringify(task)}: ${reason}`);
  if (!Array.isArray(tags)) throw fail(`must be an array of strings, got ${show(tags)}`);
  if (tags.length > MAX_TAGS) throw fail(`at most ${MAX_TAGS} tags are allowed, got ${tags.length}`);
  for (const tag of tags) {
    const problem = tagProblem(tag);
    if (problem) throw fail(problem);
  }
  return tags.length === 0 ? null : [...tags];
}

/** An enqueue's `meta` as JSON text, or null when there is none (the column's default, `{}`). */
export function encodeMeta(task: string, meta: unknown): string | null {
  if (meta === undefined || meta === null) return null;
  const fail = (reason: string) =>
    new InvalidOptionError('meta', `for task ${JSON.stringify(task)}: ${reason}`);
  if (!isPlainObject(meta)) throw fail(`must be a plain object of JSON values, got ${show(meta)}`);
  const json = encodeJson(meta, 'meta', MAX_META_BYTES, fail);
  return json === '{}' ? null : json;
}

/** The `tag` filter of listJobs: one tag or several (jobs having all of them). */
export function checkTagFilter(tag: unknown): string[] | null {
  if (tag === undefined) return null;
  const tags = typeof tag === 'string' ? [tag] : tag;
  if (!Array.isArray(tags) || tags.length === 0 || tags.length > MAX_TAGS) {
    throw new InvalidOptionError(
      'tag',
      `must be a tag or an array of 1 to ${MAX_TAGS} tags, got ${show(tag)}`,
    );
  }
  for (const t of tags) {
    const problem = tagProblem(t);
    if (problem) throw new InvalidOptionError('tag', problem);
  }
  return tags;
}

/** The `search` and `meta` filters of listJobs: a JSON object matched by containment, as JSON text. */
export function encodeSearch(option: string, search: unknown): string | null {
  if (search === undefined) return null;
  const fail = (reason: string) => new InvalidOptionError(option, reason);
  if (!isPlainObject(search) || Object.keys(search).length === 0) {
    throw fail(`must be a non-empty plain object (matched by containment, @>), got ${show(search)}`);
  }
  return encodeJson(search, option, MAX_META_BYTES, fail);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
