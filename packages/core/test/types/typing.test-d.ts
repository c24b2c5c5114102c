import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  defineTask,
  defineTasks,
  type Job,
  Queue,
  type ResultOf,
  type Tasks,
  task,
} from '../../src/index.js';

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

describe('typed results', () => {
  it("infers a result from the handler and takes a contract's declared one", () => {
    const tasks = defineTasks({
      add: task({ handler: async (p: { a: number; b: number }) => ({ sum: p.a + p.b }) }),
      plain: async () => 'done' as const,
      nothing: async () => {},
      declared: defineTask<{ id: string }, { rows: number }>(),
    });
    expectTypeOf<ResultOf<(typeof tasks)['add']>>().toEqualTypeOf<{ sum: number }>();
    expectTypeOf<ResultOf<(typeof tasks)['plain']>>().toEqualTypeOf<'done'>();
    expectTypeOf<ResultOf<(typeof tasks)['nothing']>>().toEqualTypeOf<void>();
    expectTypeOf<ResultOf<(typeof tasks)['declared']>>().toEqualTypeOf<{ rows: number }>();
    // A contract's handler must return what it declares.
    tasks.declared.handle(async () => ({ rows: 1 }));
    // @ts-expect-error: the contract declares { rows: number }
    tasks.declared.handle(async () => ({ rows: 'one' }));
  });
});

describe('waitFor', () => {
  it('resolves with the task result type for a job from enqueue, unknown for a bare id', async () => {
    const queue = new Queue({
      connectionString: 'postgres://unused',
      tasks: defineTasks({ add: async (p: { a: number }) => ({ sum: p.a }) }),
    });
    const job = await queue.enqueue('add', { a: 1 });
    expectTypeOf(await queue.waitFor(job)).toEqualTypeOf<{ sum: number }>();
    expectTypeOf(await queue.waitFor(job.id)).toEqualTypeOf<unknown>();
    expectTypeOf(await queue.waitFor<string>('1')).toEqualTypeOf<string>();
  });
});
