/**
 * A Nest app that boots while its Postgres is down: with `migrate: true` the module's init
 * waits for Postgres (a warning per retry), the worker starts after it, and the app listens,
 * serves and runs jobs once Postgres is up. app.close() during the wait ends it at once.
 */
import { Body, Controller, type INestApplication, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DatabaseUnavailableError, type Logger, type Queue, type Worker } from '@queue/core';
import { type Cluster, createCluster } from '@queue/dev-postgres';
import { recordingLogger } from '@queue/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InjectQueue, Processor, QUEUE_WORKER, QueueModule, Task } from '../src/index.js';

const ran: string[] = [];

@Processor()
class RecordProcessor {
  @Task('record')
  async record(payload: { value: string }) {
    ran.push(payload.value);
  }
}

@Controller('jobs')
class JobsController {
  constructor(@InjectQueue() private readonly queue: Queue) {}

  @Post()
  async enqueue(@Body() body: { value: string }) {
    const job = await this.queue.enqueue('record', { value: body.value });
    return { id: job.id };
  }
}

function appModule(url: string, logger: Logger, startupTimeout?: number) {
  @Module({
    imports: [
      QueueModule.forRoot({
        connectionString: url,
        migrate: true,
        logger,
        worker: { pollInterval: 200 },
        ...(startupTimeout === undefined ? {} : { startupTimeout }),
      }),
    ],
    controllers: [JobsController],
    providers: [RecordProcessor],
  })
  class AppModule {}
  return AppModule;
}

let server: Cluster;
let up = true;
const apps: INestApplication[] = [];

beforeAll(async () => {
  server = await createCluster();
}, 120_000);
afterAll(() => server?.destroy());
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close().catch(() => {})));
  if (!up) await server.start();
  up = true;
  ran.length = 0;
}, 60_000);

async function down() {
  await server.stop();
  up = false;
}

async function create(logger: Logger, startupTimeout?: number) {
  const app = await NestFactory.create(appModule(server.url, logger, startupTimeout), {
    logger: false,
    abortOnError: false,
  });
  apps.push(app);
  return app;
}

describe('booting while Postgres is down', () => {
  it('with migrate: true the app waits for Postgres, then listens, serves and runs a job', async () => {
    await down();
    const { logger, lines, next } = recordingLogger();
    const app = await create(logger);
    const listening = app.listen(0, '127.0.0.1');
    const first = await next(/^Postgres not reachable .*\(ECONNREFUSED\)/);
    expect(first.fields).toMatchObject({ operation: 'migrate()', address: `127.0.0.1:${server.port}` });
    await server.start();
    up = true;
    await listening;

    const worker = app.get<Worker>(QUEUE_WORKER);
    const completed = new Promise<{ job: { id: string } }>((resolve) => worker.once('completed', resolve));
    const res = await fetch(`${await app.getUrl()}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'late' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await completed).job.id).toBe(id);
    expect(ran).toEqual(['late']);
    expect(JSON.stringify(lines)).not.toContain('postgres:postgres@');
  }, 60_000);

  it('app.close() during the wait ends it at once: listen() rejects with DatabaseUnavailableError (stopped)', async () => {
    await down();
    const { logger, next } = recordingLogger();
    const app = await create(logger);
    const listening = app.listen(0, '127.0.0.1').then(
      () => null,
      (error: unknown) => error,
    );
    // A backoff of a second or more, so that ending sooner proves the wait was cut short.
    const line = await next(/^Postgres not reachable .*retrying in [1-9]\d*\.\d s/);
    const t0 = performance.now();
    await app.close();
    const error = (await listening) as DatabaseUnavailableError;
    expect(performance.now() - t0).toBeLessThan((line.fields.retryInMs as number) / 2);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.stopped).toBe(true);
  }, 60_000);

  it('a Postgres that stays down past startupTimeout fails the boot with DatabaseUnavailableError', async () => {
    await down();
    const app = await create(recordingLogger().logger, 500);
    const error = await app.listen(0, '127.0.0.1').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toContain(`127.0.0.1:${server.port}`);
  }, 60_000);
});
