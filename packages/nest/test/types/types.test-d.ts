import type { DynamicModule } from '@nestjs/common';
import type { Queue, Tasks } from '@queue/core';
import { describe, expectTypeOf, it } from 'vitest';
import {
  InjectQueue,
  Processor,
  QueueModule,
  type QueueModuleOptions,
  type QueueOptionsFactory,
  type RegisteredQueue,
  Task,
} from '../../src/index.js';

// What an app declares once to type the queue it injects, as in @queue/express and @queue/fastify.
declare module '../../src/index.js' {
  interface Register {
    tasks: Tasks<{ welcome: { userId: string } }>;
  }
}

// Type tests: vitest's typecheck compiles them (never runs them), and a type error inside an
// `it` fails that test; so does each @ts-expect-error line that meets no error.
describe('types', () => {
  it('forRoot and forRootAsync take the module options and return a dynamic module', () => {
    expectTypeOf(
      QueueModule.forRoot({ connectionString: 'postgres://x', worker: { concurrency: 2 } }),
    ).toEqualTypeOf<DynamicModule>();
    QueueModule.forRoot({
      connectionString: 'postgres://x',
      worker: false,
      migrate: true,
      handleSignals: false,
    });
    // @ts-expect-error: a queue and the options to create one
    QueueModule.forRoot({ queue: {} as Queue, connectionString: 'postgres://x' });
    // @ts-expect-error: signals are the module's handleSignals, not the worker's
    QueueModule.forRoot({ connectionString: 'postgres://x', worker: { handleSignals: true } });
    // @ts-expect-error: concurrency is a number
    QueueModule.forRoot({ connectionString: 'postgres://x', worker: { concurrency: 'many' } });
    QueueModule.forRootAsync({ inject: ['URL'], useFactory: (url: string) => ({ connectionString: url }) });
    // @ts-expect-error: the factory must return module options
    QueueModule.forRootAsync({ useFactory: () => ({ connectionString: 42 }) });
    class Config implements QueueOptionsFactory {
      createQueueOptions(): QueueModuleOptions {
        return { connectionString: 'postgres://x' };
      }
    }
    QueueModule.forRootAsync({ useClass: Config });
    class NotAFactory {}
    // @ts-expect-error: useClass must implement createQueueOptions()
    QueueModule.forRootAsync({ useClass: NotAFactory });
  });

  it('Register types RegisteredQueue, the type to give what @InjectQueue() injects', () => {
    class Users {
      constructor(@InjectQueue() readonly queue: RegisteredQueue) {}

      async signup() {
        await this.queue.enqueue('welcome', { userId: '1' });
        // @ts-expect-error: not a registered task
        await this.queue.enqueue('farewell', { userId: '1' });
        // @ts-expect-error: wrong payload for the task
        await this.queue.enqueue('welcome', { userId: 1 });
      }
    }
    expectTypeOf<Users['queue']>().toEqualTypeOf<Queue<Tasks<{ welcome: { userId: string } }>>>();
  });

  it('decorators fit where they belong, and a typed queue checks task names and payloads', () => {
    @Processor('emails')
    class Emails {
      constructor(@InjectQueue() readonly queue: Queue<Tasks<{ send: { to: string } }>>) {}

      @Task('send', { maxAttempts: 3, timeout: 1000 })
      async send(_payload: { to: string }) {}

      async enqueue() {
        await this.queue.enqueue('send', { to: 'a@example.com' });
        // @ts-expect-error: unknown task name
        await this.queue.enqueue('sned', { to: 'a@example.com' });
      }
    }
    expectTypeOf<Emails['send']>().toBeFunction();
    // At run time this decorator would throw (errors.test.ts covers that); here it only compiles.
    class Wrong {
      // @ts-expect-error: @Task() decorates methods only
      @Task('notAMethod')
      notAMethod = 1;
    }
    void Wrong;
  });
});
