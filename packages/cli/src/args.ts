import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseJobId } from '@queue/core';
import { UsageError } from './errors.js';
import { parseJsonText } from './json-text.js';

export const GLOBAL_OPTIONS = {
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** parseArgs with the global options added and its errors turned into usage errors. */
export function parse(
  command: string,
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): { values: Record<string, any>; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = (error as Error).message;
    // "--priority -5": parseArgs reads -5 as an option and refuses the value as ambiguous.
    const ambiguous = /argument is ambiguous.*use '(--[\w-]+)=-XYZ'/s.exec(message);
    throw new UsageError(
      ambiguous
        ? `${ambiguous[1]} needs a value; write a value that starts with '-' as ${ambiguous[1]}=<value>, e.g. --priority=-5 (see 'queue ${command} --help')`
        : `${message.replace(/\. To specify .*$/s, '').replace(/\s*\n\s*/g, ' ')} (see 'queue ${command} --help')`,
    );
  }
}

/** The global options of a parsed command line, as connect.ts takes them. */
export function globals(values: Record<string, any>): { databaseUrl?: string; schema?: string } {
  return { databaseUrl: values['database-url'], schema: values.schema };
}

/** A string flag that must not be empty (a queue or task name). */
export function nameFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > 128)
    throw new UsageError(`--${name} must be a name of 1 to 128 characters, got ${JSON.stringify(value)}`);
  return value;
}

/** core's limits on tags (MAX_TAGS, MAX_TAG_LENGTH): checked here too, so a typo fails before connecting. */
const MAX_TAGS = 16;
const MAX_TAG_LENGTH = 64;

/** One --tag value: 1 to 64 characters (code points, as Postgres counts them). */
export function tagFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const length = [...value].length;
  if (length === 0 || length > MAX_TAG_LENGTH)
    throw new UsageError(`--tag must be 1 to ${MAX_TAG_LENGTH} characters, got ${JSON.stringify(value)}`);
  return value;
}

/** A repeatable --tag: the tags given (at most 16), or undefined for none. */
export function tagFlags(values: string[] | undefined): string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > MAX_TAGS)
    throw new UsageError(`--tag is given at most ${MAX_TAGS} times, got ${values.length}`);
  return values.map((v) => tagFlag(v)!);
}

/**
 * A flag holding a JSON object (--search, --meta): invalid JSON, another JSON value, or (for a
 * filter, `nonEmpty`) an empty object is refused, naming the flag.
 */
export function jsonObjectFlag(
  name: string,
  value: string | undefined,
  nonEmpty = true,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const parsed = parseJsonText(value, `--${name}`, false);
  const object = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  if (!object || (nonEmpty && Object.keys(parsed).length === 0)) {
    throw new UsageError(
      `--${name} must be a ${nonEmpty ? 'non-empty ' : ''}JSON object, e.g. --${name} '{"userId":42}', got ${oneLineJson(value)}`,
    );
  }
  return parsed as Record<string, unknown>;
}

const oneLineJson = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 39)}…` : text);

/** One of a fixed set of words, or a usage error listing them. */
export function choiceFlag<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** A job id given as a flag's value (a paging cursor), checked by core's parser. */
export function jobIdFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseJobId(value, name);
  } catch {
    throw new UsageError(
      `--${name} must be a job id (a positive whole number of at most 2^63-1), got ${JSON.stringify(value)}`,
    );
  }
}

/** An integer flag within bounds, or a usage error naming the flag. */
export function intFlag(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Job ids from the command line, checked by core's own parser (positive, at most 2^63-1). */
export function jobIds(command: string, positionals: string[]): string[] {
  if (positionals.length === 0)
    throw new UsageError(`give at least one job id (see 'queue ${command} --help')`);
  return positionals.map((id) => {
    try {
      return parseJobId(id);
    } catch {
      throw new UsageError(
        `a job id is a positive whole number of at most 2^63-1, got ${JSON.stringify(id)}`,
      );
    }
  });
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * An ISO 8601 date and time with its zone (Z or an offset), e.g. 2025-06-01T09:00:00Z. The
 * zone is required: without it the same text means different times on a laptop and a server.
 */
export function timeFlag(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const m = ISO_TIME.exec(value);
  const date = m ? new Date(value.replace(' ', 'T')) : undefined;
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  // Date rolls 2025-02-30 over to March 2: the day must exist in its month.
  const dayExists = m && new Date(Date.UTC(y!, mo! - 1, d!)).getUTCDate() === d && mo! >= 1 && mo! <= 12;
  if (!date || Number.isNaN(date.getTime()) || !dayExists) {
    throw new UsageError(
      `--${name} must be an ISO 8601 time with a zone, e.g. 2025-06-01T09:00:00Z or 2025-06-01T11:00+02:00, got ${JSON.stringify(value)}`,
    );
  }
  return date;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A retention length: a whole number with a unit (30s, 15m, 1h, 7d), 0 for none, or the word
 * `default` (null: the setting's default). In milliseconds.
 */
export function durationFlag(name: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  if (value === '0') return 0;
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(value);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new UsageError(
      `--${name} must be a whole number with a unit, s, m, h or d (30s, 15m, 1h, 7d), 0 for none, or 'default', got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** A retention count: a whole number from 0, or the word `default` (null: no cap). */
export function countFlag(name: string, value: string | undefined): number | null | undefined {
  if (value === 'default') return null;
  return intFlag(name, value, 0, 2_147_483_647);
}
