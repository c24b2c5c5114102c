import { runDemoMainSuite } from '@queue/demo-kit/main-suite';

runDemoMainSuite({
  name: 'fastify',
  appDir: new URL('..', import.meta.url),
  main: 'src/main.ts',
  listening: /serving on ([^\s;]+)/,
  dashboardUrl: /^http:\/\/127\.0\.0\.1:\d+\/admin\/queue\/$/,
  // The plugin closes the app and the queue, the embedded Postgres stops, then the signal is re-raised.
  exit: 'SIGTERM',
});
