import { Body, Controller, Inject, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MetricsMount, type Queue, silentLogger } from '@queue/core';
import { metricsEndpoint } from '@queue/metrics';
import { runMetricsContract } from '@queue/test-utils';
import { QUEUE, QueueModule } from '../src/index.js';

runMetricsContract<MetricsMount>({
  name: 'nest (platform-express)',
  metricsEndpoint,
  async start({ databaseUrl, tasks, metrics }) {
    // Every injection names its token: vitest's transform emits no decorator metadata.
    @Controller('contract')
    class EnqueueController {
      constructor(@Inject(QUEUE) private readonly queue: Queue) {}

      @Post('enqueue')
      async enqueue(@Body() body: { task: string; payload: unknown }) {
        const job = await this.queue.enqueue(body.task, body.payload);
        return { id: job.id };
      }
    }

    @Module({
      imports: [QueueModule.forRoot({ connectionString: databaseUrl, tasks, logger: silentLogger, metrics })],
      controllers: [EnqueueController],
    })
    class AppModule {}

    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    return { baseUrl: await app.getUrl(), close: () => app.close() };
  },
});
