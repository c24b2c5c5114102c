import { InvalidResultError } from './errors.js';
import { encodeJson } from './payload.js';

/**
 * A handler's return value as the JSON text stored in job_history.result, or null for
 * `undefined` (a handler that returns nothing stores nothing). The same encoding and limit
 * as payloads: what JSON would change silently is refused, and so is a result over
 * `maxBytes`, with InvalidResultError naming the task and the reason.
 */
export function encodeResult(task: string, value: unknown, maxBytes: number): string | null {
  if (value === undefined) return null;
  return encodeJson(
    value,
    'the result',
    maxBytes,
    (reason, cause) => new InvalidResultError(task, reason, cause === undefined ? undefined : { cause }),
  );
}
