import type { Logger } from './logger.js';
import { onShutdownSignal } from './shutdown.js';

/**
 * A worker's part in the process's graceful shutdown (see shutdown.ts): the first SIGTERM or
 * SIGINT stops it, the second hurries it (aborts running jobs). Returns a function that
 * takes it out again.
 */
export function stopOnSignals(options: {
  stop: () => Promise<void>;
  hurry: () => void;
  logger: Logger;
}): () => void {
  return onShutdownSignal({
    name: 'worker',
    phase: 'worker',
    stop: async (signal) => {
      options.logger.info({ signal }, 'stopping worker');
      await options.stop();
    },
    hurry: options.hurry,
  });
}
