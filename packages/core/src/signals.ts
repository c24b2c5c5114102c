import type { Logger } from './logger.js';

/**
 * Stops gracefully on the first SIGTERM or SIGINT and hurries on the second. Once stopped,
 * the signal does what it would have done had nobody listened (ends the process), unless
 * the app listens to it too. Returns a function that removes the handlers.
 */
export function stopOnSignals(options: {
  stop: () => Promise<void>;
  hurry: () => void;
  logger: Logger;
}): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const handler = () => {
      if (stopping) return options.hurry();
      stopping = true;
      options.logger.info({ signal }, 'stopping worker');
      void options.stop().then(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    handlers.clear();
  };
}
