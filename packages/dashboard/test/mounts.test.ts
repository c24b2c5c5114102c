import { Queue, silentLogger } from '@queue/core';
import { expectNoAdvisoryLocks, useTestDatabase } from '@queue/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../src/http.js';
import type { DashboardOptions } from '../src/options.js';
import { basic, DashboardClient } from './helpers/client.js';
import { failedJob } from './helpers/jobs.js';
import { type Mounted, mounts } from './helpers/mounts.js';

const db = useTestDatabase();
let queue: Queue;

beforeAll(() => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
});
afterAll(() => queue.close());
afterEach(() => expectNoAdvisoryLocks(db));

/** Reads a request header whatever the framework's request looks like. */
function headerOf(req: any, name: string): string | undefined {
  return (req.headers ?? req.raw?.headers)?.[name];
}

const XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

describe.each(Object.keys(mounts) as (keyof typeof mounts)[])('%s mount', (name) => {
  let app: Mounted | undefined;
  const start = async (options: Omit<DashboardOptions<any>, 'queue'>) => {
    await app?.close();
    app = await mounts[name]({ queue, ...options });
    return app;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers 401 to everything when no authentication is configured', async () => {
    const { url } = await start({});
    const c = new DashboardClient(url);
    for (const path of ['', 'api/overview', 'api/session', 'assets/app.js', 'api/jobs/1']) {
      const res = await c.get(path);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as any).error.code).toBe('DASHBOARD_UNAUTHORIZED');
    }
    const res = await c.act('POST', 'api/retry-failed');
    expect(res.status).toBe(401);
  });

  it('serves the page under a strict content security policy, and redirects the bare mount path', async () => {
    const { url } = await start({ unsafeNoAuth: true });
    const c = new DashboardClient(url);
    const page = await c.get('');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(await page.text()).toContain('<script src="assets/app.js?v=');
    const bare = await fetch(url.replace(/\/$/, ''), { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(new URL(bare.headers.get('location')!, url.replace(/\/$/, '')).href).toBe(url);
    const js = await c.get('assets/app.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    const missing = await c.get('assets/../../package.json');
    expect([400, 404]).toContain(missing.status);
  });

  it('asks for Basic credentials and accepts only the right ones', async () => {
    const { url } = await start({ basicAuth: { username: 'ops', password: 's3cret' } });
    const none = await new DashboardClient(url).get('api/overview');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await new DashboardClient(url, basic('ops', 'wrong')).get('api/overview')).status).toBe(401);
    expect((await new DashboardClient(url, basic('ops', 's3cret')).get('api/overview')).status).toBe(200);
    // The bare mount path too: strangers get a 401, not a redirect into the dashboard.
    const bare = url.replace(/\/$/, '');
    expect((await fetch(bare, { redirect: 'manual' })).status).toBe(401);
    const redirected = await fetch(bare, { redirect: 'manual', headers: basic('ops', 's3cret') });
    expect(redirected.status).toBe(302);
  });

  it("lets the app's auth hook decide, including read-only access", async () => {
    const { url } = await start({
      auth: (req: any) => {
        const user = headerOf(req, 'x-user');
        return user === 'admin' ? true : user === 'viewer' ? 'read-only' : false;
      },
    });
    const job = await failedJob(queue, db, 'hook', {});
    expect((await new DashboardClient(url).get('api/overview')).status).toBe(401);
    const viewer = new DashboardClient(url, { 'x-user': 'viewer' });
    expect((await viewer.session()).readOnly).toBe(true);
    const denied = await viewer.act('POST', `api/jobs/${job.id}/retry`);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as any).error.code).toBe('DASHBOARD_READ_ONLY');
    const admin = new DashboardClient(url, { 'x-user': 'admin' });
    expect((await admin.session()).readOnly).toBe(false);
    expect((await admin.act('POST', `api/jobs/${job.id}/retry`)).status).toBe(200);
    await queue.deleteJob(job.id);
  });

  it('refuses every action without a valid CSRF token', async () => {
    const { url } = await start({ unsafeNoAuth: true });
    const job = await failedJob(queue, db, 'csrf', {});
    const c = new DashboardClient(url);
    await c.session();
    const other = new DashboardClient(url);
    await other.session();
    const attempts = [
      { token: '' },
      { token: 'forged' },
      { cookie: '' },
      // A token is bound to its own cookie: one browser's token is useless with another's cookie.
      { token: other.token },
      { headers: { 'sec-fetch-site': 'cross-site' } },
    ];
    for (const overrides of attempts) {
      const res = await c.act('POST', `api/jobs/${job.id}/retry`, {}, overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(403);
      expect(((await res.json()) as any).error.code).toBe('DASHBOARD_CSRF');
    }
    for (const path of ['api/retry-failed', 'api/queues/default/pause']) {
      expect((await c.act('POST', path, {}, { token: '' })).status).toBe(403);
    }
    expect((await c.act('DELETE', `api/jobs/${job.id}`, {}, { token: '' })).status).toBe(403);
    expect((await queue.getJob(job.id))?.state).toBe('failed');
    const ok = await c.act('POST', `api/jobs/${job.id}/retry`);
    expect(ok.status).toBe(200);
    expect((await queue.getJob(job.id))?.state).toBe('available');
    await queue.deleteJob(job.id);
  });

  it('returns job data only as JSON that no browser can read as markup', async () => {
    const { url } = await start({ unsafeNoAuth: true });
    const job = await failedJob(queue, db, 'x<script>', { html: XSS });
    const c = new DashboardClient(url);
    const res = await c.get(`api/jobs/${job.id}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const text = await res.text();
    expect(text).not.toContain('<');
    expect(JSON.parse(text).job.payload.html).toBe(XSS);
    const list = await c.get('api/jobs?state=failed');
    expect(await list.text()).not.toContain('<');
    for (const path of [
      'api/jobs/%3Cscript%3E',
      '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      'api/jobs?queue=%3Cb%3E&state=%3Cb%3E',
    ]) {
      const bad = await c.get(path);
      expect(bad.status, path).toBeGreaterThanOrEqual(400);
      expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await bad.text()).not.toContain('<');
    }
    await queue.deleteJob(job.id);
  });

  it('refuses every action when read-only', async () => {
    const { url } = await start({ unsafeNoAuth: true, readOnly: true });
    const c = new DashboardClient(url);
    expect((await c.session()).readOnly).toBe(true);
    const res = await c.act('POST', 'api/queues/default/pause');
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('DASHBOARD_READ_ONLY');
    expect((await queue.countJobs()).find((q) => q.queue === 'default')?.paused ?? false).toBe(false);
  });
});
