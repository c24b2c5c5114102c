import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { inject } from 'vitest';
import '@queue/test-utils';

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
  // The run's global setup names the file; its teardown prints the table.
  const file = inject('faultFiguresFile');
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify({ ...figure, at: new Date().toISOString() })}\n`);
}
