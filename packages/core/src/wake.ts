import { MAX_TIMER_MS } from './options.js';
import type { QueueState } from './worker-state.js';

/**
 * One timer for the earliest known scheduled job, so it starts on time rather than at the
 * next poll. Arming it for a later time than the one armed does nothing.
 */
export class DueTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Number.POSITIVE_INFINITY;

  constructor(private readonly fire: () => void) {}

  arm(delayMs: number): void {
    const at = Date.now() + Math.min(delayMs, MAX_TIMER_MS);
    if (at >= this.at) return;
    clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => {
      this.at = Number.POSITIVE_INFINITY;
      this.fire();
    }, at - Date.now());
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.at = Number.POSITIVE_INFINITY;
  }
}

/** Jobs may be due in this queue: a wake-up, a poll or a full claim said so. */
export function markDirty(q: QueueState): void {
  q.dirty = true;
  q.wakes++;
}

/**
 * The next queue to claim for, round-robin from `start` so that one busy queue cannot starve
 * the others: the first with possibly due jobs and a free slot. Returns it and the next start.
 */
export function pickQueue(
  list: QueueState[],
  start: number,
): { queue: QueueState; next: number } | undefined {
  for (let i = 0; i < list.length; i++) {
    const queue = list[(start + i) % list.length]!;
    if (queue.dirty && queue.running < queue.concurrency)
      return { queue, next: (start + i + 1) % list.length };
  }
  return undefined;
}
