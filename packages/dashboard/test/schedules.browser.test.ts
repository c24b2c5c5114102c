import { Queue, silentLogger, type Worker } from '@queue/core';
import {
  CHROMIUM,
  expectNoAdvisoryLocks,
  optedOut,
  titleWithOptOut,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../src/index.js';
import { horizontalOverflow, openBrowser, smallTargets, waitForText } from './helpers/browser.js';
import { basic, DashboardClient } from './helpers/client.js';

/**
 * The Schedules page (issue 14): schedules listed with their next run in their own zone, their
 * last run and its job's outcome, pause, resume and run now, the warning for a schedule nobody
 * would run, and a read-only dashboard refusing the actions. A real Postgres, a real worker
 * (its scheduler fires the ticks) in this process, the standalone server and Debian's Chromium.
 */
const db = useTestDatabase();
const credentials = { username: 'ops', password: 'schedules-test' };

const tasks = {
  report: (p: { kind?: string } | undefined) => ({ kind: p?.kind ?? null }),
};

let queue: Queue<typeof tasks>;
let worker: Worker;
let server: StandaloneServer;
let readOnlyServer: StandaloneServer;
let browser: Awaited<ReturnType<typeof openBrowser>>;

beforeAll(async () => {
  if (optedOut(CHROMIUM)) return;
  queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
  worker = queue.worker({ queues: ['default'], concurrency: 2, pollInterval: 100 });
  await worker.start();
  server = await startDashboardServer({ queue, port: 0, basicAuth: credentials, refreshInterval: 250 });
  readOnlyServer = await startDashboardServer({
    queue,
    port: 0,
    basicAuth: credentials,
    readOnly: true,
    refreshInterval: 250,
  });
  browser = await openBrowser({ httpCredentials: credentials });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await readOnlyServer?.close();
  await queue?.close();
  await expectNoAdvisoryLocks(db);
});

afterEach(async () => {
  expect(browser.errors).toEqual([]);
  for (const s of await queue.listSchedules()) await queue.deleteSchedule(s.name);
});

const row = (name: string) => `table[data-testid="schedules"] tr[data-schedule="${name}"]`;

/** Clicks a confirming button twice: the first click arms it, showing `question`. */
async function confirm(page: Page, selector: string, question: string) {
  await page.click(selector);
  await waitForText(page, selector, question);
  await page.click(selector);
}

const completed = (id: string) =>
  waitFor(`job ${id} completed`, async () => (await queue.getJob(id))?.state === 'completed');

describe.skipIf(optedOut(CHROMIUM))(titleWithOptOut('the schedules page in a browser', CHROMIUM), () => {
  it('lists a schedule with its next run in its zone, pauses, resumes and runs it now', async () => {
    const { page } = browser;
    const created = await queue.createSchedule('nightly', {
      task: 'report',
      cron: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      payload: { kind: 'daily' },
    });

    await page.goto(`${server.url}#/schedules`);
    await page.locator(row('nightly')).waitFor();
    expect(await page.textContent('.nav a.active')).toBe('Schedules');
    expect(await page.textContent(`${row('nightly')} [data-testid="timing"]`)).toBe(
      '0 3 * * * (Europe/Berlin)',
    );
    // 03:00 on the Berlin wall clock, whatever the zone of the browser or the server.
    const next = (await page.textContent(`${row('nightly')} [data-testid="next-run"]`))!;
    expect(next).toMatch(/03:00:00 GMT\+[12] in (\d+h \d+m|\d+m \d+s|\d+s)$/);
    expect(next).toContain(
      created.nextRunAt.toLocaleString('en', { timeZone: 'Europe/Berlin', dateStyle: 'medium' }),
    );
    expect(await page.textContent(`${row('nightly')} [data-testid="last-run"]`)).toBe('never');
    expect(await page.textContent(`${row('nightly')} td[data-label="queue"]`)).toBe('default (task)');
    expect(await page.locator('[data-testid="unrouted"]').count()).toBe(0);
    await page.locator(`${row('nightly')} [data-testid="state"] [data-state="active"]`).waitFor();
    await browser.screenshot('schedules-list');

    await confirm(page, `${row('nightly')} [data-testid="pause"]`, 'Pause its ticks?');
    await waitForText(page, '#toast', 'Schedule nightly paused');
    await page.locator(`${row('nightly')} [data-state="paused"]`).waitFor();
    expect(await page.textContent(`${row('nightly')} [data-testid="next-run"]`)).toBe('paused');
    expect((await queue.getSchedule('nightly'))?.pausedAt).toBeInstanceOf(Date);

    await page.click(`${row('nightly')} [data-testid="resume"]`);
    await waitForText(page, '#toast', 'Schedule nightly resumed: it runs from its next tick');
    await page.locator(`${row('nightly')} [data-state="active"]`).waitFor();
    expect((await queue.getSchedule('nightly'))?.pausedAt).toBeNull();
    expect(await page.textContent(`${row('nightly')} [data-testid="next-run"]`)).toMatch(/03:00:00/);

    // Run now enqueues one job at once; the worker runs it, and the row links to it.
    await confirm(page, `${row('nightly')} [data-testid="run-now"]`, 'Enqueue a job now?');
    const link = `${row('nightly')} [data-testid="manual-job"]`;
    await page.locator(link).waitFor();
    const id = (await page.textContent(link))!.slice(1);
    await waitForText(page, '#toast', `Schedule nightly: job #${id} enqueued`);
    await completed(id);
    const job = await queue.getJob(id);
    expect(job?.meta).toMatchObject({ schedule: 'nightly', manual: true });
    await page.click(link);
    await page.locator('h1 [data-state="completed"]').waitFor();
    expect(await page.textContent('[data-testid="result"]')).toBe('{\n  "kind": "daily"\n}');
  });

  it("shows the last tick's job and its outcome, and warns about a schedule nobody would run", async () => {
    const { page } = browser;
    // The worker's scheduler fires this one; it is paused after its first tick so the last job stays put.
    await queue.createSchedule('sweep', { task: 'report', every: '1s' });
    const fired = await waitFor('a first tick', async () => (await queue.getSchedule('sweep'))?.lastJobId);
    await queue.pauseSchedule('sweep');
    const lastJobId = (await queue.getSchedule('sweep'))!.lastJobId!;
    expect(Number(lastJobId)).toBeGreaterThanOrEqual(Number(fired));
    await completed(lastJobId);
    await queue.createSchedule('held-sync', { task: 'report', every: '1h', queue: 'held' });

    await page.goto(`${server.url}#/schedules`);
    const last = `${row('sweep')} [data-testid="last-run"]`;
    await page.locator(`${last} [data-testid="last-job"]`).waitFor();
    expect(await page.textContent(`${last} [data-testid="last-job"]`)).toBe(`#${lastJobId}`);
    await page.locator(`${last} [data-state="completed"]`).waitFor();
    expect(await page.textContent(last)).toMatch(
      new RegExp(`^(now|[\\dhms ]+ ago) #${lastJobId} completed$`),
    );
    expect(await page.textContent(`${row('sweep')} [data-testid="timing"]`)).toBe('every 1s');

    // Nobody serves 'held': the row says so, and the warning above the table says why.
    await page.locator(`${row('held-sync')} [data-testid="unrouted"]`).waitFor();
    expect(await page.textContent(`${row('held-sync')} td[data-label="queue"]`)).toBe('held unrouted');
    expect(await page.textContent('[data-testid="schedules-unrouted"] li')).toBe(
      'held-sync: no live worker serves queue "held".',
    );
    expect(await page.locator(`${row('sweep')} [data-testid="unrouted"]`).count()).toBe(0);
    await browser.screenshot('schedules-last-run');

    // A phone: the rows become cards, nothing sticks out, every control is big enough to tap.
    const phone = await browser.phone();
    try {
      await phone.page.goto(`${server.url}#/schedules`);
      await phone.page.locator(`${row('sweep')} [data-testid="last-job"]`).waitFor();
      const overflow = await horizontalOverflow(phone.page);
      expect(overflow, overflow.culprits.join(', ')).toMatchObject({ by: 0, hidden: [] });
      expect(await smallTargets(phone.page)).toEqual([]);
      // All six nav links fit: the nav does not need scrolling.
      expect(await phone.page.$eval('.nav', (nav) => nav.scrollWidth - nav.clientWidth)).toBe(0);
      await phone.screenshot('schedules-phone');
    } finally {
      await phone.context.close();
    }
  });

  it("shows an action's error like the other actions: the schedule was deleted meanwhile", async () => {
    // A dashboard that refreshes once in ten minutes, so the row is still on screen after the delete.
    const slow = await startDashboardServer({
      queue,
      port: 0,
      basicAuth: credentials,
      refreshInterval: 600_000,
    });
    try {
      const { page } = browser;
      // The previous test opened and closed a phone tab: make sure this one is in front, so it
      // renders and playwright's clicks (which wait on animation frames) go through.
      await page.bringToFront();
      await queue.createSchedule('doomed', { task: 'report', every: '1h' });
      await page.goto(`${slow.url}#/schedules`);
      await page.locator(`${row('doomed')} [data-testid="pause"]`).waitFor();
      await queue.deleteSchedule('doomed');
      await confirm(page, `${row('doomed')} [data-testid="pause"]`, 'Pause its ticks?');
      await waitForText(
        page,
        '#toast.toast-error',
        'no schedule named "doomed"; listSchedules() shows the ones there are',
      );
      await page.click(`${row('doomed')} [data-testid="run-now"]`);
      await page.click(`${row('doomed')} [data-testid="run-now"]`);
      await page.locator('#toast.toast-error').waitFor();
      const c = new DashboardClient(slow.url, basic(credentials.username, credentials.password));
      await c.session();
      const res = await c.act('POST', 'api/schedules/doomed/resume');
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).error.code).toBe('QUEUE_SCHEDULE_NOT_FOUND');
    } finally {
      await slow.close();
    }
  });

  it('offers no actions when read-only, and refuses them over the API', async () => {
    const { page } = browser;
    await page.bringToFront();
    await queue.createSchedule('nightly', { task: 'report', cron: '0 3 * * *' });
    await page.goto(`${readOnlyServer.url}#/schedules`);
    await page.locator(row('nightly')).waitFor();
    await page.locator('.badge-readonly').waitFor();
    expect(await page.locator(`${row('nightly')} button`).count()).toBe(0);

    const c = new DashboardClient(readOnlyServer.url, basic(credentials.username, credentials.password));
    expect((await c.session()).readOnly).toBe(true);
    for (const action of ['pause', 'resume', 'run-now']) {
      const res = await c.act('POST', `api/schedules/nightly/${action}`);
      expect(res.status, action).toBe(403);
      expect(((await res.json()) as any).error.code, action).toBe('DASHBOARD_READ_ONLY');
    }
    expect((await queue.getSchedule('nightly'))?.pausedAt).toBeNull();
    expect(await queue.listJobs({ task: 'report' })).toHaveLength(0);
    // Without the CSRF token, the writable dashboard refuses too.
    const w = new DashboardClient(server.url, basic(credentials.username, credentials.password));
    await w.session();
    const forged = await w.act('POST', 'api/schedules/nightly/pause', {}, { token: 'forged' });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as any).error.code).toBe('DASHBOARD_CSRF');
    expect((await queue.getSchedule('nightly'))?.pausedAt).toBeNull();
  });
});
