// `queue list`: filters, keyset paging by the printed cursor, plain / table / JSON output.
import { type Job, Queue, silentLogger } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../src/context.js';
import { run } from '../src/run.js';
import { queueCli, type Result } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue;
/** The jobs of queue 'lq', oldest first: a0 a1 b2(failed) a3(scheduled) b4. */
let jobs: Job[];
let failedId: string;

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  jobs = [];
  for (const [i, task] of ['a', 'a', 'b', 'a', 'b'].entries()) {
    jobs.push(await queue.enqueue(task, { i }, { queue: 'lq', ...(i === 3 ? { delay: 3_600_000 } : {}) }));
  }
  await queue.enqueue('a', {}, { queue: 'other' });
  failedId = jobs[2]!.id;
  const longError = `${'disk full; '.repeat(40)}\tend`;
  await db.query(
    `UPDATE queue.jobs SET failed_at = now(), attempts = 3, max_attempts = 3,
       errors = jsonb_build_array(jsonb_build_object('attempt', 3, 'at', now(), 'message', $2::text))
     WHERE id = $1`,
    [failedId, longError],
  );
});
afterAll(() => queue.close());

const ids = (r: Result) => (JSON.parse(r.stdout) as { id: string }[]).map((j) => j.id);
const id = (i: number) => jobs[i]!.id;

/** The next-page command a listing printed, as arguments for the CLI. */
function nextPageArgs(text: string): string[] | undefined {
  const m = /^next page: queue (.*)$/m.exec(text);
  return m ? m[1]!.split(' ') : undefined;
}

