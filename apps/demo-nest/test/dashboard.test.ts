import type { Worker } from '@queue/core';
import { runDemoDashboardSuite } from '@queue/demo-kit/dashboard-suite';
import { QUEUE_WORKER } from '@queue/nest';
import { createApp } from '../src/app.js';

runDemoDashboardSuite({
  name: 'Nest module',
  async start(options) {
    const app = await createApp({ ...options, logger: false });
    await app.listen(0, '127.0.0.1');
    return {
      origin: await app.getUrl(),
      worker: () => app.get<Worker>(QUEUE_WORKER),
      close: () => app.close(),
    };
  },
});
