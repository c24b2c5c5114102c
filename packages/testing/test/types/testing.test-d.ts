import { defineTask, defineTasks, Queue, task } from '@queue/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type DrainReport, type EnqueuedJob, queueTesting } from '../../src/index.js';

const tasks = defineTasks({
  sendEmail: task<{ to: string; locale?: string }, { to: string; locale?: string }, { messageId: string }>({
    handler: async ({ to }) => ({ messageId: to }),
  }),
  syncCrm: defineTask<{ userId: number }>({ queue: 'crm' }).handle(async () => {}),
});
const queue = new Queue({ connectionString: 'postgres://nowhere', tasks });
const t = queueTesting(queue);

describe('@queue/testing types', () => {
  it('checks task names and payload shapes against the task map', () => {
    void t.expectEnqueued('sendEmail', { to: 'a@b.c' });
    void t.expectEnqueued('sendEmail', {}); // a partial match: any subset of keys
    void t.expectEnqueued('sendEmail', { to: expect.any(String) });
    void t.expectEnqueued('sendEmail', expect.objectContaining({ to: 'x' }));
    void t.expectEnqueued('sendEmail', { to: (to: string) => to.endsWith('.c') });
    void t.expectEnqueued('syncCrm', { userId: 1 }, { queue: 'crm', count: 1 });
    // @ts-expect-error unknown task name
    void t.expectEnqueued('sendMail', { to: 'a@b.c' });
    // @ts-expect-error wrong type for a payload field
    void t.expectEnqueued('syncCrm', { userId: 'one' });
    // @ts-expect-error a key the payload does not have
    void t.expectEnqueued('sendEmail', { too: 'a@b.c' });
    // @ts-expect-error unknown task name
    void t.expectNotEnqueued('nope');
    // @ts-expect-error unknown option
    void t.expectEnqueued('sendEmail', {}, { stat: 'available' });
  });

  it('types the jobs found and the drain report by task', async () => {
    expectTypeOf(await t.expectEnqueued('syncCrm')).toEqualTypeOf<
      EnqueuedJob<{ userId: number }, 'syncCrm'>[]
    >();
    const report = await t.drain({ tasks: ['sendEmail'] });
    expectTypeOf(report).toEqualTypeOf<DrainReport<typeof tasks>>();
    for (const j of report.jobs) {
      if (j.task === 'sendEmail') expectTypeOf(j.result).toEqualTypeOf<{ messageId: string } | undefined>();
    }
    // @ts-expect-error drain's tasks are names from the task map
    void t.drain({ tasks: ['sendMail'] });
  });
});
