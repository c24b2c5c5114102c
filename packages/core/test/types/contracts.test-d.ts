import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  defineTask,
  defineTasks,
  type Job,
  type JobContext,
  type PayloadOf,
  Queue,
  type TaskContract,
  type TaskDefinition,
} from '../../src/index.js';

// A task contract carries the payload type from where it is declared to the producer's
// enqueue and the worker's handler, written once.
describe('task contracts', () => {
  const syncCrm = defineTask<{ userId: string }>({ queue: 'crm', maxAttempts: 5, priority: 3 });
  const resize = defineTask({ schema: z.object({ width: z.coerce.number() }), queue: 'images' });

  it('types the contract by its payload, or by its schema (input and output)', () => {
    expectTypeOf(syncCrm).toEqualTypeOf<TaskContract<{ userId: string }, { userId: string }>>();
    expectTypeOf<PayloadOf<typeof syncCrm>>().toEqualTypeOf<{ userId: string }>();
    expectTypeOf<PayloadOf<typeof resize>>().toEqualTypeOf<{ width: unknown }>();
    expectTypeOf(resize).toEqualTypeOf<TaskContract<{ width: unknown }, { width: number }>>();
    const strict = defineTask({ schema: z.object({ width: z.number() }) });
    expectTypeOf<PayloadOf<typeof strict>>().toEqualTypeOf<{ width: number }>();
    // @ts-expect-error a contract has no handler
    defineTask<{ a: string }>({ handler: async () => {} });
    // @ts-expect-error unknown option
    defineTask<{ a: string }>({ maxAttemps: 5 });
    // @ts-expect-error wrong option type
    defineTask<{ a: string }>({ queue: 7 });
  });

  it('a producer with the contract enqueues its payload type', () => {
    const producer = new Queue({ connectionString: 'postgres://unused', tasks: { syncCrm } });
    void producer.enqueue('syncCrm', { userId: 'u1' });
    // @ts-expect-error wrong payload type
    void producer.enqueue('syncCrm', { userId: 1 });
    // @ts-expect-error missing field
    void producer.enqueue('syncCrm', {});
    // @ts-expect-error unknown task
    void producer.enqueue('syncCRM', { userId: 'u1' });
    void producer.enqueueMany([
      { task: 'syncCrm', payload: { userId: 'u2' } },
      // @ts-expect-error wrong payload
      { task: 'syncCrm', payload: { user: 'u2' } },
    ]);
    expectTypeOf(producer.enqueue<'syncCrm'>).returns.resolves.toEqualTypeOf<
      Job<{ userId: string }, 'syncCrm'>
    >();
  });

  it('handle() gives the handler the contract payload and keeps the enqueue type', () => {
    const handled = syncCrm.handle(async (payload, ctx) => {
      expectTypeOf(payload).toEqualTypeOf<{ userId: string }>();
      expectTypeOf(ctx).toEqualTypeOf<JobContext<{ userId: string }>>();
    });
    expectTypeOf(handled).toEqualTypeOf<TaskDefinition<{ userId: string }, { userId: string }>>();
    resize.handle(async (payload) => {
      // The schema's output, not its input.
      expectTypeOf(payload).toEqualTypeOf<{ width: number }>();
    });
    // @ts-expect-error the handler's parameter contradicts the contract
    syncCrm.handle(async (payload: { userId: number }) => void payload);

    const tasks = defineTasks({ syncCrm: handled, resize: resize.handle(async () => {}) });
    const worker = new Queue({ connectionString: 'postgres://unused', tasks });
    void worker.enqueue('syncCrm', { userId: 'u1' });
    void worker.enqueue('resize', { width: '3' });
    // @ts-expect-error wrong payload
    void worker.enqueue('syncCrm', { userId: 1 });
  });

  it('mixes with handlers and definitions in one map', () => {
    const queue = new Queue({
      connectionString: 'postgres://unused',
      tasks: { syncCrm, ping: async (p: { at: number }) => void p },
    });
    void queue.enqueue('ping', { at: 1 });
    void queue.enqueue('syncCrm', { userId: 'x' });
    // @ts-expect-error payload of the other task
    void queue.enqueue('ping', { userId: 'x' });
  });
});
