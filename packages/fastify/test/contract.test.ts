import fastifyPostgres from '@fastify/postgres';
import { runAdapterContract } from '@queue/test-utils';
import Fastify from 'fastify';
import { fastifyQueue, withTransaction } from '../src/index.js';

// The app a user would write: @fastify/postgres for the database, the queue on its pool,
// and the transactional enqueue on the client of `withTransaction` (which, unlike
// `fastify.pg.transact`, survives the session ending while the client is out).
runAdapterContract({
  name: '@queue/fastify',
  async start({ databaseUrl, tasks, concurrency }) {
    const app = Fastify();
    await app.register(fastifyPostgres, { connectionString: databaseUrl });
    await app.register(fastifyQueue, (parent) => ({ pool: parent.pg.pool, tasks, worker: { concurrency } }));

    app.post('/contract/enqueue', async (request, reply) => {
      const { task, payload } = request.body as { task: string; payload: unknown };
      const job = await app.queue.enqueue(task, payload);
      return reply.code(201).send({ id: job.id });
    });

    app.post('/contract/signup', async (request, reply) => {
      const { value, fail } = request.body as { value: string; fail: boolean };
      try {
        await withTransaction(app.pg.pool, async (client) => {
          await client.query('INSERT INTO contract_rows (value) VALUES ($1)', [value]);
          await app.queue.enqueue('record', { value }, { client });
          if (fail) throw new Error('failing the request on purpose');
        });
      } catch (error) {
        return reply.code(500).send({ error: (error as Error).message });
      }
      return reply.code(201).send({ value });
    });

    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    return { baseUrl, close: () => app.close() };
  },
});
