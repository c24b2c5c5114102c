import { runDemoDashboardSuite } from '@queue/demo-kit/dashboard-suite';
import { createApp } from '../src/app.js';

runDemoDashboardSuite({
  name: 'Fastify plugin',
  async start(options) {
    const app = await createApp(options);
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    return { origin, worker: () => app.queueWorker!, close: () => app.close() };
  },
});
