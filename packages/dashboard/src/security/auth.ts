import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors.js';
import { type DashboardRequest, header } from '../http.js';
import type { ResolvedOptions } from '../options.js';

export type Access = 'read-write' | 'read-only';

/** The realm the browser shows in its Basic-auth prompt. */
export const BASIC_REALM = 'Basic realm="queue dashboard", charset="UTF-8"';

/**
 * Decides what a request may do, or throws UnauthorizedError. Closed by default: with no
 * way of authenticating configured, nobody gets in unless `unsafeNoAuth` says so.
 */
export async function authenticate(req: DashboardRequest, options: ResolvedOptions): Promise<Access> {
  const cap = (access: Access): Access => (options.readOnly ? 'read-only' : access);
  if (options.unsafeNoAuth) return cap('read-write');
  if (options.basicAuth) {
    if (!basicMatches(header(req, 'authorization'), options.basicAuth)) {
      throw new UnauthorizedError('authentication required');
    }
    return cap('read-write');
  }
  if (options.auth) {
    let result: unknown;
    try {
      result = await options.auth(req.raw);
    } catch (error) {
      // A throwing hook must not open the door; its message stays in the server's logs.
      throw new UnauthorizedError(
        `authentication failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (result === true) return cap('read-write');
    if (result === 'read-only') return 'read-only';
    throw new UnauthorizedError('authentication required');
  }
  throw new UnauthorizedError(
    'the dashboard has no authentication configured: pass `auth` (your own check), `basicAuth`, or `unsafeNoAuth: true` for local use only',
  );
}

function basicMatches(value: string | undefined, expected: { username: string; password: string }): boolean {
  if (!value || !/^basic /i.test(value)) return false;
  const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Digests have equal lengths, so the comparison takes the same time whatever was sent.
  const user = sameDigest(decoded.slice(0, colon), expected.username);
  const pass = sameDigest(decoded.slice(colon + 1), expected.password);
  return user && pass;
}

function sameDigest(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
