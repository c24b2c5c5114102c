import { randomBytes } from 'node:crypto';
import type { Queue } from '@queue/core';
import { type StandaloneServer, startDashboardServer } from '@queue/dashboard';

/**
 * Serves the dashboard on this run's queue until `signal` aborts (Ctrl-C), on 127.0.0.1
 * behind Basic auth with a password made for this run. Falls back to a free port when the
 * preferred one is taken.
 */
export async function serveDashboard(queue: Queue<any>, port: number, signal: AbortSignal): Promise<void> {
  const password = randomBytes(12).toString('base64url');
  const options = {
    queue,
    host: '127.0.0.1',
    basicAuth: { username: 'demo', password },
    title: 'Queue demo',
  };
  let server: StandaloneServer;
  try {
    server = await startDashboardServer({ ...options, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    server = await startDashboardServer({ ...options, port: 0 });
  }
  try {
    // On a terminal, Enter stops it too: under `pnpm demo`, Ctrl-C also reaches pnpm, which
    // then reports the script as failed.
    const enter = process.stdin.isTTY === true;
    console.log('');
    console.log(`Dashboard: ${server.url}  (user "demo", password "${password}")`);
    console.log("  The charts show this run's jobs per minute: queues 'emails' and 'crm' (the story) and");
    console.log("  'default' (the burst). Completed jobs stay in the history (a day by default) with their");
    console.log('  results and run times; the queued and failed lists are empty once the story is done.');
    console.log(`  ${enter ? 'Press Enter or Ctrl-C' : 'Send SIGINT (Ctrl-C)'} to stop.`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      if (enter) process.stdin.once('data', () => resolve());
    });
    if (enter) process.stdin.pause();
  } finally {
    await server.close();
  }
}
