import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type TestDatabase, useTestDatabase, waitFor } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';

/** Where a running main.ts said it serves. */
export interface MainUrls {
  /** The server's URL, from the line `listening` matches: http://localhost:1234 */
  origin: string;
  /** The dashboard's URL it printed: `${origin}/admin/queue/` */
  dashboard: string;
}

/** Runs main.ts with `env` until `use` is done, then SIGTERM; resolves with all it printed. */
export type WithMain = (
  env: Record<string, string>,
  use: (output: () => string, urls: MainUrls) => Promise<void>,
) => Promise<string>;

/** How a demo app's test file runs its main.ts (what `pnpm start` runs) in a child process. */
export interface DemoMainHarness {
  name: string;
  /** The app's directory, where main.ts runs (tsx reads the app's tsconfig.json from there). */
  appDir: URL;
  /** main.ts, relative to appDir: 'src/main.ts'. */
  main: string;
  /** Matches the line main.ts prints when the server listens; group 1 is the server's URL. */
  listening: RegExp;
  /** What the printed dashboard URL must look like, when the app fixes its host. */
  dashboardUrl?: RegExp;
  /** How main.ts ends after SIGTERM: 'code 0', or 'SIGTERM' when the signal is re-raised. */
  exit: 'code 0' | 'SIGTERM';
  /** The app's own tests of main.ts, run with the same database and runner. */
  moreTests?(context: { db: TestDatabase; withMain: WithMain }): void;
}

const basic = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
});

/** The tests of a demo app's main.ts: the dashboard credentials it makes or takes, and a clean exit. */
export function runDemoMainSuite(harness: DemoMainHarness): void {
  describe(`main.ts: ${harness.name}`, () => {
    const db = useTestDatabase();

    const withMain: WithMain = async (env, use) => {
      const { QUEUE_DASHBOARD_USER: _u, QUEUE_DASHBOARD_PASSWORD: _p, ...inherited } = process.env;
      const child = spawn(process.execPath, ['--import', 'tsx', harness.main], {
        cwd: fileURLToPath(harness.appDir),
        env: { ...inherited, DATABASE_URL: db.url, PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const exited = new Promise<string>((resolve) =>
        child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
      );
      try {
        const origin = await waitFor('the server to listen', () => harness.listening.exec(output)?.[1]);
        const dashboard = await waitFor(
          'the dashboard URL',
          () => /queue dashboard: (\S+)/.exec(output)?.[1],
        );
        if (harness.dashboardUrl) expect(dashboard).toMatch(harness.dashboardUrl);
        expect(dashboard).toBe(`${origin}/admin/queue/`);
        await use(() => output, { origin, dashboard });
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited, output).toBe(harness.exit);
      return output;
    };

    harness.moreTests?.({ db, withMain });

    it('with no QUEUE_DASHBOARD_* set, main.ts prints a generated password that opens the dashboard', async () => {
      await withMain({}, async (output, { dashboard }) => {
        const [, username, password] = await waitFor('the credentials', () =>
          /user (\S+), password (\S+) \(made for this run/.exec(output()),
        );
        expect(password!.length).toBeGreaterThanOrEqual(16);
        expect((await fetch(dashboard)).status).toBe(401);
        const res = await fetch(`${dashboard}api/overview`, { headers: basic(username!, password!) });
        expect(res.status).toBe(200);
      });
    });

    it('takes the credentials from QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD, and never prints the password', async () => {
      const env = { QUEUE_DASHBOARD_USER: 'ops', QUEUE_DASHBOARD_PASSWORD: 'from-the-environment' };
      await withMain(env, async (output, { dashboard }) => {
        await waitFor('the credentials line', () =>
          output().includes('password from QUEUE_DASHBOARD_PASSWORD'),
        );
        expect(output()).not.toContain(env.QUEUE_DASHBOARD_PASSWORD);
        expect((await fetch(dashboard, { headers: basic('ops', 'wrong') })).status).toBe(401);
        const res = await fetch(dashboard, { headers: basic('ops', env.QUEUE_DASHBOARD_PASSWORD) });
        expect(res.status).toBe(200);
      });
    });
  });
}
