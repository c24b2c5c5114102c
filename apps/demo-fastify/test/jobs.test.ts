import type { DemoTasks } from '@queue/demo-kit';
import { useTestDatabase } from '@queue/test-utils';
import { type QueueTesting, queueTesting } from '@queue/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';

/**
 * The signup's jobs with @queue/testing (docs/testing.md, "Fastify with inject"): inject()
 * needs no port; the app's worker is stopped once the app is ready, so jobs stay in Postgres
 * for the assertions, and drain() runs them.
 */
describe('demo-fastify: the jobs a signup enqueues', () => {
  const db = useTestDatabase();
  let app: Awaited<ReturnType<typeof createApp>>;
  let jobs: QueueTesting<DemoTasks>;
  const signup = (body: unknown) => app.inject({ method: 'POST', url: '/signup', payload: body as object });

  beforeAll(async () => {
    // Rate 1: the CRM fails its first two attempts.
    app = await createApp({ databaseUrl: db.url, crmFailureRate: 1 });
    await app.ready();
    await app.queueWorker?.stop();
    jobs = queueTesting(app.queue);
  });
  afterEach(() => jobs.clearJobs());
  afterAll(() => app.close());

  it('a signup enqueues the welcome email and the CRM sync; drain() runs them, retries included', async () => {
    const res = await signup({ email: 'Ada@Example.com', name: 'Ada' });
    expect(res.statusCode).toBe(201);
    const userId = String(res.json().id);
    await jobs.expectEnqueued('sendWelcomeEmail', { userId }, { queue: 'emails', count: 1 });
    await jobs.expectEnqueued('syncCrm', { userId }, { queue: 'crm', count: 1 });

    const report = await jobs.drain({ retries: true });
    expect(report.jobs.filter((j) => j.task === 'syncCrm').map((j) => j.outcome)).toEqual([
      'retried',
      'retried',
      'completed',
    ]);
    await jobs.expectNotEnqueued();
    expect(await db.query('SELECT subject FROM sent_emails WHERE user_id = $1', [userId])).toEqual([
      { subject: 'Welcome, Ada!' },
    ]);
  });

  it('a duplicate email gets 409 and enqueues nothing more', async () => {
    expect((await signup({ email: 'grace@example.com', name: 'Grace' })).statusCode).toBe(201);
    expect((await signup({ email: 'GRACE@example.com', name: 'Grace again' })).statusCode).toBe(409);
    await jobs.expectEnqueued('sendWelcomeEmail', undefined, { count: 1 });
    await jobs.expectEnqueued('syncCrm', undefined, { count: 1 });
  });

  it('a bad payload gets 422 and enqueues nothing', async () => {
    expect((await signup({ name: 'No Mail' })).statusCode).toBe(422);
    await jobs.expectNotEnqueued();
  });
});
