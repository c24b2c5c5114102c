import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineTasks, type Job, Queue, type Tasks, task } from '../src/index.js';

// These checks run in `tsc --noEmit` (the typecheck step); at runtime they only construct objects.
describe('typed task map', () => {
  const tasks = defineTasks({
    sendWelcomeEmail: async (payload: { userId: string }) => {
      expectTypeOf(payload.userId).toEqualTypeOf<string>();
    },
    resize: task({
      schema: z.object({ width: z.number() }),
      handler: async (payload, ctx) => {
        expectTypeOf(payload).toEqualTypeOf<{ width: number }>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      },
    }),
  });

  it('checks task names and payloads at enqueue', () => {
    const queue = new Queue({ connectionString: 'postgres://unused', tasks });
    const enqueue = () => {
      void queue.enqueue('sendWelcomeEmail', { userId: 'u1' });
      void queue.enqueue('resize', { width: 3 });
      // @ts-expect-error unknown task name
      void queue.enqueue('sendWelcomeMail', { userId: 'u1' });
      // @ts-expect-error wrong payload type
      void queue.enqueue('sendWelcomeEmail', { userId: 1 });
      // @ts-expect-error missing field
      void queue.enqueue('resize', {});
      void queue.enqueueMany([
        { task: 'sendWelcomeEmail', payload: { userId: 'u2' } },
        // @ts-expect-error payload of the other task
        { task: 'resize', payload: { userId: 'u2' } },
      ]);
    };
    expectTypeOf(enqueue).toBeFunction();
    expectTypeOf(queue.enqueue<'sendWelcomeEmail'>).returns.resolves.toEqualTypeOf<
      Job<{ userId: string }, 'sendWelcomeEmail'>
    >();
    void queue.pool.end();
  });

  it('lets a producer type payloads without importing handlers', () => {
    const producer = new Queue<Tasks<{ ping: { at: number } }>>({ connectionString: 'postgres://unused' });
    const enqueue = () => {
      void producer.enqueue('ping', { at: 1 });
      // @ts-expect-error wrong payload
      void producer.enqueue('ping', { at: '1' });
    };
    expectTypeOf(enqueue).toBeFunction();
    void producer.pool.end();
  });
});
