/**
 * Resolves when `check` returns a truthy value, re-checking every `intervalMs`: for state
 * that changes without an event the test could await (rows written by another process).
 * Rejects with `what` on timeout. Where an event exists, await it instead (`nextEvent`).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves with the next emission of `event` that passes `filter`. */
export function nextEvent<T>(
  // Loosely typed so that any typed emitter (core's TypedEmitter, Node's EventEmitter) fits.
  emitter: { on(e: any, l: any): unknown; off(e: any, l: any): unknown },
  event: string,
  filter: (v: T) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event ${event}`));
    }, timeoutMs);
    const listener = (v: T) => {
      if (!filter(v)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(v);
    };
    emitter.on(event, listener);
  });
}
