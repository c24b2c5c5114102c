import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useEmptyDatabase, waitFor } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Run {
  child: ChildProcess;
  output: () => string;
  /** 'code N' or the signal's name. */
  exited: Promise<string>;
}

/** Runs the built demo (what `pnpm demo` runs) as a real process, stdout a pipe as in CI. */
function runDemo(databaseUrl: string, env: Record<string, string>, args: string[] = []): Run {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (pnpm test builds; or pnpm build)`);
  const { DEMO_DASHBOARD: _d, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...inherited, DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  return { child, output: () => output, exited };
}

const num = (s: string | undefined) => Number(s!.replaceAll(',', ''));

function match(output: string, re: RegExp): RegExpExecArray {
  const m = re.exec(output);
  if (!m) throw new Error(`no line matching ${re} in the output:\n${output}`);
  return m;
}

/** The process is gone (not a zombie we could still signal). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

// Small sizes keep the run short; the story is the same as the default's.
const SMALL = { SIGNUPS: '400', JOBS: '2000' };

describe('the main demo', () => {
  const db = useEmptyDatabase();

  async function expectCleanedUp(pid: number): Promise<void> {
    const schema = `queue_demo_${pid}`;
    expect(await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
    const sessions = await db.query(
      'SELECT application_name FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [db.name],
    );
    expect(sessions).toEqual([]);
  }

  it('tells the story: every guaranteed job done after a SIGKILL, geocode promises lost, figures from Postgres', async () => {
    const run = runDemo(db.url, SMALL);
    const exit = await run.exited;
    const out = run.output();
    expect(exit, out).toBe('code 0');

    const signups = match(
      out,
      /signups committed\s+([\d,]+)\/([\d,]+) \(([\d,]+) by app v1, ([\d,]+) by app v2\)/,
    );
    expect(num(signups[1])).toBe(400);
    expect(num(signups[2])).toBe(400);
    expect(num(signups[3]) + num(signups[4])).toBe(400);
    // The kill came halfway: both apps committed signups.
    expect(num(signups[3])).toBeGreaterThanOrEqual(200);
    expect(num(signups[4])).toBeGreaterThan(0);

    const [, done, due, ranAgain, lost] = match(
      out,
      /guaranteed jobs \(welcome email \+ CRM sync\)\s+done ([\d,]+)\/([\d,]+), ran again after the crash ([\d,]+), lost ([\d,]+)/,
    );
    expect(num(due)).toBe(800);
    expect(num(done)).toBe(800);
    expect(num(lost)).toBe(0);

    const [, geoDone, geoAll, geoLost, geoAll2] = match(
      out,
      /best-effort geocode promises\s+done ([\d,]+)\/([\d,]+), lost ([\d,]+)\/([\d,]+)/,
    );
    expect(num(geoAll)).toBe(400);
    expect(num(geoAll2)).toBe(400);
    expect(num(geoLost)).toBeGreaterThan(0);
    expect(num(geoDone) + num(geoLost)).toBe(400);
    // Every lost geocode was pending in v1 when it died; the graceful v2 lost none.
    const [, pending] = match(
      out,
      /are all of app v1's signups: [^\n]*\n\s*died \(([\d,]+) were pending then\)/,
    );
    expect(num(pending)).toBe(num(geoLost));
    expect(out).toContain(`${geoLost} geocode promises not done yet (in v1's memory)`);

    // Jobs that ran again: those v1 held. Those that had not done their work yet were
    // running, so at most v1's slots (APP_CONCURRENCY 16 per queue, two queues).
    const twice = num(/(\d[\d,]*) of them had done (?:its|their) work/.exec(out)?.[1] ?? '0');
    expect(twice).toBeLessThanOrEqual(num(ranAgain));
    expect(num(ranAgain) - twice).toBeLessThanOrEqual(32);

    const [, enqueued] = match(
      out,
      /throughput burst: enqueue\s+([\d,]+) jobs in [\d.]+ s = ([\d,]+) jobs\/s/,
    );
    expect(num(enqueued)).toBe(2000);
    const [, drained, rate] = match(
      out,
      /throughput burst: drain\s+([\d,]+) jobs in [\d.]+ s = ([\d,]+) jobs\/s/,
    );
    expect(num(drained)).toBe(2000);
    expect(num(rate)).toBeGreaterThan(0);
    expect(out).not.toContain('MISSING');

    // Off a terminal, the progress bars print every 2 s, not on every update.
    expect(out.split('\n').length).toBeLessThan(150);

    // No app process outlives the demo; its schema is dropped and its sessions closed.
    const pids = [...out.matchAll(/app v[12] \(pid (\d+)\) starts/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(gone(pid), `app pid ${pid} still exists`).toBe(true);
    await expectCleanedUp(run.child.pid!);
  });

  it('with --dashboard, serves the dashboard behind a printed password until Ctrl-C, then cleans up', async () => {
    const run = runDemo(db.url, { ...SMALL, DASHBOARD_PORT: '0' }, ['--dashboard']);
    try {
      const [, url, user, password] = await waitFor(
        'the dashboard line',
        () => /Dashboard: (\S+)\s+\(user "(\S+)", password "(\S+)"\)/.exec(run.output()),
        { timeoutMs: 150_000 },
      );
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(password!.length).toBeGreaterThanOrEqual(16);
      expect((await fetch(url!)).status).toBe(401);
      const auth = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
      const res = await fetch(`${url}api/overview`, { headers: auth });
      expect(res.status).toBe(200);
      // The story's queues are there to look at.
      expect(JSON.stringify(await res.json())).toContain('emails');
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited, run.output()).toBe('code 0');
    await expectCleanedUp(run.child.pid!);
  });

  it('refuses a bad setting with a message naming it, before starting anything', async () => {
    const run = runDemo(db.url, { SIGNUPS: 'lots' });
    expect(await run.exited).toBe('code 2');
    expect(run.output()).toContain('SIGNUPS must be a whole number from 20 to 1000000, got "lots"');
    const flag = runDemo(db.url, {}, ['--dashbord']);
    expect(await flag.exited).toBe('code 2');
    expect(flag.output()).toContain('unknown argument "--dashbord"');
  });
});
