import type { DashboardRequest, DashboardResponse } from './http.js';
import type { Access } from './security/auth.js';

export interface RouteContext {
  req: DashboardRequest;
  params: Record<string, string>;
  access: Access;
}

/**
 * One framework-neutral route: `route` is a path below the mount with `:name` segments.
 * An `action` changes something, so it needs a CSRF token and write access.
 */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  route: string;
  action?: boolean;
  handler(ctx: RouteContext): Promise<DashboardResponse> | DashboardResponse;
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export type MatchResult = Match | { allowed: string[] } | undefined;

/** Finds the route for a method and path; `{ allowed }` when the path exists with other methods (405). */
export function matchRoute(routes: readonly Route[], method: string, path: string): MatchResult {
  const parts = path.split('/').filter(Boolean);
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPath(route.route, parts);
    if (!params) continue;
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

function matchPath(pattern: string, parts: string[]): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  if (want.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    let p: string;
    try {
      p = decodeURIComponent(parts[i]!);
    } catch {
      return undefined;
    }
    if (w.startsWith(':')) params[w.slice(1)] = p;
    else if (w !== p) return undefined;
  }
  return params;
}
