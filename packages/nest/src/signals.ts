import type { HttpAdapterHost } from '@nestjs/core';
import { type Logger, onShutdownSignal, type Queue } from '@queue/core';

/**
 * The app's part in @queue/core's shutdown on SIGTERM/SIGINT, for `handleSignals: true`. A
 * module cannot close the Nest app it belongs to (nothing hands it the app), so it stops what
 * keeps running jobs safe, phase by phase: the HTTP server stops taking requests and waits
 * for those in flight (server phase), the worker finishes its running jobs (core's worker,
 * worker phase), and the queue closes (queue phase); then core ends the process by the same
 * signal unless the app listens to it too. With `app.enableShutdownHooks()` Nest also runs
 * its lifecycle hooks (ours wait on the same worker stop), and re-raises the signal itself.
 * A second signal aborts the running jobs and drops the connections still open.
 */
export function joinShutdown(options: {
  adapterHost: HttpAdapterHost;
  /** The queue to close: only one the module created. */
  queue: Queue | undefined;
  logger: Logger;
}): () => void {
  const { adapterHost, queue, logger } = options;
  const leave: (() => void)[] = [];
  // An application context (createApplicationContext) has no HTTP adapter.
  const http = adapterHost?.httpAdapter;
  if (http) {
    leave.push(
      onShutdownSignal({
        name: '@queue/nest server',
        phase: 'server',
        stop: async (signal) => {
          logger.info({ signal }, 'closing the server on signal');
          await http.close();
        },
        hurry: () => http.getHttpServer?.()?.closeAllConnections?.(),
      }),
    );
  }
  if (queue) {
    leave.push(onShutdownSignal({ name: '@queue/nest queue', phase: 'queue', stop: () => queue.close() }));
  }
  return () => {
    for (const l of leave.splice(0)) l();
  };
}
