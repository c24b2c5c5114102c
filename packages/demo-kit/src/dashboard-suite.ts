import { randomBytes } from 'node:crypto';
import type { Job, Worker } from '@queue/core';
import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A demo app started by a {@link DemoDashboardHarness}, listening on a free port. */
export interface RunningDashboardDemo {
  /** The server's URL, without a trailing slash: http://127.0.0.1:1234 */
  origin: string;
  /** The app's queue worker, whose events tell when the signup's jobs are done. */
  worker(): Worker;
  close(): Promise<void>;
}

/** How a demo app's test file boots the real app (its own createApp) for the dashboard suite. */
export interface DemoDashboardHarness {
  /** How the app mounts the dashboard, for the suite's name: 'Express router', 'Fastify plugin'... */
  name: string;
  start(options: {
    databaseUrl: string;
    crmFailureRate: number;
    /** The dashboard's Basic auth credentials; without them the dashboard must stay closed. */
    dashboard?: { username: string; password: string };
  }): Promise<RunningDashboardDemo>;
}

const basic = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
});

/**
 * The queue dashboard at /admin/queue, the same for every demo app: over HTTP against the
 * real app, worker and Postgres.
 */
export function runDemoDashboardSuite(harness: DemoDashboardHarness): void {
  const db = useTestDatabase();
  const credentials = { username: 'ops', password: randomBytes(12).toString('hex') };
  const auth = basic(credentials.username, credentials.password);

  describe(`queue dashboard at /admin/queue (${harness.name})`, () => {
    let demo: RunningDashboardDemo;
    let origin: string;
    let dashboard: string;

    beforeAll(async () => {
      demo = await harness.start({ databaseUrl: db.url, crmFailureRate: 0, dashboard: credentials });
      origin = demo.origin;
      dashboard = `${origin}/admin/queue/`;
    });
    afterAll(() => demo?.close());

    it('answers 401 without credentials or with wrong ones', async () => {
      const bare = await fetch(`${origin}/admin/queue`, { redirect: 'manual' });
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      for (const path of ['', 'api/overview', 'api/session']) {
        expect((await fetch(dashboard + path)).status, path).toBe(401);
      }
      const wrong = await fetch(`${dashboard}api/overview`, {
        headers: basic(credentials.username, 'not-the-password'),
      });
      expect(wrong.status).toBe(401);
    });

    it('serves the page with the configured credentials', async () => {
      const res = await fetch(`${origin}/admin/queue`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.url).toBe(dashboard);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('<script src="assets/app.js?v=');
    });

    it("shows the demo's queues in the overview after a signup", async () => {
      const worker = demo.worker();
      const done = (task: string) => nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.task === task);
      const emailed = done('sendWelcomeEmail');
      const synced = done('syncCrm');
      const signup = await fetch(`${origin}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'dash@example.com', name: 'Dash' }),
      });
      expect(signup.status).toBe(201);
      await Promise.all([emailed, synced]);

      const res = await fetch(`${dashboard}api/overview`, { headers: auth });
      expect(res.status).toBe(200);
      const overview = (await res.json()) as {
        queues: { queue: string }[];
        throughput: { supported: boolean; buckets: { queue: string; completed: number }[] };
      };
      const completed = (queue: string) =>
        overview.throughput.buckets.filter((b) => b.queue === queue).reduce((n, b) => n + b.completed, 0);
      expect(overview.throughput.supported).toBe(true);
      expect(completed('emails')).toBe(1);
      expect(completed('crm')).toBe(1);
    });

    it('refuses an action without the CSRF token, and takes it with one', async () => {
      const pausedCrm = async () =>
        (await db.query(`SELECT paused_at FROM queue.queues WHERE name = 'crm'`))[0]?.paused_at ?? null;
      const action = (path: string, headers: Record<string, string> = {}) =>
        fetch(dashboard + path, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', ...headers },
          body: '{}',
        });

      const refused = await action('api/queues/crm/pause');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as any).error.code).toBe('DASHBOARD_CSRF');
      expect(await pausedCrm()).toBeNull();

      // As the page does: a token from api/session, bound to the cookie that comes with it.
      const session = await fetch(`${dashboard}api/session`, { headers: auth });
      const { csrfToken } = (await session.json()) as { csrfToken: string };
      const cookie = session.headers.getSetCookie()[0]!.split(';')[0]!;
      const csrf = { cookie, 'x-csrf-token': csrfToken };
      expect((await action('api/queues/crm/pause', csrf)).status).toBe(200);
      expect(await pausedCrm()).not.toBeNull();
      expect((await action('api/queues/crm/resume', csrf)).status).toBe(200);
      expect(await pausedCrm()).toBeNull();
    });
  });

  describe(`queue dashboard without credentials configured (${harness.name})`, () => {
    it('stays closed: 401 for everyone', async () => {
      const demo = await harness.start({ databaseUrl: db.url, crmFailureRate: 0 });
      try {
        const res = await fetch(`${demo.origin}/admin/queue/api/overview`, { headers: auth });
        expect(res.status).toBe(401);
        expect(((await res.json()) as any).error.code).toBe('DASHBOARD_UNAUTHORIZED');
      } finally {
        await demo.close();
      }
    });
  });
}
