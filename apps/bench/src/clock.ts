/**
 * Wall-clock milliseconds with sub-millisecond resolution. `performance.now()` alone is
 * per-process; adding `timeOrigin` puts both processes on the system clock, and the worker
 * process measures its remaining offset to the bench process at start (see worker-host.ts).
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleeps until `at` (a `now()` value) with ~1 ms accuracy: a timer for the bulk, then yields. */
export async function sleepUntil(at: number): Promise<void> {
  const left = at - now();
  if (left > 2) await sleep(left - 1.5);
  while (now() < at) await new Promise((r) => setImmediate(r));
}
