import { ConfigError } from '../errors.js';

/**
 * Everything a statement needs to name our objects, computed once per queue: the quoted
 * schema, the notification channel, and the advisory-lock namespace.
 */
export interface Names {
  schema: string;
  /** The schema as a quoted SQL identifier, safe to splice into statements. */
  q: string;
  /** The LISTEN/NOTIFY channel name (unquoted) and as a quoted identifier and literal. */
  channel: string;
  channelIdent: string;
  channelLiteral: string;
  /** Where the statements that finish a job for good tell waitFor() (payload `<id>:<outcome>`). */
  doneChannel: string;
  doneChannelLiteral: string;
  lockNamespace: number;
  /** SQL expression turning a job id column or parameter into its advisory-lock key. */
  lockKey(idExpr: string): string;
  /** The XOR mask as a SQL bigint literal; the key of job `id` is `id # mask`. */
  lockMask: string;
}

/** 'queu' as a 32-bit number: the default lock namespace. */
export const DEFAULT_LOCK_NAMESPACE = 0x71756575;

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function makeNames(schema = 'queue', lockNamespace = DEFAULT_LOCK_NAMESPACE): Names {
  if (typeof schema !== 'string' || schema.length === 0) {
    throw new ConfigError('schema must be a non-empty string');
  }
  // Postgres truncates identifiers past 63 bytes, which would silently merge two schemas;
  // the channel names add 5 bytes (':jobs', ':done') and have the same limit.
  if (Buffer.byteLength(schema) > 58) {
    throw new ConfigError(`schema name ${JSON.stringify(schema)} is longer than 58 bytes`);
  }
  if (schema.includes('\u0000')) throw new ConfigError('schema name must not contain \\u0000');
  if (!Number.isInteger(lockNamespace) || lockNamespace < 1 || lockNamespace > 0x7fffffff) {
    throw new ConfigError(
      `lockNamespace must be an integer from 1 to 2147483647, got ${String(lockNamespace)}`,
    );
  }
  const channel = `${schema}:jobs`;
  // Job locks use the one-bigint form of pg_advisory_lock, keyed by the job id XOR
  // (namespace << 32): a bijection, so distinct jobs never share a lock, and for ids
  // below 2^32 pg_locks shows classid = namespace and objid = id.
  const mask = (BigInt(lockNamespace) << 32n).toString();
  const lockMask = `${mask}::bigint`;
  return {
    schema,
    q: quoteIdent(schema),
    channel,
    channelIdent: quoteIdent(channel),
    channelLiteral: quoteLiteral(channel),
    doneChannel: `${schema}:done`,
    doneChannelLiteral: quoteLiteral(`${schema}:done`),
    lockNamespace,
    lockMask,
    lockKey: (idExpr) => `(${idExpr} # ${lockMask})`,
  };
}
