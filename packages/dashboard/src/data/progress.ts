import { clip } from './preview.js';

/** Characters of a progress value a page shows: core caps a value at 1 KB, lists need less. */
export const PROGRESS_PREVIEW = 120;

/**
 * A running job's last `ctx.progress()` value, ready to show. A number from 0 to 100 is read
 * as a percentage (`percent`, drawn as a bar); any other number is a count, shown as text;
 * anything else is compact JSON cut to a preview. Null when the handler reported nothing.
 */
export interface ProgressView {
  percent: number | null;
  text: string;
}

export function progressView(value: unknown): ProgressView | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (value >= 0 && value <= 100) return { percent: value, text: `${trim(value)}%` };
    return { percent: null, text: trim(value) };
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return { percent: null, text: clip(text, PROGRESS_PREVIEW) };
}

/** At most one decimal: 33.333… reads 33.3, 42 reads 42. */
function trim(n: number): string {
  return String(Math.round(n * 10) / 10);
}
