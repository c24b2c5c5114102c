const numberFormat = new Intl.NumberFormat('en');

export function num(n: number): string {
  return numberFormat.format(n);
}

/** "1h 4m", "12s": the two largest units. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return d < 365 ? `${d}d ${h % 24}h` : `${Math.floor(d / 365)}y ${d % 365}d`;
}

/** How long something has run: tenths of a second below 10 s ("0.4s"), then as duration(). */
export function elapsed(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, Math.floor(ms / 100)) / 10).toFixed(1)}s`;
  return duration(ms);
}

/** How long a finished job ran: milliseconds below a second ("12 ms", "<1 ms"), then as elapsed(). */
export function runTime(ms: number): string {
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return elapsed(ms);
}

/** "3m ago" / "in 5m", relative to the server's clock as of the last response. */
export function relative(iso: string | null | undefined, serverNow: number): string {
  if (!iso) return '—';
  const diff = new Date(iso).getTime() - serverNow;
  if (Math.abs(diff) < 1000) return 'now';
  return diff < 0 ? `${duration(-diff)} ago` : `in ${duration(diff)}`;
}

export function absolute(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** Pretty-printed JSON for display in a <pre> (as text). */
export function pretty(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A running job's worker: "worker web-1 pid 4242", or its session's backend pid when it registered no row. */
export function workerLabel(worker: { host: string | null; pid: number | null }, backendPid: number): string {
  return worker.host !== null && worker.pid !== null
    ? `worker ${worker.host} pid ${worker.pid}`
    : `backend pid ${backendPid}`;
}

/** The details behind workerLabel, for a tooltip: backend pid, session name, address. */
export function sessionDetails(
  worker: { applicationName: string | null; clientAddr: string | null },
  backendPid: number,
): string {
  return [`backend pid ${backendPid}`, worker.applicationName, worker.clientAddr].filter(Boolean).join(' · ');
}

/** A moment as a wall clock in an IANA zone ("Dec 1, 2026, 03:00:00 GMT+1"); the ISO text if the browser lacks the zone. */
export function inZone(iso: string, timeZone: string): string {
  try {
    return new Date(iso).toLocaleString('en', {
      timeZone,
      dateStyle: 'medium',
      timeStyle: 'long',
      hourCycle: 'h23',
    });
  } catch {
    return iso;
  }
}

/** An interval in the largest unit it is a whole number of: "500ms", "30s", "5m", "2h", "1d". */
export function interval(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