describe('queue list', () => {
  it('filters by queue, state and task, newest first, as one JSON array', async () => {
    const all = await queueCli(['list', '--queue', 'lq', '--json'], env());
    expect(all.code, all.stderr).toBe(0);
    expect(ids(all)).toEqual([id(4), id(3), id(2), id(1), id(0)]);
    expect(JSON.parse(all.stdout)[0]).toMatchObject({ id: id(4), task: 'b', queue: 'lq', payload: { i: 4 } });
    expect(all.stderr).toBe(''); // fewer than a page: no next page

    const failed = await queueCli(['list', '--queue', 'lq', '--state', 'failed', '--json'], env());
    expect(JSON.parse(failed.stdout)).toEqual([
      expect.objectContaining({ id: failedId, state: 'failed', attempts: 3, maxAttempts: 3 }),
    ]);
    const scheduled = await queueCli(['list', '--state', 'scheduled', '--json'], env());
    expect(ids(scheduled)).toEqual([id(3)]);
    const tasks = await queueCli(['list', '--queue', 'lq', '--task', 'b', '--order', 'asc', '--json'], env());
    expect(ids(tasks)).toEqual([id(2), id(4)]);
  });

  it('pages newest first by the --cursor it prints, to the end', async () => {
    const seen: string[] = [];
    let args: string[] | undefined = ['list', '--queue', 'lq', '--limit', '2'];
    const hints: string[] = [];
    while (args) {
      const r: Result = await queueCli(args, env());
      expect(r.code, r.stderr).toBe(0);
      // Piped: one tab-separated line per job on stdout, the next-page hint on stderr.
      const lines = r.stdout.split('\n').filter(Boolean);
      for (const line of lines) seen.push(line.split('\t')[0]!);
      hints.push(r.stderr.trim());
      args = nextPageArgs(r.stderr);
    }
    expect(seen).toEqual([id(4), id(3), id(2), id(1), id(0)]);
    expect(hints).toHaveLength(3);
    for (const hint of hints.slice(0, 2))
      expect(hint).toMatch(/^next page: queue list --queue lq --limit 2 --cursor [\w-]+$/);
    expect(hints[2]).toBe('');
  });

  it('still takes --before <id>, and pages on by cursor', async () => {
    const r = await queueCli(['list', '--queue', 'lq', '--limit', '2', '--before', id(3), '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(ids(r)).toEqual([id(2), id(1)]);
    const next = await queueCli(nextPageArgs(r.stderr)!, env());
    expect(ids(next)).toEqual([id(0)]);
  });

  it('pages oldest first: the cursor keeps the order', async () => {
    const first = await queueCli(
      ['list', '--queue', 'lq', '--order', 'asc', '--limit', '3', '--json'],
      env(),
    );
    expect(ids(first)).toEqual([id(0), id(1), id(2)]);
    expect(first.stderr.trim()).toMatch(
      /^next page: queue list --queue lq --limit 3 --json --cursor [\w-]+$/,
    );
    const second = await queueCli(nextPageArgs(first.stderr)!, env());
    expect(ids(second)).toEqual([id(3), id(4)]);
    expect(second.stderr).toBe('');
  });

  it('prints plain tab-separated columns when piped', async () => {
    const r = await queueCli(['list', '--queue', 'lq', '--state', 'failed'], env());
    const fields = r.stdout.trimEnd().split('\t');
    const [row] = await db.query<{ failed_at: Date }>('SELECT failed_at FROM queue.jobs WHERE id = $1', [
      failedId,
    ]);
    expect(fields.slice(0, 6)).toEqual([failedId, 'failed', 'lq', 'b', '3/3', row!.failed_at.toISOString()]);
    // The last error on one line (its tab became a space), cut at 200 characters.
    expect(fields).toHaveLength(7);
    expect(fields[6]).toHaveLength(200);
    expect(fields[6]).toMatch(/^disk full; disk full; .*…$/);
    const available = await queueCli(['list', '--queue', 'lq', '--state', 'available', '--task', 'a'], env());
    expect(available.stdout).toBe(
      [1, 0].map((i) => `${id(i)}\tavailable\tlq\ta\t0/25\t${jobs[i]!.runAt.toISOString()}\t`).join('\n') +
        '\n',
    );
  });

  it('prints a table that fits the terminal, with the next page on stdout', async () => {
    let out = '';
    let err = '';
    const ctx: CliContext = {
      env: env(),
      cwd: process.cwd(),
      out: (t) => (out += `${t}\n`),
      err: (t) => (err += `${t}\n`),
      isTTY: true,
      columns: 90,
    };
    expect(await run(['list', '--queue', 'lq', '--limit', '4'], ctx)).toBe(0);
    expect(err).toBe('');
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +STATE +QUEUE +TASK +ATTEMPTS +RUN\/FAILED AT +LAST ERROR$/);
    expect(lines).toHaveLength(6); // header, 4 jobs, next page
    for (const line of lines.slice(0, 5)) expect(line.length).toBeLessThanOrEqual(90);
    const failedLine = lines.find((l) => l.includes(' failed '))!;
    expect(failedLine).toHaveLength(90);
    expect(failedLine).toMatch(/ 3\/3 {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}disk full; .*…$/);
    expect(lines[5]).toMatch(/^next page: queue list --queue lq --limit 4 --cursor [\w-]+$/);

    out = '';
    expect(await run(['list', '--queue', 'no-such-queue'], ctx)).toBe(0);
    expect(out).toBe('no jobs match\n');
  });

  it('exits 2 naming the flag for a bad value, before connecting', async () => {
    // No DATABASE_URL: a usage error must come first.
    const cases: [string[], string][] = [
      [
        ['--state', 'done'],
        '--state must be one of available, scheduled, running, failed, completed, cancelled, got "done"',
      ],
      [['--limit', '1001'], '--limit must be a whole number from 1 to 1000, got "1001"'],
      [['--order', 'up'], '--order must be one of asc, desc, got "up"'],
      [['--before', '0'], '--before must be a job id'],
      [['--after', '5', '--order', 'desc'], '--after pages oldest first'],
      [['--bogus'], "Unknown option '--bogus'"],
      [['--search', 'nope'], '--search is not valid JSON at line 1, column 2: '],
      [
        ['--search', '[1]'],
        `--search must be a non-empty JSON object, e.g. --search '{"userId":42}', got "[1]"`,
      ],
      [['--search', '{}'], '--search must be a non-empty JSON object'],
      [['--meta', '{"a":'], '--meta is not valid JSON (it ends too soon)'],
      [['--tag', ''], '--tag must be 1 to 64 characters, got ""'],
      [['--tag', 'x'.repeat(65)], '--tag must be 1 to 64 characters'],
      [['--cursor', 'not a cursor'], '--cursor must be the cursor a previous'],
      [['--cursor', 'abc', '--before', '5'], 'give --cursor or --before/--after, not both'],
      [
        ['--state', 'completed', '--before', '5'],
        '--before and --after page live jobs by id; page completed jobs with the --cursor a listing prints',
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(['list', ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
      expect(r.stderr.split('\n')).toHaveLength(2); // one line
    }
  });

  it('exits 3 with one line when the database cannot be reached', async () => {
    const r = await queueCli(['list'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope' });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('queue: cannot connect to the database (127.0.0.1:1/nope): connection refused\n');
  });
});
