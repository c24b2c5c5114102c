import type { Job } from '../types.js';

/** The tick a scheduled job stands for (`ctx.scheduledAt`), from the meta the scheduler wrote. */
export function scheduledAtOf(job: Job): Date | undefined {
  const at = job.meta?.scheduledAt;
  if (typeof at !== 'string' || typeof job.meta.schedule !== 'string') return undefined;
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
