// `queue schedules` and `queue schedule <action>`: the whole life of a schedule through the
// real CLI against Postgres, and every bad input refused with its exit code before a write.
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

describe('queue schedule', () => {
  it('creates, lists, shows, updates, pauses, resumes, runs and deletes a schedule', async () => {
    const created = await queueCli(
      [
        'schedule',
        'create',
        'nightly',
        '--task',
        'report',
        '--cron',
        '0 3 * * *',
        '--tz',
        'Europe/Berlin',
        '--payload',
        '{"kind":"daily"}',
        '--queue',
        'reports',
        '--catch-up',
        '3',
      ],
      env(),
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^schedule nightly created\nschedule nightly\n/);
    expect(created.stdout).toContain('timing       0 3 * * * (Europe/Berlin)');
    expect(await queue.getSchedule('nightly')).toMatchObject({
      task: 'report',
      cron: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      payload: { kind: 'daily' },
      queue: 'reports',
      catchUp: { each: 3 },
      pausedAt: null,
    });

    const again = await queueCli(
      ['schedule', 'create', 'nightly', '--task', 'report', '--every', '1h'],
      env(),
    );
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/^queue: a schedule named "nightly" exists already/);

    const list = await queueCli(['schedules'], env());
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^NAME +TASK +QUEUE +TIMING +NEXT RUN +LAST RUN +PAUSED$/m);
    expect(list.stdout).toMatch(
      /^nightly +report +reports +0 3 \* \* \* \(Europe\/Berlin\) +\S+ \S+Z +- +no$/m,
    );
    // No worker runs here: the schedule's jobs would sit in the queue.
    expect(list.stderr).toContain(
      'queue: warning: schedule "nightly": no live worker serves queue "reports"',
    );
    const listed = JSON.parse((await queueCli(['schedules', '--json'], env())).stdout);
    expect(listed).toMatchObject([
      { name: 'nightly', jobQueue: 'reports', unrouted: { reason: 'queue-not-served' } },
    ]);

    const shown = await queueCli(['schedule', 'show', 'nightly', '--json'], env());
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'nightly', cron: '0 3 * * *' });

    const updated = await queueCli(
      ['schedule', 'update', 'nightly', '--every', '30s', '--queue', 'default'],
      env(),
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('timing       every 30s');
    expect(await queue.getSchedule('nightly')).toMatchObject({ cron: null, every: 30_000, queue: null });

    const paused = await queueCli(['schedule', 'pause', 'nightly'], env());
    expect(paused.code, paused.stderr).toBe(0);
    expect((await queue.getSchedule('nightly'))!.pausedAt).toBeInstanceOf(Date);
    expect((await queueCli(['schedules'], env())).stdout).toMatch(/^nightly .* yes$/m);

    const ran = await queueCli(['schedule', 'run', 'nightly', '--json'], env());
    expect(ran.code, ran.stderr).toBe(0);
    const job = JSON.parse(ran.stdout);
    expect(job).toMatchObject({
      task: 'report',
      payload: { kind: 'daily' },
      meta: { schedule: 'nightly', manual: true },
    });

    const resumed = await queueCli(['schedule', 'resume', 'nightly'], env());
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await queue.getSchedule('nightly'))!.pausedAt).toBeNull();

    const unconfirmed = await queueCli(['schedule', 'delete', 'nightly'], env());
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/add --yes to confirm/);
    expect(await queue.getSchedule('nightly')).not.toBeNull();

    const deleted = await queueCli(['schedule', 'delete', 'nightly', '--yes'], env());
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('deleted schedule nightly\n');
    expect(await queue.getSchedule('nightly')).toBeNull();
    // The job it enqueued stays.
    expect(await queue.getJob(job.id)).not.toBeNull();

    const empty = await queueCli(['schedules'], env());
    expect(empty.stdout).toMatch(/^no schedules;/);
  });

  it('exits with code 4 for a schedule that does not exist', async () => {
    for (const args of [
      ['schedule', 'show', 'ghost'],
      ['schedule', 'update', 'ghost', '--every', '1m'],
      ['schedule', 'pause', 'ghost'],
      ['schedule', 'resume', 'ghost'],
      ['schedule', 'run', 'ghost'],
      ['schedule', 'delete', 'ghost', '--yes'],
    ]) {
      const r = await queueCli(args, env());
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr).toBe(`queue: no schedule named "ghost"; 'queue schedules' lists them\n`);
    }
  });

  it('refuses bad input with code 2 and writes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--task', 'report', '--cron', '61 * * * *'],
        /^queue: schedule "bad": cron "61 \* \* \* \*" is not a valid cron expression/,
      ],
      [
        ['--task', 'report', '--cron', '0 3 * * *', '--tz', 'Mars/Olympus'],
        /^queue: --tz must be an IANA time zone .*"Mars\/Olympus"/,
      ],
      [
        ['--task', 'report', '--every', '30 seconds'],
        /^queue: --every must be a positive whole number with a unit.*"30 seconds"/,
      ],
      [['--task', 'report', '--every', '0s'], /^queue: --every must be a positive/],
      [['--cron', '0 3 * * *'], /^queue: --task is required/],
      [['--task', 'report'], /^queue: give --cron '<expr>' or --every <interval>/],
      [
        ['--task', 'report', '--cron', '0 3 * * *', '--every', '1h'],
        /^queue: give --cron or --every, not both/,
      ],
      [
        ['--task', 'report', '--every', '1h', '--catch-up', 'all'],
        /^queue: --catch-up must be skip, once, or a number/,
      ],
      [['--task', 'report', '--every', '1h', '--payload', '{oops'], /^queue: --payload/],
    ];
    for (const [flags, message] of cases) {
      const r = await queueCli(['schedule', 'create', 'bad', ...flags], env());
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(await queue.getSchedule('bad')).toBeNull();

    // An update with a bad value leaves the schedule as it was.
    expect(
      (await queueCli(['schedule', 'create', 'kept', '--task', 'report', '--every', '5m'], env())).code,
    ).toBe(0);
    const badUpdate = await queueCli(['schedule', 'update', 'kept', '--cron', 'every day'], env());
    expect(badUpdate.code).toBe(2);
    expect(badUpdate.stderr).toMatch(
      /^queue: schedule "kept": cron "every day" is not a valid cron expression/,
    );
    expect(await queue.getSchedule('kept')).toMatchObject({ cron: null, every: 300_000 });

    const noAction = await queueCli(['schedule', 'frobnicate', 'kept'], env());
    expect(noAction.code).toBe(2);
    expect(noAction.stderr).toMatch(/unknown action "frobnicate": schedule takes show, create/);
  });

  it('create and update take --tag and --meta as enqueue does; its jobs carry them', async () => {
    const created = await queueCli(
      [
        'schedule',
        'create',
        'tagged',
        '--task',
        'report',
        '--every',
        '1h',
        '--tag',
        'tenant:acme',
        '--tag',
        'nightly',
        '--meta',
        '{"team":"ops"}',
      ],
      env(),
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('tags         tenant:acme, nightly');
    expect(created.stdout).toContain('meta         {"team":"ops"}');
    expect(await queue.getSchedule('tagged')).toMatchObject({
      tags: ['tenant:acme', 'nightly'],
      meta: { team: 'ops' },
    });
    const run = await queueCli(['schedule', 'run', 'tagged', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      tags: ['tenant:acme', 'nightly'],
      meta: { team: 'ops', schedule: 'tagged', manual: true },
    });

    const updated = await queueCli(
      ['schedule', 'update', 'tagged', '--tag', 'weekly', '--meta', '{}'],
      env(),
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(await queue.getSchedule('tagged')).toMatchObject({ tags: ['weekly'], meta: {} });

    // Bad tags and meta exit with code 2 and change nothing.
    const bad: [string[], RegExp][] = [
      [['--tag', ''], /^queue: --tag/],
      [['--tag', 'x'.repeat(65)], /^queue: --tag/],
      [['--meta', '[1]'], /^queue: --meta must be a JSON object/],
      [['--meta', '{"scheduledAt":1}'], /scheduledAt.*scheduler sets/],
    ];
    for (const [flags, message] of bad) {
      const r = await queueCli(['schedule', 'update', 'tagged', ...flags], env());
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(await queue.getSchedule('tagged')).toMatchObject({ tags: ['weekly'], meta: {} });
  });

  it('documents itself', async () => {
    const r = await queueCli(['schedule', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: queue schedule show <name>/);
    expect((await queueCli(['--help'])).stdout).toMatch(/^ {2}schedules +List recurring schedules/m);
  });
});
