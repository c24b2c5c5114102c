import {
  Body,
  Controller,
  type DynamicModule,
  Inject,
  InternalServerErrorException,
  Module,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Queue, TaskDefinition, TaskMap } from '@queue/core';
import type { AppOptions, RunningApp } from '@queue/test-utils';
import pg from 'pg';
import { InjectQueue, Processor, QueueModule, Task, withTransaction } from '../src/index.js';

const PG_POOL = 'PG_POOL';

/** The contract's routes. Every injection names its token: vitest's transform emits no decorator metadata. */
@Controller('contract')
class ContractController {
  constructor(
    @InjectQueue() private readonly queue: Queue,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  @Post('enqueue')
  async enqueue(@Body() body: { task: string; payload: unknown }) {
    const job = await this.queue.enqueue(body.task, body.payload);
    return { id: job.id };
  }

  @Post('signup')
  async signup(@Body() body: { value: string; fail: boolean }) {
    await withTransaction(this.pool, async (client) => {
      await client.query('INSERT INTO contract_rows (value) VALUES ($1)', [body.value]);
      await this.queue.enqueue('record', { value: body.value }, { client });
      if (body.fail) throw new InternalServerErrorException('rolled back on request');
    });
    return { value: body.value };
  }
}

/**
 * Wraps plain handlers in a @Processor() class made for one app, so they take the decorator
 * path: discovery, options from @Task(), and calls on the instance Nest created.
 */
function processorFor(tasks: TaskMap) {
  @Processor()
  class ContractProcessor {}
  for (const [name, value] of Object.entries(tasks)) {
    // The adapter contract's tasks are handlers and definitions (a TaskMap may also hold contracts).
    const { handler, ...options } = (
      typeof value === 'function' ? { handler: value } : value
    ) as TaskDefinition;
    Object.defineProperty(ContractProcessor.prototype, name, {
      value: handler,
      writable: true,
      configurable: true,
    });
    const descriptor = Object.getOwnPropertyDescriptor(ContractProcessor.prototype, name)!;
    Task(name, options)(ContractProcessor.prototype, name, descriptor);
  }
  return ContractProcessor;
}

/**
 * Boots the contract app: `decorated` registers the tasks as a @Processor() provider with the
 * queue on the app's own pool (forRootAsync); `plain` passes them as `tasks` to forRoot().
 */
export async function startContractApp(
  style: 'decorated' | 'plain',
  { databaseUrl, tasks, concurrency }: AppOptions,
): Promise<RunningApp> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  const queueModule: DynamicModule =
    style === 'decorated'
      ? QueueModule.forRootAsync({
          inject: [PG_POOL],
          useFactory: (appPool: pg.Pool) => ({ pool: appPool, worker: { concurrency } }),
        })
      : QueueModule.forRoot({ connectionString: databaseUrl, tasks, worker: { concurrency } });

  @Module({
    imports: [queueModule],
    controllers: [ContractController],
    providers: style === 'decorated' ? [processorFor(tasks)] : [],
  })
  class ContractAppModule {}

  // The pool is global here so that forRootAsync's `inject` can see it.
  @Module({ providers: [{ provide: PG_POOL, useValue: pool }], exports: [PG_POOL] })
  class PoolModule {}
  const root: DynamicModule = { module: ContractAppModule, imports: [{ module: PoolModule, global: true }] };

  const app = await NestFactory.create(root, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return {
    baseUrl: await app.getUrl(),
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}
