import { runDemoMainSuite } from '@queue/demo-kit/main-suite';

runDemoMainSuite({
  name: 'express',
  appDir: new URL('..', import.meta.url),
  main: 'src/main.ts',
  listening: /listening on (\S+)/,
  dashboardUrl: /^http:\/\/localhost:\d+\/admin\/queue\/$/,
  // The adapter closes the server and the queue, then re-raises the signal (see @queue/express).
  exit: 'SIGTERM',
});
