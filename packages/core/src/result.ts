import { InvalidPayloadError, InvalidResultError } from './errors.js';
import { encodePayload } from './payload.js';

/**
 * A handler's return value as the JSON text stored in job_history.result, or null for
 * `undefined` (a handler that returns nothing stores nothing). The same encoding and limit
 * as payloads: what JSON would change silently is refused, and so is a result over
 * `maxBytes`, with InvalidResultError naming the task and the reason.
 */
export function encodeResult(task: string, value: unknown, maxBytes: number): string | null {
  if (value === undefined) return null;
  try {
    return encodePayload(task, value, maxBytes);
  } catch (error) {
    if (!(error instanceof InvalidPayloadError)) throw error;
    const prefix = `invalid payload for task ${JSON.stringify(task)}: `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    throw new InvalidResultError(task, reason.replace('the payload', 'the result'), { cause: error.cause });
  }
}
