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
  let json: string | undefined;
  try {
    json = JSON.stringify(payload === undefined ? null : payload, replacer);
  } catch (error) {
    const reason =
      error instanceof TypeError && /circular/i.test(error.message)
        ? 'it contains a circular reference'
        : error instanceof TypeError && /BigInt/i.test(error.message)
          ? 'it contains a BigInt; convert it to a string or number first'
          : (error as Error).message;
    throw new InvalidPayloadError(task, reason, { cause: error });
  }
  if (json === undefined) throw new InvalidPayloadError(task, 'it is not JSON-serialisable');
  const bad = FORBIDDEN_ESCAPE.exec(json);
  if (bad) {
    const what = bad[1] === '0000' ? 'a \\u0000 character' : `a lone UTF-16 surrogate (\\u${bad[1]})`;
    throw new InvalidPayloadError(task, `it contains ${what}, which Postgres jsonb cannot store`);
  }
  // Fast path: a string no longer than maxBytes/3 UTF-16 units cannot exceed maxBytes.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) {
      throw new InvalidPayloadError(task, `it is ${bytes} bytes as JSON, over the limit of ${maxBytes}`);
    }
  }
  return json;
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'function':
      throw new TypeError(`${where(key)} is a function`);
    case 'symbol':
      throw new TypeError(`${where(key)} is a symbol`);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${where(key)} is ${value}, which JSON cannot hold`);
      return value;
    default:
      return value;
  }
}

function where(key: string): string {
  return key === '' ? 'the payload' : `property ${JSON.stringify(key)}`;
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
