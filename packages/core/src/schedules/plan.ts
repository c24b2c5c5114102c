import type { Timing } from './timing.js';

/** What to do with ticks missed while no scheduler ran: see CatchUp in spec.ts. */
export type CatchUpRule = { policy: 'skip' } | { policy: 'once' } | { policy: 'each'; max: number };

/**
 * How late the latest due tick may be and still count as on time, so that a scheduler that
 * wakes a little late (a busy event loop, a slow statement, a worker restarting) never skips
 * it under 'skip'. Later than this, the tick was missed.
 */
export const LATE_GRACE_MS = 60_000;

/** One scheduler pass over one due schedule. */
export interface TickPlan {
  /** The ticks to insert a job for, oldest first (none when 'skip' drops them all). */
  fire: Date[];
  /** The schedule's next tick: the first one after `now`. */
  next: Date;
  /** Under 'once' after missed ticks: the earliest tick its one job stands for. */
  missedFrom: Date | null;
}

/**
 * Decides which of a schedule's due ticks get a job, from its current tick (its next_run_at,
 * due: at or before `now`) and the database's `now`. The due ticks run from `current` to the
 * latest tick at or before `now`; the latest is on time if it is at most LATE_GRACE_MS old, the
 * others were missed.
 *   skip  a job for the latest tick if it is on time, none for missed ones
 *   once  one job for the latest tick, standing for every due tick (`missedFrom`)
 *   each  a job for each of the latest `max` due ticks
 * In normal running exactly one tick is due and on time, and every policy fires it.
 *
 * Pure: two processes planning from the same row and `now` agree, and a process whose own
 * clock is wrong plans exactly as one whose clock is right, because it never reads its clock.
 */
export function planTicks(timing: Timing, rule: CatchUpRule, current: Date, now: Date): TickPlan | null {
  if (current > now) return null;
  const following = timing.after(current);
  if (!following) throw new Error('the expression has no tick after the current one');
  if (following > now) {
    // The common case: one due tick.
    const late = now.getTime() - current.getTime() > LATE_GRACE_MS;
    return { fire: rule.policy === 'skip' && late ? [] : [current], next: following, missedFrom: null };
  }
  const next = timing.after(now);
  if (!next) throw new Error('the expression has no tick after now');
  const due = timing.latest(rule.policy === 'each' ? rule.max : 1, current, now).reverse();
  const latest = due[due.length - 1] ?? current;
  switch (rule.policy) {
    case 'skip':
      return {
        fire: now.getTime() - latest.getTime() > LATE_GRACE_MS ? [] : [latest],
        next,
        missedFrom: null,
      };
    case 'once':
      return { fire: [latest], next, missedFrom: current };
    case 'each':
      return { fire: due, next, missedFrom: null };
  }
}
