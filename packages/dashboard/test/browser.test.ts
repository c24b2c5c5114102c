import { type Job, Queue, silentLogger, type Worker } from '@queue/core';
import {
  CHROMIUM,
  expectNoAdvisoryLocks,
  nextEvent,
  optedOut,
  titleWithOptOut,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../src/index.js';
import { openBrowser, waitForText } from './helpers/browser.js';

const db = useTestDatabase();
const credentials = { username: 'ops', password: 'browser-test' };

/** Handlers the tests control: `gated` jobs run until their gate opens; `flaky` fails while `failing`. */
const gates = new Map<string, () => void>();
let failing = true;
const tasks = {
  gated: (p: { key: string }) => new Promise<void>((resolve) => gates.set(p.key, resolve)),
  quick: () => {},
  flaky: () => {
    if (failing) throw new Error('the mail server said no');
  },
};

let queue: Queue<typeof tasks>;
let worker: Worker;
let server: StandaloneServer;
let browser: Awaited<ReturnType<typeof openBrowser>>;

const row = (q: string, cell: string) => `tr[data-queue="${q}"] td[data-testid="${cell}"]`;

beforeAll(async () => {
  if (optedOut(CHROMIUM)) return;
  queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
  worker = queue.worker({ queues: ['default', 'emails'], concurrency: 4, pollInterval: 100 });
  await worker.start();
  server = await startDashboardServer({ queue, port: 0, basicAuth: credentials, refreshInterval: 250 });
  browser = await openBrowser({ httpCredentials: credentials });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const open of gates.values()) open();
  await queue?.close();
  await expectNoAdvisoryLocks(db);
});

afterEach(() => {
  expect(browser.errors).toEqual([]);
});

