import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineTasks, type Job, Queue, type Tasks, task } from '../../src/index.js';

// Type tests: vitest's typecheck compiles them (never runs them), and a type error inside an
// `it` fails that test; so does each @ts-expect-error line that meets no error.
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
    expectTypeOf(queue.enqueue<'sendWelcomeEmail'>).returns.resolves.toEqualTypeOf<
      Job<{ userId: string }, 'sendWelcomeEmail'>
    >();
  });

  it('lets a producer type payloads without importing handlers', () => {
    const producer = new Queue<Tasks<{ ping: { at: number } }>>({ connectionString: 'postgres://unused' });
    void producer.enqueue('ping', { at: 1 });
    // @ts-expect-error wrong payload
    void producer.enqueue('ping', { at: '1' });
  });
});
