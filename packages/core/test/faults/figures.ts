import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where fault scenarios append their figures; the test run's global teardown prints them as a table. */
export const FIGURES_FILE = fileURLToPath(new URL('../../../../test-results/faults.jsonl', import.meta.url));

export interface Figure {
  /** The scenario's number in the fault list (1-18). */
  scenario: number;
  name: string;
  /** The measured figure, e.g. "lost 0, run twice 0, recovered in 212 ms". */
  figure: string;
  pass: boolean;
}

/**
 * Records a scenario's figure. Call it with the values the test then asserts on, so the
 * table shows what was measured even when an assertion fails.
 */
export function recordFigure(figure: Figure): void {
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ ...figure, at: new Date().toISOString() })}\n`);
}
