import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseJobId } from '@queue/core';
import { UsageError } from './errors.js';

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
    throw new UsageError(
      `${(error as Error).message.replace(/\. To specify .*$/s, '')} (see 'queue ${command} --help')`,
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
