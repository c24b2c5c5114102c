import type { DemoTasks } from '@queue/demo-kit';
import { useTestDatabase } from '@queue/test-utils';
import { type QueueTesting, queueTesting } from '@queue/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type DemoApp } from '../src/app.js';

/**
 * The signup's jobs with @queue/testing (docs/testing.md, "Express with supertest"):
 * supertest serves the app on its own http.Server, not through app.listen, so the queue's
 * worker never starts. Jobs stay in Postgres for the assertions, and drain() runs them.
 */
describe('demo-express: the jobs a signup enqueues', () => {
  const db = useTestDatabase();
  let demo: DemoApp;
  let jobs: QueueTesting<DemoTasks>;
  const signup = (body: unknown) =>
    request(demo.app)
      .post('/signup')
      .send(body as object);

  beforeAll(async () => {
    // Rate 1: the CRM fails its first two attempts.
    demo = await createApp({ databaseUrl: db.url, crmFailureRate: 1 });
    jobs = queueTesting(demo.jobs.queue);
  });
  afterEach(() => jobs.clearJobs());
  afterAll(() => demo.close());

  it('a signup enqueues the welcome email and the CRM sync; drain() runs them, retries included', async () => {
    const res = await signup({ email: 'Ada@Example.com', name: 'Ada' }).expect(201);
    const userId = String(res.body.id);
    await jobs.expectEnqueued('sendWelcomeEmail', { userId }, { queue: 'emails', count: 1 });
    await jobs.expectEnqueued('syncCrm', { userId }, { queue: 'crm', count: 1 });

    const report = await jobs.drain({ retries: true });
    const crm = report.jobs.filter((j) => j.task === 'syncCrm').map((j) => [j.job.attempts, j.outcome]);
    expect(crm).toEqual([
      [1, 'retried'],
      [2, 'retried'],
      [3, 'completed'],
    ]);
    expect(report).toMatchObject({ completed: 2, failed: 0 });
    await jobs.expectNotEnqueued();
    expect(await db.query('SELECT email, subject FROM sent_emails WHERE user_id = $1', [userId])).toEqual([
      { email: 'ada@example.com', subject: 'Welcome, Ada!' },
    ]);
  });

  it('a duplicate email gets 409 and enqueues nothing more', async () => {
    await signup({ email: 'grace@example.com', name: 'Grace' }).expect(201);
    const res = await signup({ email: 'GRACE@example.com', name: 'Grace again' }).expect(409);
    expect(res.body.error).toBe('email_taken');
    await jobs.expectEnqueued('sendWelcomeEmail', undefined, { count: 1 });
    await jobs.expectEnqueued('syncCrm', undefined, { count: 1 });
  });

  it('a bad payload gets 422 and enqueues nothing', async () => {
    await signup({ email: 'not-an-email', name: 'X' }).expect(422);
    await jobs.expectNotEnqueued();
  });
});
