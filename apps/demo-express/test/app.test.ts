import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { runDemoAppSuite } from '@queue/demo-kit/suite';
import { createApp } from '../src/app.js';

runDemoAppSuite({
  name: 'express',
  async start({ databaseUrl, crmFailureRate }) {
    const demo = await createApp({ databaseUrl, crmFailureRate });
    const server = demo.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    await demo.jobs.ready();
    const { port } = server.address() as AddressInfo;
    return { baseUrl: `http://127.0.0.1:${port}`, close: demo.close };
  },
});
