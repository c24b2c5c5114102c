import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { MetricsConfigError } from './errors.js';

/**
 * The dashboard's three ways in, under the same names and with the same meaning, so one set of
 * options protects both: your `auth` hook, one Basic-auth user, or explicitly nobody.
 */
export interface MetricsAuthOptions<Req = unknown> {
  /**
   * Your app's check, with the framework's request (Express `req`, Fastify `request`, Node
   * `IncomingMessage`): true or 'read-only' lets the scrape in, anything else answers 401.
   */
  auth?: (request: Req) => boolean | 'read-only' | Promise<boolean | 'read-only'>;
  /** HTTP Basic authentication with one user (Prometheus' `basic_auth` in its scrape config). */
  basicAuth?: { username: string; password: string };
  /** Serve every scrape without authentication: for a port only Prometheus can reach. */
  unsafeNoAuth?: boolean;
}

export type AccessCheck = (headers: IncomingHttpHeaders, raw: unknown) => Promise<boolean>;

/** The realm a browser shows; Prometheus sends its credentials without asking. */
export const BASIC_REALM = 'Basic realm="queue metrics", charset="UTF-8"';

/** Checks the options (closed by default: with none of them, every scrape gets 401). */
export function accessCheck(options: MetricsAuthOptions<any>): AccessCheck {
  const { auth, basicAuth, unsafeNoAuth } = options;
  if (auth !== undefined && typeof auth !== 'function') {
    throw new MetricsConfigError('`auth` must be a function of the request returning true or false');
  }
  if (basicAuth !== undefined) {
    if (!basicAuth || typeof basicAuth.username !== 'string' || typeof basicAuth.password !== 'string') {
      throw new MetricsConfigError('`basicAuth` must be { username: string, password: string }');
    }
    if (basicAuth.username === '' || basicAuth.username.includes(':') || basicAuth.password === '') {
      throw new MetricsConfigError(
        '`basicAuth` needs a non-empty username without ":" and a non-empty password',
      );
    }
  }
  if (unsafeNoAuth !== undefined && typeof unsafeNoAuth !== 'boolean') {
    throw new MetricsConfigError('`unsafeNoAuth` must be true or false');
  }
  const ways = [auth !== undefined, basicAuth !== undefined, unsafeNoAuth === true].filter(Boolean).length;
  if (ways > 1) throw new MetricsConfigError('give only one of `auth`, `basicAuth` and `unsafeNoAuth`');
  if (unsafeNoAuth) return async () => true;
  if (basicAuth) {
    const user = digest(basicAuth.username);
    const pass = digest(basicAuth.password);
    return async (headers) => {
      const value = headers.authorization;
      if (typeof value !== 'string' || !/^basic /i.test(value)) return false;
      const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      // Compared as digests of equal length: the time taken says nothing about the secret.
      const u = timingSafeEqual(digest(decoded.slice(0, colon)), user);
      const p = timingSafeEqual(digest(decoded.slice(colon + 1)), pass);
      return u && p;
    };
  }
  if (auth) {
    return async (_headers, raw) => {
      try {
        const result = await auth(raw);
        return result === true || result === 'read-only';
      } catch {
        // A throwing hook must not open the door.
        return false;
      }
    };
  }
  return async () => false;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
