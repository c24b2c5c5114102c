// `queue enqueue <task> [json]`: the job exists with what was given, and only that; bad input
// exits 2 and writes nothing.
import { Queue, silentLogger } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue;

beforeAll(() => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
});
afterAll(() => queue.close());

const count = async () => Number((await db.query('SELECT count(*) AS n FROM queue.jobs'))[0].n);

describe('queue enqueue', () => {
  it('adds a job with the payload and options given, and prints its id', async () => {
    const r = await queueCli(
      [
        'enqueue',
        'sendEmail',
        '{"to": "a@example.com", "tags": ["x"]}',
        '--queue',
        'emails',
        '--priority=-3',
        '--max-attempts',
        '4',
        '--delay',
        '60000',
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+\n$/);
    const job = await queue.getJob(r.stdout.trim());
    expect(job).toMatchObject({
      task: 'sendEmail',
      queue: 'emails',
      payload: { to: 'a@example.com', tags: ['x'] },
      priority: -3,
      maxAttempts: 4,
      attempts: 0,
      state: 'scheduled',
    });
    // Delayed by the database clock: run_at - created_at is the delay (both from its now()).
    expect(job!.runAt.getTime() - job!.createdAt.getTime()).toBe(60_000);
  });

  it("leaves options it was not given to core: the same job as core's enqueue without them", async () => {
    const r = await queueCli(['enqueue', 'plain'], env());
    expect(r.code, r.stderr).toBe(0);
    const fromCli = (await queue.getJob(r.stdout.trim()))!;
    const fromCore = (await queue.getJob((await queue.enqueue('plain', null)).id))!;
    const pick = (j: typeof fromCli) => ({
      queue: j.queue,
      priority: j.priority,
      maxAttempts: j.maxAttempts,
      payload: j.payload,
      state: j.state,
    });
    expect(pick(fromCli)).toEqual(pick(fromCore));
    expect(fromCli.payload).toBeNull();
  });

  it('reads the payload from standard input for "-", runs it at --run-at, and prints JSON', async () => {
    const r = await queueCli(
      ['enqueue', 'import', '-', '--run-at', '2031-06-01T11:00:00+02:00', '--json'],
      env(),
      undefined,
      '{\n  "rows": [1, 2, 3],\n  "name": "été"\n}\n',
    );
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(typeof printed.id).toBe('string');
    expect(printed).toMatchObject({
      task: 'import',
      payload: { rows: [1, 2, 3], name: 'été' },
      runAt: '2031-06-01T09:00:00.000Z',
    });
    const job = await queue.getJob(printed.id);
    expect(job?.payload).toEqual({ rows: [1, 2, 3], name: 'été' });
    expect(job?.runAt.toISOString()).toBe('2031-06-01T09:00:00.000Z');
  });

  it('exits 2 for invalid JSON with where it is, and writes nothing', async () => {
    const before = await count();
    const [inline, piped, word, empty] = await Promise.all([
      queueCli(['enqueue', 't', '{"a": }'], env()),
      queueCli(['enqueue', 't', '-'], env(), undefined, '{\n  "a": 1,\n  "b": tru\n}'),
      queueCli(['enqueue', 't', 'hello'], env()),
      queueCli(['enqueue', 't', '-'], env(), undefined, '  \n'),
    ]);
    for (const r of [inline, piped, word, empty]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stdout).toBe('');
    }
    expect(inline.stderr).toMatch(/^queue: the payload is not valid JSON at line 1, column 7: /);
    expect(piped.stderr).toMatch(
      /^queue: the payload on standard input is not valid JSON at line 3, column 11: /,
    );
    expect(word.stderr).toContain(`a string payload is written in JSON quotes: '"hello"'`);
    expect(empty.stderr).toContain('standard input is empty');
    expect(await count()).toBe(before);
  });

  it("exits 2 with core's message for a payload it refuses, and for bad options", async () => {
    const before = await count();
    const nul = await queueCli(['enqueue', 't', '{"a": "x\\u0000y"}'], env());
    expect(nul.code).toBe(2);
    expect(nul.stderr).toBe(
      'queue: invalid payload for task "t": it contains a \\u0000 character, which Postgres jsonb cannot store\n',
    );
    const cases: [string[], string][] = [
      [['--priority', '40000'], '--priority must be a whole number from -32768 to 32767'],
      [['--priority', '-5'], '--priority needs a value; write a value that starts with'],
      [['--max-attempts', '0'], '--max-attempts must be a whole number from 1 to 1000000'],
      [['--delay', '1.5'], '--delay must be a whole number'],
      [['--run-at', '2031-06-01T09:00'], '--run-at must be an ISO 8601 time with a zone'],
      [['--run-at', '2031-02-30T09:00Z'], '--run-at must be an ISO 8601 time with a zone'],
      [['--delay', '5', '--run-at', '2031-06-01T09:00Z'], 'give --delay or --run-at, not both'],
      [['--queue', ''], '--queue must be a name of 1 to 128 characters'],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(['enqueue', 't', ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
    }
    const noTask = await queueCli(['enqueue'], env());
    expect(noTask.code).toBe(2);
    expect(noTask.stderr).toContain('give a task name');
    expect(await count()).toBe(before);
  });

  it('sets tags (--tag, repeated) and meta (--meta, a JSON object)', async () => {
    const r = await queueCli(
      [
        'enqueue',
        'tagged',
        '{}',
        '--tag',
        'tenant:acme',
        '--tag',
        'welcome',
        '--meta',
        '{"userId": 42}',
        '--json',
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tags: ['tenant:acme', 'welcome'], meta: { userId: 42 } });
    const job = await queue.getJob(JSON.parse(r.stdout).id);
    expect(job).toMatchObject({ tags: ['tenant:acme', 'welcome'], meta: { userId: 42 } });
    const plain = await queue.getJob((await queueCli(['enqueue', 'untagged'], env())).stdout.trim());
    expect(plain).toMatchObject({ tags: [], meta: {} });
  });

  it('exits 2 for bad tags or meta, and writes nothing', async () => {
    const before = await count();
    const cases: [string[], string][] = [
      [['--meta', 'userId'], '--meta is not valid JSON at line 1, column 1: '],
      [['--meta', '[1, 2]'], `--meta must be a JSON object, e.g. --meta '{"userId":42}', got "[1, 2]"`],
      [['--tag', ''], '--tag must be 1 to 64 characters, got ""'],
      [
        Array.from({ length: 17 }, (_, i) => ['--tag', `t${i}`]).flat(),
        '--tag is given at most 16 times, got 17',
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(['enqueue', 't', ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
    // Past core's limit of 4 KB: core's own message, exit code 2.
    const big = await queueCli(['enqueue', 't', '--meta', JSON.stringify({ note: 'x'.repeat(5000) })], env());
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/^queue: invalid option meta: for task "t": .*4096/);
    expect(await count()).toBe(before);
  });

  it('exits 3 with one line when the database cannot be reached', async () => {
    const r = await queueCli(['enqueue', 't', '{}'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('queue: cannot connect to the database (127.0.0.1:1/nope): connection refused\n');
  });
});
