/**
 * The framework-neutral request and response: every mount turns its framework's request
 * into a DashboardRequest, calls `dashboard.handle()`, and writes the DashboardResponse back.
 */
export interface DashboardRequest {
  method: string;
  /** Path below the mount point, starting with '/', without the query string. */
  path: string;
  /** The full path as the client sent it (used only to redirect `/mount` to `/mount/`). */
  originalPath: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body of an action, or undefined. */
  body?: unknown;
  /** The framework's own request object, handed to the `auth` hook. */
  raw: unknown;
}

export interface DashboardResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string | Uint8Array;
}

/** Headers every response carries: nothing the dashboard serves may be framed, sniffed or leak a referrer. */
const BASE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/**
 * The page runs only its own script and stylesheet: even if job data ever reached the DOM
 * as markup, an injected inline script or handler would not execute.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function json(
  status: number,
  body: unknown,
  extra: Record<string, string | string[]> = {},
): DashboardResponse {
  return {
    status,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...extra,
    },
    // JSON.stringify leaves '<' alone; escaping it means no byte sequence in a response can
    // ever be read as markup, even by a client that ignores the content type.
    body: JSON.stringify(body).replace(/</g, '\\u003c'),
  };
}

export function html(body: string): DashboardResponse {
  return {
    status: 200,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': CONTENT_SECURITY_POLICY,
    },
    body,
  };
}

export function asset(contentType: string, body: Uint8Array, etag: string): DashboardResponse {
  return {
    status: 200,
    headers: { ...BASE_HEADERS, 'content-type': contentType, 'cache-control': 'no-cache', etag },
    body,
  };
}

export function notModified(etag: string): DashboardResponse {
  return { status: 304, headers: { ...BASE_HEADERS, etag }, body: '' };
}

export function redirect(location: string): DashboardResponse {
  return { status: 302, headers: { ...BASE_HEADERS, location }, body: '' };
}

export function header(req: Pick<DashboardRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads one cookie from the Cookie header; undefined when absent. */
export function cookie(req: Pick<DashboardRequest, 'headers'>, name: string): string | undefined {
  const raw = header(req, 'cookie');
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
