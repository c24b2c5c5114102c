import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MetricsMount, Queue, silentLogger } from '@queue/core';
import { runMetricsContract } from '@queue/test-utils';
import { metricsEndpoint } from '../src/index.js';

// The endpoint on a bare node:http server: what every adapter does, without a framework.
runMetricsContract<MetricsMount>({
  name: 'node:http',
  metricsEndpoint,
  async start({ databaseUrl, tasks, metrics }) {
    const queue = new Queue({ connectionString: databaseUrl, tasks, logger: silentLogger });
    const worker = queue.worker({ concurrency: 4 });
    const handler = metrics.attach(queue, worker);
    const server = createServer(async (req, res) => {
      if (req.url === metrics.path) {
        const r = await handler.handle({ headers: req.headers, raw: req });
        res.writeHead(r.status, r.headers).end(r.body);
        return;
      }
      let body = '';
      for await (const chunk of req) body += chunk;
      const { task, payload } = JSON.parse(body);
      const job = await queue.enqueue(task, payload);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: job.id }));
    });
    await worker.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      async close() {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        handler.close();
        await queue.close();
      },
    };
  },
});
