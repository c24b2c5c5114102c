import { InvalidOptionError } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { EnqueueAssertionError, queueTesting } from '../src/index.js';
import { queueFactory, signupTasks } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('manual mode: assertions read the jobs table', () => {
  it('expectEnqueued matches a payload partially, with asymmetric matchers and options', async () => {
    const queue = makeQueue(signupTasks([]));
    const t = queueTesting(queue);
    await queue.enqueue(
      'sendWelcomeEmail',
      { userId: 'u1', locale: 'fr' },
      { tags: ['signup'], priority: 2 },
    );
    await queue.enqueue('syncCrm', { userId: 'u1' }, { delay: 60_000 });

    const [job] = await t.expectEnqueued('sendWelcomeEmail', { userId: 'u1' });
    expect(job).toMatchObject({
      task: 'sendWelcomeEmail',
      queue: 'emails',
      state: 'available',
      tags: ['signup'],
    });
    await t.expectEnqueued('sendWelcomeEmail', {
      userId: expect.any(String),
      locale: expect.stringMatching(/^f/),
    });
    await t.expectEnqueued('sendWelcomeEmail', expect.objectContaining({ locale: 'fr' }), {
      queue: 'emails',
      priority: 2,
      tags: ['signup'],
      count: 1,
    });
    await t.expectEnqueued(
      'syncCrm',
      { userId: 'u1' },
      { state: 'scheduled', runAt: (d: Date) => d > new Date() },
    );
    await t.expectEnqueued('syncCrm', undefined, { count: 1 });
    await t.expectNotEnqueued('syncCrm', { userId: 'u1' }, { state: 'available' });
    await t.expectNotEnqueued('sendWelcomeEmail', { userId: 'u2' });
    expect(await t.enqueuedJobs()).toHaveLength(2);
    expect(await t.enqueuedJobs('sendWelcomeEmail', { locale: 'de' })).toHaveLength(0);
  });

  it('a failed expectation says what was expected and lists the jobs that are there', async () => {
    const queue = makeQueue(signupTasks([]));
    const t = queueTesting(queue);
    await queue.enqueue('sendWelcomeEmail', { userId: 'u1' });
    const missing = await t.expectEnqueued('sendWelcomeEmail', { userId: 'u9' }).catch((e) => e);
    expect(missing).toBeInstanceOf(EnqueueAssertionError);
    expect(missing.code).toBe('QUEUE_TESTING_ASSERTION');
    expect(missing.message).toMatch(
      /expected at least one job of task "sendWelcomeEmail" with payload matching \{"userId":"u9"\}, found 0/,
    );
    expect(missing.message).toMatch(
      /#\d+ sendWelcomeEmail on "emails" \(available, priority 0\): \{"userId":"u1"\}/,
    );

    const count = await t.expectEnqueued('sendWelcomeEmail', { userId: 'u1' }, { count: 2 }).catch((e) => e);
    expect(count.message).toMatch(/expected 2 jobs of task "sendWelcomeEmail".*found 1/);

    const present = await t
      .expectNotEnqueued('sendWelcomeEmail', { userId: expect.any(String) })
      .catch((e) => e);
    expect(present).toBeInstanceOf(EnqueueAssertionError);
    expect(present.message).toMatch(
      /expected no job of task "sendWelcomeEmail" with payload matching \{"userId":"<Any<String>>"\}, found 1/,
    );
  });

  it('refuses bad options before reading anything, naming the option', async () => {
    const queue = makeQueue(signupTasks([]));
    const t = queueTesting(queue);
    await expect(t.expectEnqueued('syncCrm', {}, { stat: 'available' } as never)).rejects.toThrow(
      /invalid option stat: expectEnqueued\(\) has no option "stat"/,
    );
    await expect(t.expectEnqueued('syncCrm', {}, { state: 'completed' as never })).rejects.toThrow(
      InvalidOptionError,
    );
    await expect(t.expectEnqueued('syncCrm', {}, { count: -1 })).rejects.toThrow(
      /count: must be a whole number/,
    );
    await expect(t.expectNotEnqueued('syncCrm', {}, { count: 0 } as never)).rejects.toThrow(/expects none/);
  });
});
