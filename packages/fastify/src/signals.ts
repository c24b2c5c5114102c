import { onShutdownSignal } from '@queue/core';
import type { FastifyInstance } from 'fastify';

/**
 * The instance's part in @queue/core's shutdown on SIGTERM/SIGINT, in its server phase:
 * `fastify.close()`, which stops taking requests and waits for those in flight, then runs the
 * onClose hooks, ours among them: the worker finishes its running jobs and the queue closes.
 * Core's worker is in the worker phase as well, so that a second signal aborts its running
 * jobs. Joined on onReady, so an instance that never boots leaves no handler behind, and left
 * on onClose.
 */
export function joinShutdown(fastify: FastifyInstance): void {
  let leave: (() => void) | undefined;
  fastify.addHook('onReady', async () => {
    leave = onShutdownSignal({
      name: '@queue/fastify server',
      phase: 'server',
      stop: async (signal) => {
        fastify.log.info({ signal }, 'closing the server on signal');
        await fastify.close();
      },
    });
  });
  fastify.addHook('onClose', async () => {
    leave?.();
  });
}
