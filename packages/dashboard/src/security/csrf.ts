import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CsrfError } from '../errors.js';
import { cookie, type DashboardRequest, header } from '../http.js';

export const CSRF_COOKIE = 'queue_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const NONCE = /^[A-Za-z0-9_-]{32}$/;

/**
 * Signed double-submit tokens. The browser keeps a random nonce in an HttpOnly,
 * SameSite=Strict cookie; the page fetches the nonce's HMAC and sends it back in a header
 * with every action. Another site can neither read the token (no CORS), nor set the
 * header on a form post, nor forge a token for a nonce without the key.
 */
export class Csrf {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    this.key = secret
      ? createHash('sha256').update(`queue-dashboard-csrf:${secret}`).digest()
      : randomBytes(32);
  }

  /** The token for this browser, and a Set-Cookie header when it has no nonce yet. */
  issue(req: DashboardRequest, secure: boolean): { token: string; setCookie?: string } {
    const existing = cookie(req, CSRF_COOKIE);
    if (existing && NONCE.test(existing)) return { token: this.sign(existing) };
    const nonce = randomBytes(24).toString('base64url');
    // No Path attribute: it defaults to the directory of the session URL, i.e. `<mount>/api`,
    // so two dashboards mounted on one host keep separate cookies.
    const attributes = ['HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
    return { token: this.sign(nonce), setCookie: `${CSRF_COOKIE}=${nonce}; ${attributes.join('; ')}` };
  }

  /** Throws CsrfError unless the request carries a token matching its cookie and comes from this site. */
  verify(req: DashboardRequest): void {
    // Browsers that send Fetch Metadata tell us outright when a request was made by another site.
    const site = header(req, 'sec-fetch-site');
    if (site && site !== 'same-origin')
      throw new CsrfError(`cross-site request refused (sec-fetch-site: ${site})`);
    const nonce = cookie(req, CSRF_COOKIE);
    const token = header(req, CSRF_HEADER);
    if (!nonce || !NONCE.test(nonce)) throw new CsrfError('missing CSRF cookie: reload the dashboard');
    if (!token) throw new CsrfError(`missing ${CSRF_HEADER} header`);
    const expected = Buffer.from(this.sign(nonce));
    const given = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new CsrfError('invalid CSRF token: reload the dashboard');
    }
  }

  private sign(nonce: string): string {
    return createHmac('sha256', this.key).update(nonce).digest('base64url');
  }
}
