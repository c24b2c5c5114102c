import { QueueError } from '@queue/core';

/** A demo setting (a flag or an environment variable) is invalid. */
export class DemoOptionError extends QueueError {
  constructor(message: string) {
    super('DEMO_OPTION', message);
  }
}

/** The story went wrong: an app died on its own, or something took far longer than it should. */
export class DemoFailedError extends QueueError {
  constructor(message: string) {
    super('DEMO_FAILED', message);
  }
}

export interface DemoOptions {
  /** Signups in the story (SIGNUPS). */
  signups: number;
  /** Signups in flight at once in the app (SIGNUP_CONCURRENCY). */
  signupConcurrency: number;
  /** The app's worker: jobs at once per queue, 'emails' and 'crm' (APP_CONCURRENCY). */
  appConcurrency: number;
  /** Jobs in the throughput burst (JOBS). */
  jobs: number;
  /** The throughput worker's concurrency (CONCURRENCY). */
  concurrency: number;
  /** Seconds the story may take before the demo gives up and reports what is missing (STORY_TIMEOUT). */
  storyTimeout: number;
  /** Keep serving the dashboard after the story (--dashboard or DEMO_DASHBOARD=1). */
  dashboard: boolean;
  /** Port for the dashboard (DASHBOARD_PORT); 0 picks a free one. */
  dashboardPort: number;
}

const USAGE =
  'usage: pnpm demo [-- --dashboard]; settings by environment: SIGNUPS, SIGNUP_CONCURRENCY, ' +
  'APP_CONCURRENCY, JOBS, CONCURRENCY, STORY_TIMEOUT, DASHBOARD_PORT, DEMO_DASHBOARD=1';

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): DemoOptions {
  let dashboard = flag(env, 'DEMO_DASHBOARD');
  for (const arg of argv) {
    if (arg === '--') continue; // pnpm may pass its separator through
    if (arg === '--dashboard') dashboard = true;
    else throw new DemoOptionError(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
  }
  return {
    signups: int(env, 'SIGNUPS', 1_000, 20, 1_000_000),
    signupConcurrency: int(env, 'SIGNUP_CONCURRENCY', 8, 1, 100),
    appConcurrency: int(env, 'APP_CONCURRENCY', 16, 1, 100),
    jobs: int(env, 'JOBS', 10_000, 1, 10_000_000),
    concurrency: int(env, 'CONCURRENCY', 32, 1, 1_000),
    storyTimeout: int(env, 'STORY_TIMEOUT', 120, 5, 3_600),
    dashboard,
    dashboardPort: int(env, 'DASHBOARD_PORT', 4100, 0, 65_535),
  };
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DemoOptionError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}; unset it for the default (${fallback})`,
    );
  }
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new DemoOptionError(`${name} must be 1 or 0, got ${JSON.stringify(raw)}`);
}
