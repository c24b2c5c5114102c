import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Queue } from '@queue/core';
import { QUEUE, QUEUE_WORKER } from '@queue/nest';
import { useTestDatabase } from '@queue/test-utils';
import { type QueueTesting, queueTesting } from '@queue/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../src/app.module.js';
import type { signupTasks } from '../src/contracts.js';

/**
 * The signup's jobs with @queue/testing (docs/testing.md, "Nest with a TestingModule"): the
 * app's real module, with the worker provider overridden by null (as `worker: false` makes it),
 * so jobs stay in Postgres for the assertions; drain() runs them with the processors' handlers.
 */
describe('demo-nest: the jobs a signup enqueues', () => {
  const db = useTestDatabase();
  let app: INestApplication;
  let jobs: QueueTesting<typeof signupTasks>;
  const signup = (body: unknown) =>
    request(app.getHttpServer())
      .post('/signup')
      .send(body as object);

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      // Rate 1: the CRM fails its first two attempts.
      imports: [AppModule.register({ databaseUrl: db.url, crmFailureRate: 1 })],
    })
      .overrideProvider(QUEUE_WORKER)
      .useValue(null)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    jobs = queueTesting(app.get<Queue<typeof signupTasks>>(QUEUE));
  });
  afterEach(() => jobs.clearJobs());
  afterAll(() => app.close());

  it('a signup enqueues the welcome email and the CRM sync; drain() runs them, retries included', async () => {
    const res = await signup({ email: 'Ada@Example.com', name: 'Ada' }).expect(201);
    const userId = String(res.body.id);
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
    await signup({ email: 'grace@example.com', name: 'Grace' }).expect(201);
    await signup({ email: 'GRACE@example.com', name: 'Grace again' }).expect(409);
    await jobs.expectEnqueued('sendWelcomeEmail', undefined, { count: 1 });
    await jobs.expectEnqueued('syncCrm', undefined, { count: 1 });
  });

  it('a bad payload gets 422 and enqueues nothing', async () => {
    await signup({ email: 'x@example.com' }).expect(422);
    await jobs.expectNotEnqueued();
  });
});
