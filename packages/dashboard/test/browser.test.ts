import { hostname } from 'node:os';
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
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../src/index.js';
import { horizontalOverflow, openBrowser, smallTargets, waitForText } from './helpers/browser.js';

const db = useTestDatabase();
const credentials = { username: 'ops', password: 'browser-test' };

/** A task name as long as real ones get: it must wrap or clip on a phone, never widen the page. */
const LONG_TASK = 'reports.generateQuarterlyRevenueReconciliationForEverySubsidiaryAndRegion';

/**
 * Handlers the tests control: `gated` jobs run until their gate opens; `flaky` fails while
 * `failing`; `charge` always fails as a payment client would, deep in its calls.
 */
const gates = new Map<string, () => void>();
let failing = true;
const gated = (p: { key: string }) => new Promise<void>((resolve) => gates.set(p.key, resolve));
const tasks = {
  gated,
  [LONG_TASK]: gated,
  quick: () => {},
  flaky: () => {
    if (failing) throw new Error('the mail server said no');
  },
  charge: (invoice: typeof INVOICE) => declined(invoice, 12),
};

let queue: Queue<typeof tasks>;
let worker: Worker;
let server: StandaloneServer;
let browser: Awaited<ReturnType<typeof openBrowser>>;

/** A realistic big payload: 40 invoice lines and an unbroken 2 KB base64 attachment. */
const INVOICE = {
  customer: {
    id: 'cus_Q8f3Z2kLmN0pXyRtUvWx',
    email: 'accounts-payable@northwind-traders-international-holdings.example.com',
  },
  lines: Array.from({ length: 40 }, (_, i) => ({
    sku: `PLAN-ENTERPRISE-ANNUAL-${1000 + i}`,
    description: 'Enterprise plan, annual seat licence with priority support',
    amount: 1999 + i,
  })),
  attachment: `data:application/pdf;base64,${'JVBERi0xLjcKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K'.repeat(32)}`,
};

