import { runDemoAppSuite } from '@queue/demo-kit/suite';
import { createApp } from '../src/app.js';

runDemoAppSuite({
  name: 'demo-fastify',
  async start({ databaseUrl, crmFailureRate }) {
    const app = await createApp({ databaseUrl, crmFailureRate });
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    return { baseUrl, close: () => app.close() };
  },
});