describe.skipIf(optedOut(CHROMIUM))(titleWithOptOut('dashboard in a browser', CHROMIUM), () => {
  it('shows counts change as jobs run', async () => {
    const { page } = browser;
    // A little history for the chart.
    const done = waitFor('20 quick jobs done', async () =>
      (await queue.countJobs()).every((q) => q.available === 0),
    );
    await queue.enqueueMany(
      Array.from({ length: 20 }, () => ({ task: 'quick' as const, payload: undefined })),
    );
    await done;
    await page.goto(server.url);
    await waitForText(page, '[data-testid="completed-hour"]', '20 completed');

    const started = Promise.all(
      [1, 2, 3].map((n) =>
        nextEvent<{ job: Job }>(worker, 'started', (e) => (e.job.payload as any)?.key === `k${n}`),
      ),
    );
    await queue.enqueueMany([1, 2, 3].map((n) => ({ task: 'gated' as const, payload: { key: `k${n}` } })));
    const [first] = await started;
    // As if k1's attempt had started 90 s ago: the running page must count from that start.
    await db.query(`UPDATE queue.jobs SET started_at = now() - interval '90 seconds' WHERE id = $1`, [
      first!.job.id,
    ]);
    await waitForText(page, row('default', 'running'), '3');
    await waitForText(page, '[data-testid="total-running"] .stat-value', '3');
    await browser.screenshot('overview-running');

    await page.click('a[data-nav="running"]');
    await page.locator('table[data-testid="running"] tbody tr[data-job]').nth(2).waitFor();
    expect(await page.locator('table[data-testid="running"] tbody tr[data-job]').count()).toBe(3);
    // Each attempt's own start time (core's startedAt), not when the dashboard first saw it.
    const runningFor = (id: string) =>
      page.textContent(`table[data-testid="running"] tr[data-job="${id}"] [data-testid="running-for"]`);
    const ids = (await started).map((e) => e.job.id);
    expect(await runningFor(ids[0]!)).toMatch(/^1m 3\ds$/);
    for (const id of ids.slice(1)) expect(await runningFor(id)).toMatch(/^\d\.\ds$/);
    await browser.screenshot('running');
    // The job's own page says the same, with the worker's pid.
    await page.click(`tr[data-job="${ids[0]}"] a`);
    // A span on the job page (the list's cells are td): waits for the navigation to render.
    const jobRunningFor = await page.locator('span[data-testid="running-for"]').textContent();
    expect(jobRunningFor).toMatch(/^1m 3\ds \(pid \d+\)$/);
    await browser.screenshot('job-running');

    const completed = nextEvent(worker, 'completed', (e: any) => e.job.payload?.key === 'k3');
    for (const n of [1, 2, 3]) gates.get(`k${n}`)!();
    await completed;
    await page.click('a[data-nav="overview"]');
    await waitForText(page, row('default', 'running'), '0');
    await waitForText(page, '[data-testid="completed-hour"]', '23 completed');
    await browser.screenshot('overview-after');
    // The worker records results in batches: its job locks (one-bigint form, objsubid 1) go a
    // moment after 'completed'. Its session's marker lock stays until it stops (checked in afterAll).
    const jobLocks = `SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND d.datname = $1`;
    await waitFor(
      'the worker to release its job locks',
      async () => (await db.query(jobLocks, [db.name])).length === 0,
    );
  });

  it('retries a failed job and shows it complete', async () => {
    const { page } = browser;
    const failed = nextEvent<{ job: Job }>(worker, 'failed');
    const job = await queue.enqueue(
      'flaky',
      { to: 'ada@example.com', subject: 'Welcome' },
      { maxAttempts: 1 },
    );
    await failed;
    await page.goto(`${server.url}#/failed`);
    await page.locator(`tr[data-job="${job.id}"]`).waitFor();
    await browser.screenshot('failed-list');

    await page.click(`tr[data-job="${job.id}"] a`);
    await page.locator('h1 [data-state="failed"]').waitFor();
    expect(await page.textContent('[data-testid="errors"]')).toContain('the mail server said no');
    expect(await page.textContent('[data-testid="payload"]')).toContain('"to": "ada@example.com"');
    await browser.screenshot('job-failed');

    failing = false;
    const completed = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    await page.click('[data-testid="retry"]');
    await completed;
    await page.locator('[data-testid="job-gone"]').waitFor();
    expect(await page.textContent('[data-testid="job-gone"]')).toContain('completed');
    await browser.screenshot('job-completed');
  });

  it('pauses a queue so that workers stop claiming from it, and resumes it', async () => {
    const { page } = browser;
    // One job through 'emails' first, so that the queue has a row (from its throughput) on the overview.
    const firstDone = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.queue === 'emails');
    await queue.enqueue('quick', undefined, { queue: 'emails' });
    await firstDone;
    await page.goto(server.url);
    await page.click('tr[data-queue="emails"] [data-testid="pause"]');
    await page.locator('tr[data-queue="emails"] [data-state="paused"]').waitFor();
    expect((await queue.countJobs()).find((q) => q.queue === 'emails')?.paused).toBe(true);

    const held = await queue.enqueue('quick', undefined, { queue: 'emails' });
    // The worker keeps claiming from 'default': once a later job there is done, it has had
    // its chance at the paused queue and left it alone.
    const probe = await queue.enqueue('quick', undefined, { queue: 'default' });
    await nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === probe.id);
    await waitFor('worker polled past the probe', async () => (await queue.getJob(probe.id)) === null);
    expect((await queue.getJob(held.id))?.state).toBe('available');
    await waitForText(page, row('emails', 'available'), '1');
    await browser.screenshot('overview-paused');

    const resumed = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === held.id);
    await page.click('tr[data-queue="emails"] [data-testid="resume"]');
    await resumed;
    await waitForText(page, row('emails', 'available'), '0');
    expect(await page.locator('tr[data-queue="emails"] [data-state="paused"]').count()).toBe(0);
  });

  it('shows hostile job data as text', async () => {
    const { page } = browser;
    await queue.pauseQueue('default');
    const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const job = await queue.enqueue(
      'quick',
      { name: evil, '<b>key</b>': 'javascript:alert(1)' },
      { delay: 60_000 },
    );
    await page.goto(`${server.url}#/jobs/${job.id}`);
    await page.locator('[data-testid="payload"]').waitFor();
    expect(await page.textContent('[data-testid="payload"]')).toContain(evil.replaceAll('"', '\\"'));
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await page.click('[data-testid="run-now"]');
    await page.locator('h1 [data-state="available"]').waitFor();
    await browser.screenshot('job-xss');
    await queue.deleteJob(job.id);
    await queue.resumeQueue('default');
  });
});
