/**
 * Reading what the namespaced worker processes printed (fixtures/netns-worker.ts): lines
 * after a point, the n-th line of a kind, and whether two hosts ever ran a job at once.
 */
import type { Spawned } from './process-kit.js';

/** When the first line from index `from` on that starts with `prefix` (and holds `text`) arrived. */
export async function lineAfter(
  s: Spawned,
  from: number,
  prefix: string,
  what: string,
  text = '',
  timeoutMs = 30_000,
): Promise<number> {
  // line() tests every line once, in order (those printed already, then the new ones).
  let index = 0;
  let found = -1;
  await withTail(
    s,
    s.line(
      (l) => {
        const i = index++;
        if (i < from || !l.startsWith(prefix) || !l.includes(text)) return false;
        found = i;
        return true;
      },
      what,
      timeoutMs,
    ),
  );
  return s.times[found]!;
}

/** When the n-th line starting with `prefix` arrived. */
export async function nthLine(s: Spawned, prefix: string, n: number, what: string, timeoutMs = 30_000) {
  let seen = 0;
  let found = -1;
  let index = 0;
  await withTail(
    s,
    s.line(
      (l) => {
        const i = index++;
        if (!l.startsWith(prefix) || ++seen < n) return false;
        found = i;
        return true;
      },
      what,
      timeoutMs,
    ),
  );
  return s.times[found]!;
}

/** A wait that, when it fails, says what the process printed last (its story so far). */
async function withTail<T>(s: Spawned, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (error) {
    const t0 = s.times[0] ?? 0;
    const tail = s.lines
      .map((l, i) => `  +${Math.round(s.times[i]! - t0)} ms ${l}`)
      .filter((l) => !l.includes(' claimed 0'))
      .slice(-25);
    throw new Error(`${(error as Error).message}\nlast lines of pid ${s.pid}:\n${tail.join('\n')}`);
  }
}

export interface Run {
  pid: number;
  id: string;
  start: number;
  /** Infinity while it runs still. */
  end: number;
}

/**
 * The runs of jobs in a worker process. A run starts with its `started` event and ends with
 * the job's next completed/retried/failed event in that process, or when that process lost
 * its claimer (an `error` event: every handler is aborted then); a run with neither is still
 * going. Times are when the test read the lines.
 */
export function runsOf(p: Spawned): Run[] {
  const events = p.events();
  return events.flatMap((s, i) => {
    if (s.event !== 'started') return [];
    const end = events
      .slice(i + 1)
      .find(
        (e) =>
          e.event === 'error' ||
          (e.id === s.id && (e.event === 'completed' || e.event === 'retried' || e.event === 'failed')),
      );
    return [{ pid: p.pid, id: s.id!, start: s.at!, end: end?.at ?? Number.POSITIVE_INFINITY }];
  });
}

/** Runs of one job by two processes at the same time (see runsOf). */
export function concurrentRuns(processes: Spawned[]): { id: string; overlapMs: number }[] {
  const runs = processes.flatMap(runsOf);
  const overlaps: { id: string; overlapMs: number }[] = [];
  for (const r of runs) {
    for (const o of runs) {
      if (o.pid === r.pid || o.id !== r.id || o.start < r.start || o.start >= r.end) continue;
      overlaps.push({ id: r.id, overlapMs: Math.min(r.end, performance.now()) - o.start });
    }
  }
  return overlaps;
}
