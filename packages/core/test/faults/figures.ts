import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  afterAll,
  expect,
  inject,
  onTestFinished,
  type RunnerTask,
  type RunnerTestSuite,
  TestRunner,
} from 'vitest';
import '@queue/test-utils';

export interface Figure {
  /** The scenario's number in the fault list. */
  scenario: number;
  name: string;
  /** The measured figure, e.g. "lost 0, run twice 0, recovered in 212 ms". */
  figure: string;
  /**
   * @deprecated Ignored. The table's pass/FAIL is the outcome vitest gives the test that
   * recorded the figure, not a flag computed beside its assertions.
   */
  pass?: boolean;
}

/**
 * One line of the figures file (read by printFaultTable in @queue/test-utils' global setup):
 * a figure, written when it is recorded, or the outcome of the test that recorded it, written
 * when vitest has decided it. Both carry the same `key`.
 */
export type FigureLine =
  | { kind: 'figure'; key: string; scenario: number; name: string; figure: string; test: string }
  | { kind: 'outcome'; key: string; state: string };

/** Figures recorded outside a test (in an afterAll), waiting for their file's outcome. */
const outsideTests: string[] = [];

function append(line: FigureLine): void {
  // The run's global setup names the file; its teardown prints the table.
  const file = inject('faultFiguresFile');
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/**
 * Records a scenario's figure for the end-of-run table. Call it with the values the test then
 * asserts on, before the assertions, so that the table shows what was measured even when an
 * assertion fails. The row's pass/FAIL is the outcome of the test that called it, as vitest
 * reports it once the test has finished (its assertions, afterEach hooks and timeout
 * included). Called from an afterAll hook, the row takes its file's outcome: pass only when
 * every test in the file passed.
 */
export function recordFigure({ scenario, name, figure }: Figure): void {
  const test = TestRunner.getCurrentTest();
  const key = randomUUID();
  const where = test ? (expect.getState().currentTestName ?? test.name) : '(afterAll)';
  append({ kind: 'figure', key, scenario, name, figure, test: where });
  if (test)
    onTestFinished(({ task }) => append({ kind: 'outcome', key, state: task.result?.state ?? 'none' }));
  else outsideTests.push(key);
}

// Registered when a test file imports this module, so before the file's own afterAll hooks;
// vitest runs afterAll hooks in reverse order ("stack"), so this one runs after them and sees
// the figures they recorded. Were it to run first, those rows would show no outcome, never pass.
// biome-ignore lint/correctness/noEmptyPattern: vitest requires a destructuring pattern for the hook's context.
afterAll(({}, file) => {
  const state = fileOutcome(file);
  for (const key of outsideTests.splice(0)) append({ kind: 'outcome', key, state });
});

function fileOutcome(suite: Readonly<RunnerTestSuite>): string {
  const states: string[] = [];
  const walk = (tasks: RunnerTask[]) => {
    for (const t of tasks) {
      if (t.type === 'suite') walk(t.tasks);
      else states.push(t.result?.state ?? 'none');
    }
  };
  walk(suite.tasks);
  if (states.length === 0 || states.includes('fail')) return 'fail';
  return states.every((s) => s === 'pass' || s === 'skip') && states.includes('pass') ? 'pass' : 'fail';
}
