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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../src/index.js';
import { horizontalOverflow, openBrowser, smallTargets, waitForText } from './helpers/browser.js';

/**
 * The Limits page (issue 15): a queue with flow limits shows its slots in use of the limit,
 * its per-key limit, fairness and its waiting jobs by key, held back by the limit while a real
 * worker runs the others; the operator raises the limit from the page and the worker starts
 * one more at once; a bad value is refused with core's message beside the form; removing the
 * limits takes the queue off the page. Real Postgres, worker, standalone server and Chromium.
 */
const db = useTestDatabase();
const credentials = { username: 'ops', password: 'limits-test' };

// Every job runs until the test lets them all finish, so the limit holds the others back.
let release!: () => void;
const gate = new Promise<void>((resolve) => {
  release = resolve;
});
const tasks = { mail: async () => gate };

let queue: Queue<typeof tasks>;
let worker: Worker;
let server: StandaloneServer;
let browser: Awaited<ReturnType<typeof openBrowser>>;

beforeAll(async () => {
  if (optedOut(CHROMIUM)) return;
  queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
  await queue.registerTasks();
  worker = queue.worker({ queues: ['default'], concurrency: 6, pollInterval: 100 });
  await worker.start();
  server = await startDashboardServer({ queue, port: 0, basicAuth: credentials, refreshInterval: 250 });
  browser = await openBrowser({ httpCredentials: credentials });
});

afterAll(async () => {
  release?.();
  await browser?.close();
  await server?.close();
  await queue?.close();
  if (!optedOut(CHROMIUM)) await expectNoAdvisoryLocks(db);
});

const card = '[data-testid="limited-queue"][data-queue="default"]';
const cell = (id: string) => `${card} [data-testid="limit-usage"] [data-testid="${id}"]`;

async function setField(page: Page, name: string, value: string) {
  await page.fill(`${card} [data-testid="${name}"]`, value);
}

describe.skipIf(optedOut(CHROMIUM))(titleWithOptOut('the limits page in a browser', CHROMIUM), () => {
  it('shows in use / limit and waiting by key, changes a limit, refuses a bad one, removes them', async () => {
    const { page } = browser;
    await queue.setLimits('default', { concurrency: 2, keyConcurrency: 1 });
    // Three keys: tenant:a has the most jobs, so it has the most waiting whichever two keys run.
    const ids: string[] = [];
    for (const [key, n] of [
      ['tenant:a', 3],
      ['tenant:b', 2],
      ['tenant:c', 1],
    ] as const) {
      for (let i = 0; i < n; i++)
        ids.push((await queue.enqueue('mail', undefined, { concurrencyKey: key })).id);
    }
    await waitFor('two jobs running', async () => (await queue.limitUsage('default')).inUse === 2);

    await page.goto(`${server.url}#/limits`);
    await page.locator(card).waitFor();
    expect(await page.textContent('.nav a.active')).toBe('Limits');
    await waitForText(page, cell('in-use'), '2 / 2');
    expect(await page.textContent(cell('key-limit'))).toBe('1');
    expect(await page.textContent(cell('rate'))).toBe('no limit');
    // A per-key limit claims round-robin across keys: shown as fair.
    expect(await page.textContent(cell('fair'))).toBe('yes');
    expect(await page.textContent(cell('running'))).toBe('2');
    expect(await page.textContent(cell('waiting'))).toBe('4');
    const usage = await queue.limitUsage('default');
    const keyRows = page.locator(`${card} [data-testid="keys"] tbody tr`);
    expect(await keyRows.count()).toBe(3);
    expect(await keyRows.first().getAttribute('data-key')).toBe('tenant:a');
    for (const k of usage.keys) {
      const row = `${card} [data-testid="keys"] tr[data-key="${k.key}"]`;
      expect(await page.textContent(`${row} [data-testid="key-waiting"]`)).toBe(String(k.waiting));
      expect(await page.textContent(`${row} [data-testid="key-running"]`)).toBe(String(k.running));
    }
    expect(usage.keys.reduce((a, k) => a + k.waiting, 0)).toBe(4);
    // The form starts with the limits in force.
    expect(await page.inputValue(`${card} [data-testid="concurrency"]`)).toBe('2');
    await browser.screenshot('limits-held');

    // On a 390 px phone: nothing sticks out past the screen, every control is big enough to tap.
    const phone = await browser.phone();
    await phone.page.goto(`${server.url}#/limits`);
    await waitForText(phone.page, cell('in-use'), '2 / 2');
    await phone.screenshot('limits-phone');
    expect(await horizontalOverflow(phone.page)).toMatchObject({ by: 0 });
    expect(await smallTargets(phone.page)).toEqual([]);
    await phone.context.close();

    // Raise the global limit from the page: the worker hears of it and starts a third key's job.
    await setField(page, 'concurrency', '3');
    await setField(page, 'rate-limit', '50');
    await setField(page, 'rate-period', '60000');
    await page.click(`${card} [data-testid="save-limits"]`);
    await waitForText(page, '#toast', 'Limits of default saved');
    expect(await queue.getLimits('default')).toEqual({
      queue: 'default',
      concurrency: 3,
      keyConcurrency: 1,
      rate: { limit: 50, periodMs: 60_000 },
      fair: false,
    });
    await waitForText(page, cell('in-use'), '3 / 3');
    expect(await page.textContent(cell('running'))).toBe('3');
    expect(await page.textContent(cell('waiting'))).toBe('3');
    // The two starts before the rate limit existed are not in its log: only the third is.
    expect(await page.textContent(cell('rate'))).toBe('1 / 50 per 1m');

    // A bad value: core refuses it, its message shows beside the form, nothing changes.
    await setField(page, 'concurrency', '0');
    await page.click(`${card} [data-testid="save-limits"]`);
    await waitForText(
      page,
      `${card} [data-testid="limits-error"]`,
      'invalid limits.concurrency: must be an integer from 1 to 65535 (or null to remove the limit), got 0',
    );
    await setField(page, 'concurrency', 'ten');
    await page.click(`${card} [data-testid="save-limits"]`);
    await waitForText(
      page,
      `${card} [data-testid="limits-error"]`,
      'invalid limits.concurrency: must be an integer from 1 to 65535 (or null to remove the limit), got "ten"',
    );
    expect((await queue.getLimits('default')).concurrency).toBe(3);
    await browser.screenshot('limits-refused');

    // Remove them all (a confirming button): the queue leaves the page, its jobs all run.
    const remove = `${card} [data-testid="remove-limits"]`;
    await page.click(remove);
    await waitForText(page, remove, 'Remove all its limits?');
    await page.click(remove);
    await waitForText(page, '#toast', 'Limits of default removed: its jobs are claimed without them');
    await page.locator(card).waitFor({ state: 'detached' });
    expect(await queue.getLimits()).toEqual([]);
    await waitFor('six jobs running', async () => (await queue.limitUsage('default')).running === 6);
    release();
    await waitFor('all done', async () => {
      for (const id of ids) if ((await queue.getJob(id))?.state !== 'completed') return false;
      return true;
    });
    expect(browser.errors).toEqual([]);
  });
});
