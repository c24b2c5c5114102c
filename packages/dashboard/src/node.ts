import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dashboard } from './dashboard.js';
import { BadRequestError, DashboardError } from './errors.js';
import { type DashboardRequest, type DashboardResponse, json } from './http.js';

/** Largest action body accepted: actions carry at most a queue and a task name. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Mount paths are written '/admin/queue'; '' and '/' both mean the root. */
export function normalizeMount(path: string | undefined): string {
  const p = `/${(path ?? '').trim()}`.replace(/\/+/g, '/').replace(/\/$/, '');
  return p;
}

/**
 * The path below `mount`, or undefined when the request is not for the dashboard. With
 * `anywhere`, the mount may sit below prefixes we are not told about (Nest's global prefix).
 */
export function pathBelow(pathname: string, mount: string, anywhere = false): string | undefined {
  if (mount === '') return pathname || '/';
  let at = pathname.startsWith(mount) ? 0 : -1;
  if (at < 0 && anywhere) {
    for (let i = pathname.indexOf(mount); i >= 0; i = pathname.indexOf(mount, i + 1)) {
      const end = pathname[i + mount.length];
      if (end === undefined || end === '/') {
        at = i;
        break;
      }
    }
  }
  if (at < 0) return undefined;
  const rest = pathname.slice(at + mount.length);
  if (rest !== '' && !rest.startsWith('/')) return undefined;
  return rest || '/';
}

/** Reads a JSON body from the stream, unless a body parser got there first. */
export async function readBody(req: IncomingMessage & { body?: unknown }): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  if (req.body !== undefined) {
    if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) return parseJson(req.body.toString());
    // express.json() leaves {} for a request without a body; that is the same as none.
    return req.body;
  }
  if (req.readableEnded) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new DashboardError(
        'DASHBOARD_BODY_TOO_LARGE',
        413,
        `body is larger than ${MAX_BODY_BYTES} bytes`,
      );
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) {
    throw new DashboardError(
      'DASHBOARD_UNSUPPORTED_MEDIA_TYPE',
      415,
      'action bodies must be application/json',
    );
  }
  return parseJson(text);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('body is not valid JSON');
  }
}

export function writeResponse(res: ServerResponse, method: string | undefined, r: DashboardResponse): void {
  res.statusCode = r.status;
  for (const [name, value] of Object.entries(r.headers)) res.setHeader(name, value);
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  res.setHeader('content-length', body.length);
  res.end(method === 'HEAD' ? undefined : body);
}

/**
 * Answers one Node request below `mount`. `raw` is what the auth hook receives (the
 * framework's request object). Never rejects: failures become JSON error responses.
 */
export async function handleNode(
  dashboard: Dashboard,
  req: IncomingMessage & { body?: unknown; originalUrl?: string },
  res: ServerResponse,
  relative: string,
  originalPath: string,
  raw: unknown = req,
): Promise<void> {
  let response: DashboardResponse;
  try {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const request: DashboardRequest = {
      method: req.method ?? 'GET',
      path: relative,
      originalPath,
      query: url.searchParams,
      headers: req.headers,
      body: await readBody(req),
      raw,
    };
    response = await dashboard.handle(request);
  } catch (e) {
    response =
      e instanceof DashboardError
        ? json(e.status, { error: { code: e.code, message: e.message } })
        : json(500, { error: { code: 'DASHBOARD_INTERNAL', message: 'internal error: see the server log' } });
    if (!(e instanceof DashboardError))
      dashboard.options.queue.logger.error({ err: String(e) }, 'dashboard request failed');
  }
  if (!res.headersSent) writeResponse(res, req.method, response);
}

export function pathnameOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://dashboard.invalid').pathname;
  } catch {
    return '/';
  }
}
