// `queue list` over the history (--state completed/cancelled) and by tag and search, paged by
// the cursor it prints; `queue show` of a finished job. Jobs completed by a real worker.
import { type Job, Queue, silentLogger } from '@queue/core';
import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../src/context.js';
import { run } from '../src/run.js';
import { queueCli, type Result } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue;
/** Completed on queue 'hq' in this order: n = 0, 1, 2; job 1 tagged vip and eu, meta { userId: 7 }. */
let done: Job[];
/** Cancelled before it ran, on queue 'hq'. */
let cancelled: Job;
/** Live jobs on queue 'hl': tagged vip and 'a b'; payload { userId: 7 }; { userId: 8 }; both of the first two. */
let live: Job[];

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  done = [];
  for (const n of [0, 1, 2]) {
    done.push(
      await queue.enqueue(
        'sum',
        { n },
        { queue: 'hq', ...(n === 1 ? { tags: ['vip', 'eu'], meta: { userId: 7 } } : {}) },
      ),
    );
  }
  const runner = new Queue({
    connectionString: db.url,
    logger: silentLogger,
    tasks: { sum: async (p: { n: number }) => ({ total: p.n + 100 }) },
  });
  // One at a time, so the finish order is the enqueue order.
  const worker = runner.worker({ queues: { hq: 1 }, pollInterval: 50 });
  let n = 0;
  const all = nextEvent(worker, 'completed', () => ++n === done.length);
  await worker.start();
  await all;
  await runner.close();
  cancelled = await queue.enqueue('sum', { n: 9 }, { queue: 'hq' });
  await queue.cancelJob(cancelled.id);
  live = [
    await queue.enqueue('t', {}, { queue: 'hl', tags: ['vip', 'a b'] }),
    await queue.enqueue('t', { userId: 7 }, { queue: 'hl' }),
    await queue.enqueue('t', { userId: 8 }, { queue: 'hl' }),
    await queue.enqueue('t', { userId: 7 }, { queue: 'hl', tags: ['vip', 'a b'] }),
  ];
});
afterAll(() => queue.close());

const ids = (r: Result) => (JSON.parse(r.stdout) as { id: string }[]).map((j) => j.id);
const nextPageArgs = (text: string) => /^next page: queue (.*)$/m.exec(text)?.[1]?.split(' ');

