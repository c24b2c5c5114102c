/** Text helpers for the human-readable output of show, list and stats. */

/** A length of time, short: "850 ms", "12.3 s", "4m 05s", "2h 10m", "3d 4h". */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(1)} s`;
  const s = Math.floor(abs / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** "in 5m 00s" or "3.2 s ago", relative to this machine's clock. */
export function relative(date: Date, now = Date.now()): string {
  const ms = date.getTime() - now;
  return ms >= 0 ? `in ${duration(ms)}` : `${duration(ms)} ago`;
}

/** An ISO time with its distance from now, or "-" for none: "2025-01-02T10:00:00.000Z (3.2 s ago)". */
export function when(date: Date | null, now = Date.now()): string {
  return date ? `${date.toISOString()} (${relative(date, now)})` : '-';
}

/** A time to the second, for table cells: "2025-01-02 10:00:05Z". */
export function shortTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** One line of at most `width` characters: whitespace runs become one space, cut with "…". */
export function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= width) return flat;
  return width <= 1 ? flat.slice(0, width) : `${flat.slice(0, width - 1)}…`;
}

/**
 * An aligned table. Columns in `right` are right-aligned; the last column is cut so that
 * every line fits `width` characters (when given), since it holds free text (an error).
 */
export function table(header: string[], rows: string[][], width?: number, right = new Set<number>()): string {
  const last = header.length - 1;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  if (width !== undefined) {
    const fixed = widths.slice(0, last).reduce((a, b) => a + b + 2, 0);
    widths[last] = Math.max(header[last]!.length, Math.min(widths[last]!, width - fixed));
  }
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const cell = i === last ? oneLine(c, widths[i]!) : c;
        return right.has(i) ? cell.padStart(widths[i]!) : i === last ? cell : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A word as a POSIX shell reads it back: bare when safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
