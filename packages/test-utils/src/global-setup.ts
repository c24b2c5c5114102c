import { startPostgres, withDatabase } from '@queue/dev-postgres';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
// Core's source by path, not as a package: core's own tests depend on this package.
import { Queue } from '../../core/src/index.js';
import './context.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { optOutsInEffect } from './prerequisites.js';

/**
 * Fault scenarios append their figures here (see packages/core/test/faults/figures.ts); one
 * file per run, so that two runs at once do not wipe each other's figures.
 */
const FIGURES = fileURLToPath(new URL(`../../../test-results/faults-${process.pid}.jsonl`, import.meta.url));

/** A line of the figures file, as packages/core/test/faults/figures.ts writes it. */
type FigureLine =
  | { kind: 'figure'; key: string; scenario: number; name: string; figure: string; test: string }
  | { kind: 'outcome'; key: string; state: string };

/**
 * The fault table: one row per recorded figure. Its result is the outcome vitest gave the test
 * that recorded it (the last one written, should a retry write another): pass, FAIL, or
 * "none" when no outcome arrived (the test never finished), which is not a pass either.
 */
function printFaultTable(file = FIGURES): void {
  if (!existsSync(file)) return;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FigureLine);
  const outcomes = new Map<string, string>();
  for (const l of lines) if (l.kind === 'outcome') outcomes.set(l.key, l.state);
  const rows = lines
    .filter((l) => l.kind === 'figure')
    .map((f) => ({ ...f, result: result(outcomes.get(f.key)) }))
    .sort((a, b) => a.scenario - b.scenario);
  if (rows.length === 0) return;
  const w = Math.max(8, ...rows.map((r) => r.name.length));
  const table = rows.map(
    (r) => `${String(r.scenario).padStart(2)}  ${r.name.padEnd(w)}  ${r.result.padEnd(4)}  ${r.figure}`,
  );
  process.stdout.write(
    `\nFault scenarios\n #  ${'scenario'.padEnd(w)}  res   figure\n${table.join('\n')}\n\n`,
  );
}

const result = (state: string | undefined) =>
  state === 'pass' ? 'pass' : state === 'fail' ? 'FAIL' : (state ?? 'none');

/**
 * Runs once per `vitest run`: one Postgres for the whole run (DATABASE_URL when set,
 * otherwise an embedded one) and one migrated template database to clone per test file.
 */
export default async function setup(project: TestProject) {
  rmSync(FIGURES, { force: true });
  const server = await startPostgres({ unsafeFast: true });
  const template = `queue_template_${process.pid}`;
  const admin = new pg.Client(server.url);
  // A test that restarts or terminates sessions must not take the test runner down with it.
  admin.on('error', (error) => process.stderr.write(`[test] global setup's connection: ${error.message}\n`));
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${template}`);
    const queue = new Queue({ connectionString: withDatabase(server.url, template) });
    await queue.migrate();
    await queue.close();
  } catch (error) {
    await admin.end().catch(() => {});
    await server.stop();
    throw error;
  }
  project.provide('databaseUrl', server.url);
  project.provide('templateDatabase', template);
  project.provide('embedded', server.embedded);
  project.provide('faultFiguresFile', FIGURES);
  if (server.embedded) process.stdout.write(`[test] embedded Postgres at ${server.url}\n`);
  else process.stdout.write(`[test] Postgres from DATABASE_URL\n`);
  return guardTeardown(async () => {
    try {
      printFaultTable();
      const optOuts = optOutsInEffect();
      if (optOuts.length > 0) {
        process.stdout.write(
          `[test] opted out by the environment: ${optOuts.map((v) => `${v}=1`).join(', ')}\n`,
        );
      }
      await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {});
      await admin.end();
    } finally {
      await server.stop();
      rmSync(FIGURES, { force: true });
    }
  });
}

/**
 * Vitest logs an error thrown by a global teardown and still exits 0, and skips the
 * teardowns after it (which left the embedded Postgres running until a 10 s timeout). A
 * teardown wrapped here marks the run as failed instead. Use it for every global setup.
 */
export function guardTeardown(teardown: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    try {
      await teardown();
    } catch (error) {
      process.exitCode = 1;
      process.stderr.write(`[test] the global teardown failed: ${(error as Error)?.stack ?? error}\n`);
    }
  };
}
