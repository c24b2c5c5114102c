/** Talks to the dashboard's JSON API, relative to the page, so any mount path works. */
export interface Session {
  csrfToken: string;
  readOnly: boolean;
  title: string;
  refreshInterval: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let session: Session | undefined;

export async function loadSession(): Promise<Session> {
  session = await request<Session>('GET', 'api/session');
  return session;
}

export function getJson<T>(path: string): Promise<T> {
  return request<T>('GET', path);
}

/** An action: POST or DELETE with the CSRF token, as JSON. */
export function act<T>(method: 'POST' | 'DELETE', path: string, body: unknown = {}): Promise<T> {
  return request<T>(method, path, body);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = session?.csrfToken ?? '';
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'cannot reach the server');
  }
  const data = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
  }
  return data as T;
}
