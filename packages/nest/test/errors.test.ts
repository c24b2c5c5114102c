import { type DynamicModule, Inject, Injectable, Module, Scope } from '@nestjs/common';
import { NestFactory, REQUEST } from '@nestjs/core';
import { InvalidOptionError, QueueError } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { DuplicateTaskError, Processor, ProcessorDefinitionError, QueueModule, Task } from '../src/index.js';

const db = useTestDatabase();

/** Boots and, should it succeed, closes again; resolves with the error the boot threw. */
async function bootError(providers: any[], tasks?: Record<string, () => void>): Promise<any> {
  const root: DynamicModule = {
    module: class AppModule {},
    imports: [QueueModule.forRoot({ connectionString: db.url, tasks })],
    providers,
  };
  try {
    const app = await NestFactory.createApplicationContext(root, { logger: false, abortOnError: false });
    await app.close();
  } catch (error) {
    return error;
  }
  throw new Error('expected the app not to start');
}

describe('misconfigured processors get a named error with a code', () => {
  it('@Task() in a class without @Processor()', async () => {
    class Forgotten {
      @Task('forgotten')
      async run() {}
    }
    const error = await bootError([Forgotten]);
    expect(error).toBeInstanceOf(ProcessorDefinitionError);
    expect(error).toBeInstanceOf(QueueError);
    expect(error.code).toBe('QUEUE_NEST_TASK_WITHOUT_PROCESSOR');
    expect(error.message).toMatch(/Forgotten has @Task\(\) methods \(run\) but no @Processor\(\)/);
  });

  it('the same task name in two processors', async () => {
    @Processor()
    class A {
      @Task('send')
      async send() {}
    }
    @Processor()
    class B {
      @Task('send')
      async other() {}
    }
    const error = await bootError([A, B]);
    expect(error).toBeInstanceOf(DuplicateTaskError);
    expect(error).toMatchObject({ code: 'QUEUE_NEST_DUPLICATE_TASK', task: 'send' });
    expect(error.message).toMatch(/by A\.send \(in AppModule\) and by B\.other \(in AppModule\)/);
  });

  it('a task name in both `tasks` and a processor', async () => {
    @Processor()
    class A {
      @Task()
      async send() {}
    }
    const error = await bootError([A], { send: () => {} });
    expect(error).toMatchObject({ name: 'DuplicateTaskError', code: 'QUEUE_NEST_DUPLICATE_TASK' });
    expect(error.message).toMatch(/by the `tasks` option and by A\.send \(in AppModule\)/);
  });

  it('@Task() on a property or a static method, at class definition', () => {
    const defineOnProperty = () => {
      class P {
        @(Task('p') as any)
        handler = () => {};
      }
      return P;
    };
    expect(defineOnProperty).toThrow(ProcessorDefinitionError);
    expect(defineOnProperty).toThrow(/@Task\(\) must decorate an instance method, but P\.handler is not one/);
    const defineOnStatic = () => {
      // biome-ignore lint/complexity/noStaticOnlyClass: the static method is the point of the test
      class S {
        @Task('s')
        static run() {}
      }
      return S;
    };
    expect(defineOnStatic).toThrow(/but static S\.run is not one/);
    try {
      defineOnStatic();
    } catch (error) {
      expect((error as ProcessorDefinitionError).code).toBe('QUEUE_NEST_TASK_NOT_METHOD');
    }
  });

  it('a request-scoped processor, or one that depends on a request-scoped provider', async () => {
    @Processor()
    @Injectable({ scope: Scope.REQUEST })
    class Scoped {
      @Task('scoped')
      async run() {}
    }
    const direct = await bootError([Scoped]);
    expect(direct).toMatchObject({ code: 'QUEUE_NEST_SCOPED_PROCESSOR' });
    expect(direct.message).toMatch(/processor Scoped is request-scoped or transient/);

    @Processor()
    class Indirect {
      constructor(@Inject(REQUEST) readonly request: unknown) {}
      @Task('indirect')
      async run() {}
    }
    expect(await bootError([Indirect])).toMatchObject({ code: 'QUEUE_NEST_SCOPED_PROCESSOR' });
  });

  it('a worker with no tasks at all says how to fix it', async () => {
    const error = await bootError([]);
    expect(error).toMatchObject({ name: 'ProcessorDefinitionError', code: 'QUEUE_NEST_NO_TASKS' });
    expect(error.message).toMatch(/processor classes to a module's providers, or pass `worker: false`/);
  });

  it("bad worker options surface core's error at startup", async () => {
    @Processor()
    class Fine {
      @Task('fine')
      async run() {}
    }
    @Module({ providers: [Fine] })
    class FineModule {}
    const root: DynamicModule = {
      module: class AppModule {},
      imports: [QueueModule.forRoot({ connectionString: db.url, worker: { concurrency: 0 } }), FineModule],
    };
    const boot = NestFactory.createApplicationContext(root, { logger: false, abortOnError: false });
    await expect(boot).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(boot).rejects.toThrow(/concurrency/);
  });
});