describe('queue list over the history', () => {
  it('lists completed jobs newest first, with their results, as JSON', async () => {
    const r = await queueCli(['list', '--state', 'completed', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(ids(r)).toEqual([done[2]!.id, done[1]!.id, done[0]!.id]);
    expect(JSON.parse(r.stdout)[1]).toMatchObject({
      state: 'completed',
      outcome: 'completed',
      result: { total: 101 },
      tags: ['vip', 'eu'],
      meta: { userId: 7 },
    });
    const c = await queueCli(['list', '--state', 'cancelled', '--queue', 'hq', '--json'], env());
    expect(ids(c)).toEqual([cancelled.id]);
  });

  it('prints finished time, run time and result: tab-separated piped, a table on a terminal', async () => {
    const r = await queueCli(['list', '--state', 'completed', '--task', 'sum', '--limit', '1'], env());
    expect(r.code, r.stderr).toBe(0);
    const fields = r.stdout.trimEnd().split('\t');
    const finished = (await queue.getJob(done[2]!.id)) as unknown as { finishedAt: Date; startedAt: Date };
    expect(fields).toEqual([
      done[2]!.id,
      'completed',
      'hq',
      'sum',
      '1/25',
      finished.finishedAt.toISOString(),
      String(finished.finishedAt.getTime() - finished.startedAt.getTime()),
      '{"total":102}',
    ]);

    let out = '';
    const ctx: CliContext = {
      env: env(),
      cwd: process.cwd(),
      out: (t) => (out += `${t}\n`),
      err: () => {},
      isTTY: true,
      columns: 120,
    };
    expect(await run(['list', '--state', 'cancelled'], ctx)).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +STATE +QUEUE +TASK +ATTEMPTS +FINISHED AT +RAN FOR +RESULT$/);
    // Cancelled before it ran: no run time, no result.
    expect(lines[1]).toMatch(
      new RegExp(`^ *${cancelled.id} +cancelled +hq +sum +0/25 +[\\d-]+ [\\d:]+Z +-$`),
    );
  });

  it('pages the history by the cursor it prints, to the end', async () => {
    const seen: string[] = [];
    let args: string[] | undefined = [
      'list',
      '--state',
      'completed',
      '--queue',
      'hq',
      '--limit',
      '2',
      '--json',
    ];
    let pages = 0;
    while (args) {
      const r: Result = await queueCli(args, env());
      expect(r.code, r.stderr).toBe(0);
      seen.push(...ids(r));
      pages++;
      args = nextPageArgs(r.stderr);
      if (args)
        expect(args.slice(0, 8)).toEqual([
          'list',
          '--state',
          'completed',
          '--queue',
          'hq',
          '--limit',
          '2',
          '--json',
        ]);
    }
    expect(pages).toBe(2);
    expect(seen).toEqual([done[2]!.id, done[1]!.id, done[0]!.id]);
  });

  it('exits 2 for a cursor from another listing', async () => {
    const first = await queueCli(['list', '--state', 'completed', '--limit', '1'], env());
    const cursor = nextPageArgs(first.stderr)!.at(-1)!;
    const r = await queueCli(['list', '--state', 'failed', '--cursor', cursor], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass the same filters (state) as for the first page');
  });
});

describe('queue list by tag and search', () => {
  it('filters by one tag or several (jobs having all), live and finished', async () => {
    const vip = await queueCli(['list', '--tag', 'vip', '--json'], env());
    expect(ids(vip)).toEqual([live[3]!.id, live[0]!.id]);
    const both = await queueCli(
      ['list', '--state', 'completed', '--tag', 'vip', '--tag', 'eu', '--json'],
      env(),
    );
    expect(ids(both)).toEqual([done[1]!.id]);
    const none = await queueCli(
      ['list', '--state', 'completed', '--tag', 'vip', '--tag', 'us', '--json'],
      env(),
    );
    expect(ids(none)).toEqual([]);
  });

  it('searches payload or meta by containment with --search, meta alone with --meta', async () => {
    const live7 = await queueCli(['list', '--search', '{"userId": 7}', '--json'], env());
    expect(ids(live7)).toEqual([live[3]!.id, live[1]!.id]);
    const done7 = await queueCli(
      ['list', '--state', 'completed', '--search', '{"userId":7}', '--json'],
      env(),
    );
    expect(ids(done7)).toEqual([done[1]!.id]);
    const byPayload = await queueCli(
      ['list', '--state', 'completed', '--search', '{"n":2}', '--json'],
      env(),
    );
    expect(ids(byPayload)).toEqual([done[2]!.id]);
    const meta = await queueCli(['list', '--meta', '{"userId":7}', '--json'], env());
    expect(ids(meta)).toEqual([]); // the live job has it in its payload, not its meta
  });

  it('repeats tags and the search, shell-quoted, in the next page command', async () => {
    const all = await queueCli(
      ['list', '--queue', 'hl', '--search', '{"userId": 7}', '--tag', 'a b', '--tag', 'vip', '--limit', '1'],
      env(),
    );
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.split('\t')[0]).toBe(live[3]!.id);
    expect(all.stderr).toBe(''); // one job matches all three

    const byTag = await queueCli(['list', '--queue', 'hl', '--tag', 'a b', '--limit', '1'], env());
    expect(byTag.stdout.split('\t')[0]).toBe(live[3]!.id);
    const tagHint = /^next page: queue list --queue hl --limit 1 --tag 'a b' --cursor ([\w-]+)\n$/.exec(
      byTag.stderr,
    );
    expect(tagHint, byTag.stderr).not.toBeNull();
    const second = await queueCli(
      ['list', '--queue', 'hl', '--tag', 'a b', '--limit', '1', '--cursor', tagHint![1]!],
      env(),
    );
    expect(second.stdout.split('\t')[0]).toBe(live[0]!.id);
    expect(second.stderr).toBe('');

    const bySearch = await queueCli(
      ['list', '--queue', 'hl', '--search', '{"userId": 7}', '--limit', '1'],
      env(),
    );
    expect(bySearch.stderr).toMatch(
      /^next page: queue list --queue hl --search '\{"userId": 7\}' --limit 1 --cursor [\w-]+\n$/,
    );
  });
});

describe('queue show of a finished job', () => {
  it('shows the outcome, result, run time, worker and tags from the history', async () => {
    const job = done[1]!;
    const r = await queueCli(['show', job.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}state {7}completed$/m);
    expect(r.stdout).toMatch(/^ {2}finished at \d{4}-.*Z \(.* ago\)$/m);
    expect(r.stdout).toMatch(/^ {2}ran for {5}\d+(\.\d)? (ms|s)$/m);
    expect(r.stdout).toMatch(/^ {2}worker {6}[0-9a-f]+$/m);
    expect(r.stdout).toMatch(/^ {2}tags {8}vip, eu$/m);
    expect(r.stdout).toMatch(/^ {2}progress {4}-$/m);
    expect(r.stdout).toContain('  result\n    {\n      "total": 101\n    }\n');
    expect(r.stdout).toContain('  meta\n    {\n      "userId": 7\n    }\n');
    expect(r.stdout).not.toMatch(/failed at/);

    const json = JSON.parse((await queueCli(['show', job.id, '--json'], env())).stdout);
    expect(json).toMatchObject({
      id: job.id,
      state: 'completed',
      outcome: 'completed',
      result: { total: 101 },
    });
    expect(typeof json.worker).toBe('string');

    const c = await queueCli(['show', cancelled.id], env());
    expect(c.stdout).toMatch(/^ {2}state {7}cancelled$/m);
    expect(c.stdout).toMatch(/^ {2}ran for {5}- \(cancelled before it started\)$/m);
    expect(c.stdout).toMatch(/^ {2}result {6}none$/m);
  });
});
