import { expectNoAdvisoryLocks, useTestDatabase, waitFor } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** How a demo app's test file boots the real app (its own createApp) on a free port. */
export interface DemoAppHarness {
  name: string;
  start(options: {
    databaseUrl: string;
    crmFailureRate: number;
  }): Promise<{ baseUrl: string; close(): Promise<void> }>;
}

/**
 * The same HTTP-level suite for every demo app: real server, real Postgres, real jobs.
 * The CRM fails its first two attempts (rate 1), so every signup also shows two retries.
 */
export function runDemoAppSuite(harness: DemoAppHarness): void {
  describe(`demo app: ${harness.name}`, () => {
    const db = useTestDatabase();
    let app: { baseUrl: string; close(): Promise<void> };
    let closed = false;

    beforeAll(async () => {
      app = await harness.start({ databaseUrl: db.url, crmFailureRate: 1 });
    });
    afterAll(async () => {
      if (!closed) await app.close();
    });

    const post = async (body: unknown, raw?: string) => {
      const res = await fetch(`${app.baseUrl}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: raw ?? JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    };
    const count = async (sql: string, values: unknown[] = []) => (await db.query(sql, values))[0].n as number;

    it('GET /health answers 200', async () => {
      const res = await fetch(`${app.baseUrl}/health`);
      expect(res.status).toBe(200);
    });

    it('signup answers 201 at once, then the welcome email and the CRM sync run (after retries)', async () => {
      const res = await post({ email: 'Ada@Example.com', name: 'Ada' });
      expect(res.status).toBe(201);
      const userId = String(res.body.id);
      await waitFor('the welcome email', () =>
        count(`SELECT count(*)::int AS n FROM sent_emails WHERE user_id = $1`, [userId]),
      );
      const [sync] = await waitFor('the CRM sync', () =>
        db
          .query(`SELECT attempt FROM crm_syncs WHERE user_id = $1`, [userId])
          .then((r) => (r.length ? r : null)),
      );
      // Attempts 1 and 2 failed on purpose; the third succeeded.
      expect(sync.attempt).toBe(3);
      const [email] = await db.query(`SELECT email, subject FROM sent_emails WHERE user_id = $1`, [userId]);
      expect(email).toEqual({ email: 'ada@example.com', subject: 'Welcome, Ada!' });
      // The best-effort geocode ran too, outside the queue.
      await waitFor('the geocode', () =>
        count(`SELECT count(*)::int AS n FROM users WHERE id = $1 AND geo IS NOT NULL`, [userId]),
      );
    });

    it('a duplicate email gets 409 and enqueues nothing', async () => {
      expect((await post({ email: 'grace@example.com', name: 'Grace' })).status).toBe(201);
      const jobsBefore = await count(`SELECT count(*)::int AS n FROM queue.jobs`);
      const res = await post({ email: 'GRACE@example.com', name: 'Grace again' });
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('email_taken');
      expect(await count(`SELECT count(*)::int AS n FROM queue.jobs`)).toBeLessThanOrEqual(jobsBefore);
      expect(await count(`SELECT count(*)::int AS n FROM users WHERE email = 'grace@example.com'`)).toBe(1);
      await waitFor('the first welcome email', () =>
        count(`SELECT count(*)::int AS n FROM sent_emails WHERE email = 'grace@example.com'`),
      );
      expect(
        await count(`SELECT count(*)::int AS n FROM sent_emails WHERE email = 'grace@example.com'`),
      ).toBe(1);
    });

    const bad: [string, unknown, string][] = [
      ['missing email', { name: 'No Mail' }, 'email'],
      ['malformed email', { email: 'not-an-email', name: 'X' }, 'email'],
      ['missing name', { email: 'x@example.com' }, 'name'],
      ['blank name', { email: 'y@example.com', name: '   ' }, 'name'],
      ['an array body', [1, 2], 'body'],
    ];
    for (const [what, body, field] of bad) {
      it(`bad payload (${what}) gets 422 naming "${field}" and enqueues nothing`, async () => {
        const users = await count(`SELECT count(*)::int AS n FROM users`);
        const jobs = await count(`SELECT count(*)::int AS n FROM queue.jobs`);
        const res = await post(body);
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ error: 'invalid_field', field });
        expect(await count(`SELECT count(*)::int AS n FROM users`)).toBe(users);
        expect(await count(`SELECT count(*)::int AS n FROM queue.jobs`)).toBeLessThanOrEqual(jobs);
      });
    }

    it('shuts down cleanly: close() resolves, no locks or connections are left', async () => {
      await app.close();
      closed = true;
      await expectNoAdvisoryLocks(db);
      const left = await count(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [db.name],
      );
      expect(left).toBe(0);
    });
  });
}
