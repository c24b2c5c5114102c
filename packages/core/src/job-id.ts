import { InvalidOptionError } from './errors.js';
import { show } from './options.js';

const MAX_BIGINT = 9223372036854775807n;

/**
 * A job id as the decimal string the database returns: a positive bigint given as a string
 * of digits, a bigint, or a safe integer. Ids pass through as strings, so ids past 2^53 stay
 * exact. Throws InvalidOptionError naming `option` for anything else.
 */
export function parseJobId(id: unknown, option = 'id'): string {
  if (typeof id === 'bigint' && id > 0n && id <= MAX_BIGINT) return id.toString();
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === 'string' && /^[1-9][0-9]{0,18}$/.test(id) && BigInt(id) <= MAX_BIGINT) return id;
  throw new InvalidOptionError(
    option,
    `must be a positive bigint job id (digits, a bigint or a safe integer, at most 2^63-1), got ${show(id)}`,
  );
}
