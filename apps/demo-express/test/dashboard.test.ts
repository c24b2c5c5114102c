import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { runDemoDashboardSuite } from '@queue/demo-kit/dashboard-suite';
import { createApp } from '../src/app.js';

runDemoDashboardSuite({
  name: 'Express router',
  async start(options) {
    const demo = await createApp(options);
    const server = demo.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    await demo.jobs.ready();
    const { port } = server.address() as AddressInfo;
    return { origin: `http://127.0.0.1:${port}`, worker: () => demo.jobs.worker!, close: demo.close };
  },
});
