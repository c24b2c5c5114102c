import { InvalidPayloadError, PayloadValidationError } from './errors.js';
import type { StandardSchemaV1 } from './standard-schema.js';

export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

// A \u0000 or a lone surrogate survives JSON.stringify only as an escape sequence
// (\u0000, \udXXX); jsonb rejects both. An even run of backslashes before it means the
// backslash itself was escaped, i.e. the text was a literal "\u0000", which is fine.
const FORBIDDEN_ESCAPE = /(?<!\\)(?:\\\\)*\\u(0000|d[89ab][0-9a-f]{2}|d[c-f][0-9a-f]{2})/i;

/**
 * Turns a payload into the JSON text stored in jsonb, or throws InvalidPayloadError.
 * The encoding is plain JSON: objects' `undefined` properties are left out and values
 * with `toJSON` (Date) are stored as what it returns, exactly as JSON.stringify does.
 * Everything JSON would change silently (functions, symbols, NaN, Infinity) is refused.
 */
export function encodePayload(task: string, payload: unknown, maxBytes: number): string {
  return encodeJson(payload === undefined ? null : payload, 'the payload', maxBytes, (reason, cause) => {
    return new InvalidPayloadError(task, reason, cause === undefined ? undefined : { cause });
  });
}

/**
 * The JSON text of `value` for a jsonb column, by the payload's rules; `what` names the value
 * at the top of a reason ("the payload", "meta"), and `fail` makes the caller's error.
 */
export function encodeJson(
  value: unknown,
  what: string,
  maxBytes: number,
  fail: (reason: string, cause?: unknown) => Error,
): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value, replacer(what));
  } catch (error) {
    const reason =
      error instanceof TypeError && /circular/i.test(error.message)
        ? 'it contains a circular reference'
        : error instanceof TypeError && /serialize a BigInt/i.test(error.message)
          ? 'it contains a BigInt; convert it to a string or number first'
          : (error as Error).message;
    throw fail(reason, error);
  }
  if (json === undefined) throw fail('it is not JSON-serialisable');
  const bad = FORBIDDEN_ESCAPE.exec(json);
  if (bad) {
    const char = bad[1] === '0000' ? 'a \\u0000 character' : `a lone UTF-16 surrogate (\\u${bad[1]})`;
    throw fail(`it contains ${char}, which Postgres jsonb cannot store`);
  }
  // Fast path: a string no longer than maxBytes/3 UTF-16 units cannot exceed maxBytes.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) throw fail(`it is ${bytes} bytes as JSON, over the limit of ${maxBytes}`);
  }
  return json;
}

function replacer(what: string) {
  const where = (key: string) => (key === '' ? what : `property ${JSON.stringify(key)}`);
  return function (this: unknown, key: string, value: unknown): unknown {
    switch (typeof value) {
      case 'function':
        throw new TypeError(`${where(key)} is a function`);
      case 'symbol':
        throw new TypeError(`${where(key)} is a symbol`);
      case 'bigint':
        throw new TypeError(`${where(key)} is a BigInt; convert it to a string or number first`);
      case 'number':
        if (!Number.isFinite(value)) throw new TypeError(`${where(key)} is ${value}, which JSON cannot hold`);
        return value;
      default:
        return value;
    }
  };
}

/** Runs a Standard Schema and returns its output, or throws PayloadValidationError. */
export async function validatePayload(
  task: string,
  schema: StandardSchemaV1 | undefined,
  payload: unknown,
): Promise<unknown> {
  if (!schema) return payload;
  let result = schema['~standard'].validate(payload);
  if (result instanceof Promise) result = await result;
  if (result.issues) {
    throw new PayloadValidationError(
      task,
      result.issues.map((i) => ({
        message: i.message,
        path: i.path?.map((p) => (typeof p === 'object' ? p.key : p)),
      })),
    );
  }
  return result.value;
}
