import { type MetricsMount, silentLogger } from '@queue/core';
import { metricsEndpoint } from '@queue/metrics';
import { runMetricsContract } from '@queue/test-utils';
import Fastify from 'fastify';
import { fastifyQueue } from '../src/index.js';

runMetricsContract<MetricsMount>({
  name: '@queue/fastify',
  metricsEndpoint,
  async start({ databaseUrl, tasks, metrics }) {
    const app = Fastify();
    await app.register(fastifyQueue, { connectionString: databaseUrl, tasks, logger: silentLogger, metrics });
    app.post('/contract/enqueue', async (request, reply) => {
      const { task, payload } = request.body as { task: string; payload: unknown };
      const job = await app.queue.enqueue(task, payload);
      return reply.code(201).send({ id: job.id });
    });
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    return { baseUrl, close: () => app.close() };
  },
});
