/**
 * Resolves on the first SIGTERM or SIGINT. The listeners stay until `cancel()`, so that
 * core's own handlers (which re-raise a signal nobody else listens to) leave the process
 * to finish its shutdown, and a second signal reaches core to abort running jobs.
 */
export function untilSignal(): { promise: Promise<NodeJS.Signals>; cancel(): void } {
  let resolve!: (s: NodeJS.Signals) => void;
  const promise = new Promise<NodeJS.Signals>((r) => {
    resolve = r;
  });
  const onTerm = () => resolve('SIGTERM');
  const onInt = () => resolve('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return {
    promise,
    cancel() {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}
