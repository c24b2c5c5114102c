import { type MetricsMount, silentLogger } from '@queue/core';
import { metricsEndpoint } from '@queue/metrics';
import { runMetricsContract } from '@queue/test-utils';
import { createQueue } from '../src/index.js';
import { expressVersions, listen, route } from './helpers.js';

for (const [label, express] of expressVersions) {
  runMetricsContract<MetricsMount>({
    name: label,
    metricsEndpoint,
    async start({ databaseUrl, tasks, metrics }) {
      const app = express();
      app.use(express.json());
      const jobs = createQueue(app, { connectionString: databaseUrl, tasks, logger: silentLogger, metrics });
      app.post(
        '/contract/enqueue',
        route(async (req, res) => {
          const job = await req.queue.enqueue(req.body.task, req.body.payload);
          res.status(201).json({ id: job.id });
        }),
      );
      const { server, baseUrl } = await listen(app);
      await jobs.ready();
      return {
        baseUrl,
        close: async () => {
          server.close();
          await jobs.close();
        },
      };
    },
  });
}
