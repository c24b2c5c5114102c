import { accessSync, constants } from 'node:fs';

/**
 * Programs some tests drive (installed by `scripts/test-prereqs.mjs` when the test command
 * can). A test never skips because one is missing: it fails with the fix, unless the
 * prerequisite's opt-out variable is set to 1, which the run's summary then names.
 */
export interface Prerequisite {
  /** What needs it, for titles and messages. */
  what: string;
  /** Set to 1 to skip the tests that need it. */
  optOut: string;
  /** The command or setting that fixes it. */
  fix: string;
  /** Where the program is, or undefined. */
  locate(): string | undefined;
}

export const PGBOUNCER: Prerequisite = {
  what: 'PgBouncer',
  optOut: 'QUEUE_TEST_SKIP_PGBOUNCER',
  fix: 'apt-get install pgbouncer (the test command does it when run as root on Debian)',
  locate: () => firstExecutable(['/usr/sbin/pgbouncer', ...onPath('pgbouncer')]),
};

export const CHROMIUM: Prerequisite = {
  what: 'Chromium',
  optOut: 'QUEUE_TEST_SKIP_BROWSER',
  fix: 'apt-get install chromium (the test command does it when run as root on Debian), or set CHROMIUM_PATH',
  locate: () =>
    process.env.CHROMIUM_PATH
      ? firstExecutable([process.env.CHROMIUM_PATH])
      : firstExecutable(['/usr/bin/chromium', ...onPath('chromium')]),
};

export function optedOut(p: Prerequisite): boolean {
  return process.env[p.optOut] === '1';
}

/** A describe-block title that says when, and why, its tests are skipped. */
export function titleWithOptOut(title: string, p: Prerequisite): string {
  return optedOut(p) ? `${title} (skipped: ${p.optOut}=1)` : title;
}

/** The program's path; throws the fix when it is missing (call it where the test needs it). */
export function requirePrerequisite(p: Prerequisite): string {
  const path = p.locate();
  if (path) return path;
  throw new Error(`${p.what} is not installed: ${p.fix}; or set ${p.optOut}=1 to skip these tests`);
}

/** The opt-out variables set for this run, for the summary. */
export function optOutsInEffect(): string[] {
  return Object.keys(process.env)
    .filter((k) => k.startsWith('QUEUE_TEST_SKIP_') && process.env[k] === '1')
    .sort();
}

function onPath(name: string): string[] {
  return (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((dir) => `${dir}/${name}`);
}

function firstExecutable(paths: string[]): string | undefined {
  return paths.find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
