import { silentLogger } from '@queue/core';
import { runAdapterContract } from '@queue/test-utils';
import { createQueue, transaction } from '../src/index.js';
import { expressVersions, listen, route } from './helpers.js';

for (const [label, express] of expressVersions) {
  runAdapterContract({
    name: label,
    async start({ databaseUrl, tasks, concurrency }) {
      const app = express();
      app.use(express.json());
      const jobs = createQueue(app, {
        connectionString: databaseUrl,
        tasks,
        logger: silentLogger,
        worker: { concurrency },
      });
      app.post(
        '/contract/enqueue',
        route(async (req, res) => {
          const job = await req.queue.enqueue(req.body.task, req.body.payload);
          res.status(201).json({ id: job.id });
        }),
      );
      app.post(
        '/contract/signup',
        transaction(async (req, res) => {
          const { value, fail } = req.body;
          await req.tx.query('INSERT INTO contract_rows (value) VALUES ($1)', [value]);
          await req.queue.enqueue('record', { value }, { client: req.tx });
          // An error status rolls the request's transaction back: the row and the job with it.
          if (fail) res.status(500).json({ error: 'failed on purpose' });
          else res.status(201).json({ value });
        }),
      );
      const { server, baseUrl } = await listen(app);
      await jobs.ready();
      return {
        baseUrl,
        // The Express way: close the server. jobs.close() waits for the shutdown that starts.
        close: async () => {
          server.close();
          await jobs.close();
        },
      };
    },
  });
}
