import type { FastifyInstance } from 'fastify';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Closes the instance on the first SIGTERM/SIGINT, then re-raises the signal so the
 * process ends as it would have without us (unless the app listens for it too). Listening
 * starts on `onReady`, so an instance that never boots leaves no handlers behind.
 */
export function closeOnSignals(fastify: FastifyInstance): void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  let closing: Promise<void> | undefined;
  const unlisten = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    handlers.clear();
  };

  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal is for the worker's own handler: it stops waiting for running jobs.
    if (closing) return;
    fastify.log.info({ signal }, 'closing on signal');
    closing = fastify
      .close()
      .catch((error: unknown) => fastify.log.error({ err: error }, 'close after signal failed'))
      .finally(() => {
        unlisten();
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  };

  fastify.addHook('onReady', async () => {
    for (const signal of SIGNALS) {
      const handler = () => onSignal(signal);
      handlers.set(signal, handler);
      process.on(signal, handler);
    }
  });
  // On a close the app started itself. During a signal's close the handler must stay until
  // the end: were it gone, the worker's handler would re-raise the signal mid-close.
  fastify.addHook('onClose', async () => {
    if (!closing) unlisten();
  });
}
