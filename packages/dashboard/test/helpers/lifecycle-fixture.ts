import { hostname } from 'node:os';
import { type JobContext, Queue, silentLogger, type Worker } from '@queue/core';
import {
  CHROMIUM,
  expectNoAdvisoryLocks,
  nextEvent,
  optedOut,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../../src/index.js';
import { openBrowser, waitForText } from './browser.js';

/**
 * What the job-lifecycle browser tests share (lifecycle.browser.test.ts and
 * lifecycle-lists.browser.test.ts): a real Postgres, a real worker in the test's process, the
 * standalone server and Debian's Chromium, as in browser.test.ts. Each test file that imports
 * this gets its own (vitest loads modules per file); the bindings below are live.
 */
export const db = useTestDatabase();
export const credentials = { username: 'ops', password: 'lifecycle-test' };

/** Jobs of `step` run until their gate opens, reporting progress when the test says. */
export const gates = new Map<string, () => void>();
export const report = new Map<string, (value: number | object) => Promise<void>>();
/** `fail` jobs fail while this is true. */
let failing = true;
export const setFailing = (value: boolean) => {
  failing = value;
};

/**
 * Runs until its gate opens, then returns. A cancel aborts its signal, and it throws the
 * signal's reason only once its gate opens: a handler that takes a moment to wind down, so
 * the page can be seen saying 'cancelling' meanwhile.
 */
function step(p: { key: string }, ctx: JobContext<{ key: string }>) {
  report.set(p.key, (v) => ctx.progress(v));
  return new Promise((resolve, reject) => {
    gates.set(p.key, () => (ctx.signal.aborted ? reject(ctx.signal.reason) : resolve({ finished: p.key })));
  });
}

const tasks = {
  quick: (p: { n?: number; orderId?: number } | undefined) => ({ ok: true, n: p?.n ?? null }),
  big: () => ({ blob: 'x'.repeat(100_000) }),
  step,
  fail: () => {
    if (failing) throw new Error('the card was declined');
  },
};

export let queue: Queue<typeof tasks>;
export let worker: Worker;
export let server: StandaloneServer;
export let browser: Awaited<ReturnType<typeof openBrowser>>;
export const thisWorker = `worker ${hostname()} pid ${process.pid}`;
/** Jobs on this queue wait: the worker does not serve it. */
export const HELD = 'held';

beforeAll(async () => {
  if (optedOut(CHROMIUM)) return;
  queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
  worker = queue.worker({ queues: ['default'], concurrency: 4, pollInterval: 100, progressInterval: 10 });
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

/** Resolves once the job is in the history with this outcome (the worker writes it in batches). */
export const finished = (id: string, state: 'completed' | 'cancelled') =>
  waitFor(`job ${id} ${state}`, async () => (await queue.getJob(id))?.state === state);

/** Starts a `step` job and waits until it runs. */
export async function running(key: string, options: { tags?: string[] } = {}) {
  const started = nextEvent<{ job: { id: string } }>(
    worker,
    'started',
    (e: any) => e.job.payload?.key === key,
  );
  const job = await queue.enqueue('step', { key }, options);
  await started;
  await waitFor(`${key} to be able to report`, () => report.has(key));
  return job;
}

/** Same-document navigation: keeps what the page remembers (the jobs this tab asked to cancel). */
export const go = (page: Page, hash: string) => page.evaluate((h) => (location.hash = h), hash);

export const rowIds = (page: Page) =>
  page
    .locator('table[data-testid="jobs"] tbody tr[data-job]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')));

/** Clicks a confirming button twice: the first click arms it, showing `question`. */
export async function confirm(page: Page, selector: string, question: string) {
  await page.click(selector);
  await waitForText(page, selector, question);
  await page.click(selector);
}

/** What the page says about a search that is not JSON: the browser's own parse error, after our words. */
export async function searchErrorFor(text: string): Promise<string> {
  return browser.page.evaluate((t) => {
    try {
      JSON.parse(t);
      return '';
    } catch (e) {
      return `Search must be JSON, such as {"userId": 42}: ${(e as Error).message}`;
    }
  }, text);
}