/** Throws from `depth` calls down, so the stored stack is a real one, with long unbroken lines. */
function declined(invoice: typeof INVOICE, depth: number): never {
  if (depth > 0) declined(invoice, depth - 1);
  throw new Error(
    `POST https://payments.example.com/v1/customers/${invoice.customer.id}/invoices/in_1PqR7sT8uV9wXyZ0aBcDeFgH/pay?expand[]=payment_intent failed: 402 card_declined (insufficient_funds)`,
  );
}

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
    // The worker is this test process: named by its host and Node pid, not the session's backend pid.
    const thisWorker = `worker ${hostname()} pid ${process.pid}`;
    expect(
      await page
        .locator('table[data-testid="running"] tr[data-job] [data-testid="worker"]')
        .allTextContents(),
    ).toEqual([thisWorker, thisWorker, thisWorker]);
    expect(await page.getAttribute(`tr[data-job="${ids[0]}"] [data-testid="worker"]`, 'title')).toMatch(
      new RegExp(`^backend pid ${worker.backendPids.claimer} · queue-claimer`),
    );
    await browser.screenshot('running');
    // The job's own page says the same, with the worker's host and pid.
    await page.click(`tr[data-job="${ids[0]}"] a`);
    // A span on the job page (the list's cells are td): waits for the navigation to render.
    const jobRunningFor = await page.locator('span[data-testid="running-for"]').textContent();
    expect(jobRunningFor).toMatch(/^1m 3\ds \(worker .+ pid \d+\)$/);
    expect(jobRunningFor!.endsWith(`(${thisWorker})`)).toBe(true);
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
    // Completed, it is in the history: its page stays, now saying so.
    await page.locator('h1 [data-state="completed"]').waitFor();
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
    await waitFor(
      'worker polled past the probe',
      async () => (await queue.getJob(probe.id))?.state === 'completed',
    );
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

  it('flags jobs nobody will run on the overview and on their page, until a worker serves them', async () => {
    const { page } = browser;
    // From SQL, as a trigger would: a task no worker knows, and a queue no worker serves.
    const [{ id: mystery }] = await db.query(`SELECT queue.enqueue('mystery', '{}') AS id`);
    const nightly = await queue.enqueue('quick', undefined, { queue: 'nightly' });
    await page.goto(server.url);
    const item = (q: string, t: string) => `[data-testid="unrouted"] li[data-queue="${q}"][data-task="${t}"]`;
    await page.locator(item('default', 'mystery')).waitFor();
    expect(await page.textContent(item('default', 'mystery'))).toMatch(
      /^1 due job of task mystery on queue default: no live worker knows task "mystery" on queue "default"; oldest due (now|\d+s ago)\.$/,
    );
    expect(await page.textContent(item('nightly', 'quick'))).toContain(
      'no live worker serves queue "nightly"',
    );
    expect(await page.textContent('tr[data-queue="nightly"] [data-testid="unrouted-badge"]')).toBe(
      "1 won't run",
    );
    expect(await page.textContent('tr[data-queue="default"] [data-testid="unrouted-badge"]')).toBe(
      "1 won't run",
    );
    expect(await page.locator('tr[data-queue="emails"] [data-testid="unrouted-badge"]').count()).toBe(0);
    await browser.screenshot('overview-unrouted');

    await page.goto(`${server.url}#/jobs/${mystery}`);
    await waitForText(
      page,
      '[data-testid="job-unrouted"] .warning-text',
      'This job is not running: no live worker knows task "mystery" on queue "default".',
    );
    await browser.screenshot('job-unrouted');

    // A worker that knows the task and serves the queue starts: both jobs run, the warnings go.
    const helper = new Queue({
      connectionString: db.url,
      logger: silentLogger,
      tasks: { mystery: () => {}, quick: () => {} },
    });
    try {
      const other = helper.worker({ queues: ['default', 'nightly'], pollInterval: 100 });
      const done = Promise.all(
        [String(mystery), nightly.id].map((id) =>
          nextEvent<{ job: Job }>(other, 'completed', (e) => e.job.id === id),
        ),
      );
      await other.start();
      await done;
      await page.locator('h1 [data-state="completed"]').waitFor();
      await page.goto(server.url);
      await page.locator('tr[data-queue="nightly"]').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="unrouted"]') === null);
      expect(await page.locator('[data-testid="unrouted-badge"]').count()).toBe(0);
    } finally {
      await helper.close();
    }
  });

  it('fits a 390 px phone screen on every page, with long names, big payloads and long stacks', async () => {
    // Several queues; two that no worker serves keep their jobs waiting.
    const billing = 'billing-reconciliation-europe-west';
    const started = nextEvent<{ job: Job }>(worker, 'started', (e) => e.job.task === LONG_TASK);
    const failed = nextEvent<{ job: Job }>(worker, 'failed', (e) => e.job.task === 'charge');
    const running = await queue.enqueue(LONG_TASK, { key: 'phone' });
    const broken = await queue.enqueue('charge', INVOICE, { maxAttempts: 1 });
    const waiting = await queue.enqueue('charge', INVOICE, { queue: billing });
    const webhook = await queue.enqueue('quick', undefined, { queue: 'webhooks' });
    const later = await queue.enqueue(LONG_TASK, { key: 'later' }, { queue: billing, delay: 3_600_000 });
    await Promise.all([started, failed]);

    const tab = await browser.phone();
    const { page } = tab;
    try {
      // Each page with what to wait for: first a mark only that page has (the previous page's
      // rows could still be on screen for a moment), then its data.
      const pages: [name: string, hash: string, ...waitFor: string[]][] = [
        [
          'overview',
          '#/',
          `tr[data-queue="${billing}"] [data-testid="unrouted-badge"]`,
          `[data-testid="unrouted"] li[data-queue="${billing}"]`,
          'svg.chart',
        ],
        ['jobs', '#/jobs', '[data-testid="tab-all"].tab-active', `tr[data-job="${broken.id}"]`],
        [
          'jobs-available',
          '#/jobs?state=available',
          '[data-testid="tab-available"].tab-active',
          `tr[data-job="${waiting.id}"]`,
        ],
        [
          'jobs-scheduled',
          '#/jobs?state=scheduled',
          '[data-testid="tab-scheduled"].tab-active',
          `tr[data-job="${later.id}"]`,
        ],
        [
          'jobs-running',
          '#/jobs?state=running',
          '[data-testid="tab-running"].tab-active',
          `tr[data-job="${running.id}"]`,
        ],
        [
          'jobs-failed',
          '#/jobs?state=failed',
          '[data-testid="tab-failed"].tab-active',
          `tr[data-job="${broken.id}"]`,
        ],
        ['failed', '#/failed', 'a[data-nav="failed"].active', `tr[data-job="${broken.id}"]`],
        ['job-failed', `#/jobs/${broken.id}`, '[data-testid="errors"]'],
        ['job-running', `#/jobs/${running.id}`, 'span[data-testid="running-for"]'],
        ['job-scheduled', `#/jobs/${later.id}`, '[data-testid="run-now"]'],
        // A job on a queue no worker serves: its page says why it waits.
        ['job-unrouted', `#/jobs/${waiting.id}`, '[data-testid="job-unrouted"]'],
        ['running', '#/running', `table[data-testid="running"] tr[data-job="${running.id}"]`],
      ];
      for (const [name, hash, ...marks] of pages) {
        await page.goto(server.url + hash);
        for (const mark of marks) await page.locator(mark).first().waitFor();
        const { by, hidden, culprits } = await horizontalOverflow(page);
        expect
          .soft({ page: name, by, hidden }, culprits.join('; '))
          .toEqual({ page: name, by: 0, hidden: [] });
        expect.soft({ page: name, small: await smallTargets(page) }).toEqual({ page: name, small: [] });
        await tab.screenshot(`phone-${name}`);
      }
      // The failed job's page shows all of it, wrapped inside its boxes.
      await page.goto(`${server.url}#/jobs/${broken.id}`);
      await page.locator('[data-testid="errors"] details[open] pre').waitFor();
      expect(await page.textContent('[data-testid="payload"]')).toContain(INVOICE.attachment);
      expect(await page.textContent('[data-testid="errors"]')).toContain('402 card_declined');
      expect(await page.textContent('[data-testid="errors"]')).toMatch(/at declined \(/);
    } finally {
      await tab.context.close();
      // Done and gone before the next test counts completions.
      gates.get('phone')?.();
      await waitFor(
        'the running job to complete',
        async () => (await queue.getJob(running.id))?.state === 'completed',
      );
      for (const id of [broken.id, waiting.id, webhook.id, later.id]) await queue.deleteJob(id);
    }
  });

  it('labels the chart axis with whole numbers of jobs, readable on a phone', async () => {
    // Only this test's statistics: the earlier tests' minutes would set the scale.
    await db.query('DELETE FROM queue.job_stats');
    await queue.enqueueMany([1, 2, 3].map(() => ({ task: 'quick' as const, payload: undefined })));
    const perMinute = async () =>
      (
        await db.query<{ most: number; total: number }>(
          `SELECT max(n)::int AS most, sum(n)::int AS total
           FROM (SELECT sum(completed + failed) AS n FROM queue.job_stats GROUP BY minute) m`,
        )
      )[0]!;
    // The worker writes its statistics with the jobs' deletion, in batches: wait for all three.
    await waitFor('3 completions in the statistics', async () => (await perMinute()).total === 3);
    // All three in one minute, or split across a minute's turn (jobTicks is checked for 3 itself in chart.test.ts).
    const { most } = await perMinute();

    const phone = await browser.phone();
    try {
      for (const [tab, name] of [
        [browser, 'chart-small'],
        [phone, 'phone-chart-small'],
      ] as const) {
        await tab.page.goto(server.url);
        await waitForText(tab.page, '[data-testid="completed-hour"]', '3 completed');
        // A step of one job: 0 1 2 3, never 0 2.5 5.
        expect(await yTicks(tab.page)).toEqual(Array.from({ length: most + 1 }, (_, i) => String(i)));
        await tab.screenshot(name);
      }

      // A busy minute ten minutes ago, as a worker records it: 1,234 completed, 56 failed attempts.
      await db.query(
        `INSERT INTO queue.job_stats (minute, queue, worker, completed, failed)
         VALUES (date_trunc('minute', now()) - interval '10 minutes', 'default', 'earlier-worker', 1234, 56)`,
      );
      for (const [tab, name] of [
        [browser, 'chart-large'],
        [phone, 'phone-chart-large'],
      ] as const) {
        await waitForText(tab.page, '[data-testid="completed-hour"]', '1,237 completed');
        // The tallest bar is 1,290: steps of 500 (at most five intervals), labelled whole.
        expect(await yTicks(tab.page)).toEqual(['0', '500', '1,000', '1,500']);
        await tab.screenshot(name);
      }
      // On the phone the labels keep their size: a desktop-wide drawing scaled down would make them ~4 px.
      const heights = await phone.page
        .locator('svg.chart text.tick-y')
        .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
      for (const height of heights) expect(height).toBeGreaterThanOrEqual(10);
      expect(await horizontalOverflow(phone.page)).toMatchObject({ by: 0 });

      // Turned sideways, the chart is drawn again at its box's new width, not stretched.
      const drawnWidth = () =>
        phone.page.evaluate(() => {
          const svg = document.querySelector('svg.chart');
          return {
            svg: Number(svg?.getAttribute('width')),
            box: document.querySelector('.chart-slot')?.clientWidth,
          };
        });
      const upright = await drawnWidth();
      expect(upright.svg).toBe(upright.box);
      await phone.page.setViewportSize({ width: 844, height: 390 });
      await phone.page.waitForFunction(
        (before) => Number(document.querySelector('svg.chart')?.getAttribute('width')) > before,
        upright.svg,
      );
      const sideways = await drawnWidth();
      expect(sideways.svg).toBe(sideways.box);
      expect(await yTicks(phone.page)).toEqual(['0', '500', '1,000', '1,500']);
      expect(await horizontalOverflow(phone.page)).toMatchObject({ by: 0 });
      await phone.screenshot('phone-chart-sideways');
    } finally {
      await phone.context.close();
    }
  });
});

/** The y-axis labels of the overview's chart, bottom to top. */
async function yTicks(page: Page): Promise<string[]> {
  return page.locator('svg.chart text.tick-y').allTextContents();
}
