import { runDemoAppSuite } from '@queue/demo-kit/suite';
import { createApp } from '../src/app.js';

runDemoAppSuite({
  name: 'demo-nest',
  async start({ databaseUrl, crmFailureRate }) {
    const app = await createApp({ databaseUrl, crmFailureRate, logger: false });
    await app.listen(0, '127.0.0.1');
    return { baseUrl: await app.getUrl(), close: () => app.close() };
  },
});
