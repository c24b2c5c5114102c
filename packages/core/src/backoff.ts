import { MAX_TIMER_MS } from './options.js';
import type { Backoff } from './types.js';

const DEFAULT_BASE_MS = 1000;
const DEFAULT_MAX_MS = 60 * 60 * 1000;

/**
 * Milliseconds to wait before the next attempt after `failures` failed attempts:
 * exponential (base * 2^(failures-1), capped) with "equal jitter" (half fixed, half random),
 * so a burst of jobs that failed together does not retry in lockstep.
 */
export function retryDelay(backoff: Backoff | undefined, failures: number, error: unknown): number {
  if (typeof backoff === 'function') {
    const ms = Number(backoff(failures, error));
    return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
  }
  const base = backoff?.baseDelay ?? DEFAULT_BASE_MS;
  const max = backoff?.maxDelay ?? DEFAULT_MAX_MS;
  const exp = Math.min(max, base * 2 ** Math.min(failures - 1, 40));
  if (backoff?.jitter === false) return Math.round(exp);
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}
