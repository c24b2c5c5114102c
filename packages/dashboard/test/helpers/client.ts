/** A browser-like HTTP client for the dashboard's API: keeps the CSRF cookie and token. */
export class DashboardClient {
  cookie = '';
  token = '';

  constructor(
    readonly url: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(this.url + path, {
      headers: { ...this.headers, cookie: this.cookie, ...headers },
      redirect: 'manual',
    });
  }

  /** Fetches a CSRF token (and its cookie) as the page does on load. */
  async session(): Promise<{ readOnly: boolean }> {
    const res = await this.get('api/session');
    if (res.status !== 200) throw new Error(`session: HTTP ${res.status} ${await res.text()}`);
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    const body = (await res.json()) as { csrfToken: string; readOnly: boolean };
    this.token = body.csrfToken;
    return body;
  }

  async act(
    method: 'POST' | 'DELETE',
    path: string,
    body: unknown = {},
    overrides: { token?: string; cookie?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    return fetch(this.url + path, {
      method,
      headers: {
        ...this.headers,
        'content-type': 'application/json',
        cookie: overrides.cookie ?? this.cookie,
        'x-csrf-token': overrides.token ?? this.token,
        ...overrides.headers,
      },
      body: JSON.stringify(body),
      redirect: 'manual',
    });
  }
}

export function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}
