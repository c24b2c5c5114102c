import { hostname } from 'node:os';
import { type JobContext, Queue, silentLogger, type Worker } from '@queue/core';
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
import { basic, DashboardClient } from './helpers/client.js';

/**
 * The job lifecycle in the browser (issue 13): completed and cancelled jobs with their results,
 * a running job's progress, cancelling, tag filters and search with keyset paging, bulk
 * actions, and run-time charts over longer ranges. A real Postgres, a real worker in this
 * process, the standalone server and Debian's Chromium, as in browser.test.ts.
 */
const db = useTestDatabase();
const credentials = { username: 'ops', password: 'lifecycle-test' };

/** Jobs of `step` run until their gate opens, reporting progress when the test says. */
const gates = new Map<string, () => void>();
const report = new Map<string, (value: number | object) => Promise<void>>();
/** `fail` jobs fail while this is true. */
let failing = true;

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

let queue: Queue<typeof tasks>;
let worker: Worker;
let server: StandaloneServer;
let browser: Awaited<ReturnType<typeof openBrowser>>;
const thisWorker = `worker ${hostname()} pid ${process.pid}`;
/** Jobs on this queue wait: the worker does not serve it. */
const HELD = 'held';

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
const finished = (id: string, state: 'completed' | 'cancelled') =>
  waitFor(`job ${id} ${state}`, async () => (await queue.getJob(id))?.state === state);

/** Starts a `step` job and waits until it runs. */
async function running(key: string, options: { tags?: string[] } = {}) {
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
const go = (page: Page, hash: string) => page.evaluate((h) => (location.hash = h), hash);

const rowIds = (page: Page) =>
  page
    .locator('table[data-testid="jobs"] tbody tr[data-job]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')));

/** Clicks a confirming button twice: the first click arms it, showing `question`. */
async function confirm(page: Page, selector: string, question: string) {
  await page.click(selector);
  await waitForText(page, selector, question);
  await page.click(selector);
}

describe.skipIf(optedOut(CHROMIUM))(titleWithOptOut('the job lifecycle in a browser', CHROMIUM), () => {
  it('lists completed jobs with their result, duration and worker, and shows one in full', async () => {
    const { page } = browser;
    const small = await queue.enqueue(
      'quick',
      { n: 1 },
      { tags: ['tenant:acme'], meta: { customer: 'c_1' } },
    );
    const large = await queue.enqueue('big', undefined);
    await finished(small.id, 'completed');
    await finished(large.id, 'completed');

    await page.goto(`${server.url}#/jobs?state=completed`);
    const row = `tr[data-job="${small.id}"]`;
    await page.locator(row).waitFor();
    // As jsonb keeps it: shorter keys first.
    expect(await page.textContent(`${row} [data-testid="result-preview"]`)).toBe('{"n":1,"ok":true}');
    expect(await page.textContent(`${row} [data-testid="duration"]`)).toMatch(/^(<1 ms|\d+ ms|\d+\.\ds)$/);
    expect(await page.textContent(`${row} td[data-label="worker"]`)).toBe(thisWorker);
    expect(await page.textContent(`${row} [data-testid="tags"]`)).toBe('tenant:acme');
    await browser.screenshot('lifecycle-completed-list');

    await page.click(`${row} a`);
    await page.locator('h1 [data-state="completed"]').waitFor();
    expect(await page.textContent('[data-testid="result"]')).toBe('{\n  "n": 1,\n  "ok": true\n}');
    expect(await page.textContent('[data-testid="duration"]')).toMatch(/^(<1 ms|\d+ ms|\d+\.\ds)$/);
    expect(await page.textContent('[data-testid="finished-worker"]')).toBe(thisWorker);
    expect(await page.textContent('[data-testid="meta"]')).toContain('"customer": "c_1"');
    // A completed job goes back in the queue from the history with Retry, so no Cancel here.
    expect(await page.locator('[data-testid="cancel"]').count()).toBe(0);
    await page.locator('[data-testid="retry"]').waitFor();
    await browser.screenshot('lifecycle-job-completed');

    // A 100 KB result: the page gets the first 64 KiB characters and says so.
    await go(page, `#/jobs/${large.id}`);
    await page.locator('[data-testid="result-truncated"]').waitFor();
    expect(await page.textContent('[data-testid="result-truncated"]')).toBe(
      'Showing the first 65,536 of 100,016 characters.',
    );
    expect((await page.textContent('[data-testid="result"]'))!.length).toBe(65_536);
  });

  it("shows a running job's progress as a bar or as JSON, refreshed in place, on the list and its page", async () => {
    const { page } = browser;
    const job = await running('p1');
    await report.get('p1')!(42);
    await page.goto(`${server.url}#/running`);
    const cell = `table[data-testid="running"] tr[data-job="${job.id}"] [data-testid="progress"]`;
    await waitForText(page, cell, '42%');
    expect(await page.getAttribute(`${cell} [role="progressbar"]`, 'aria-valuenow')).toBe('42');
    expect(await page.$eval(`${cell} .progress-fill`, (el) => (el as HTMLElement).style.width)).toBe('42%');

    // Arm the row's Cancel, then let progress move on: the row is updated, not rebuilt, so the
    // half-confirmed button is still there.
    const cancel = `tr[data-job="${job.id}"] [data-testid="cancel"]`;
    await page.click(cancel);
    await waitForText(page, cancel, 'Cancel this job?');
    await report.get('p1')!(73);
    await waitForText(page, cell, '73%');
    expect(await page.textContent(cancel)).toBe('Cancel this job?');
    await report.get('p1')!({ done: 40, of: 120 });
    // Compact, as jsonb keeps it (shorter keys first).
    await waitForText(page, cell, '{"of":120,"done":40}');
    await browser.screenshot('lifecycle-running-progress');

    await page.click(`tr[data-job="${job.id}"] a`);
    const fact = '.facts [data-testid="progress"]';
    await waitForText(page, fact, '{"of":120,"done":40}');
    await report.get('p1')!(90);
    await waitForText(page, fact, '90%');
    await browser.screenshot('lifecycle-job-progress');

    gates.get('p1')!();
    await page.locator('h1 [data-state="completed"]').waitFor();
    await waitForText(page, '.facts [data-testid="progress"]', '90%');
  });

  it('cancels a running job from the running list and a queued one from its page', async () => {
    const { page } = browser;
    const job = await running('c1');
    await page.goto(`${server.url}#/running`);
    await confirm(page, `tr[data-job="${job.id}"] [data-testid="cancel"]`, 'Cancel this job?');
    await waitForText(page, '#toast', `Job #${job.id} is cancelling: its worker is aborting it`);
    // Its worker has aborted the handler's signal; the handler is still winding down.
    await page.locator(`tr[data-job="${job.id}"] [data-state="cancelling"]`).waitFor();
    await page.click(`tr[data-job="${job.id}"] a`);
    await page.locator('h1 [data-state="cancelling"]').waitFor();
    expect(await page.locator('[data-testid="cancel"]').count()).toBe(0);
    await browser.screenshot('lifecycle-job-cancelling');

    const cancelled = nextEvent<{ job: { id: string } }>(worker, 'cancelled', (e) => e.job.id === job.id);
    gates.get('c1')!();
    await cancelled;
    await page.locator('h1 [data-state="cancelled"]').waitFor();
    expect(await page.locator('h1 [data-state="cancelling"]').count()).toBe(0);

    const queued = await queue.enqueue('quick', { n: 2 }, { queue: HELD });
    await go(page, `#/jobs/${queued.id}`);
    await confirm(page, '[data-testid="cancel"]', 'Cancel this job?');
    await waitForText(page, '#toast', `Job #${queued.id} cancelled`);
    await page.locator('h1 [data-state="cancelled"]').waitFor();
    await browser.screenshot('lifecycle-job-cancelled');

    await go(page, '#/jobs?state=cancelled');
    await page.locator(`tr[data-job="${queued.id}"]`).waitFor();
    expect(await rowIds(page)).toEqual([queued.id, job.id]);
    expect(await page.textContent(`tr[data-job="${job.id}"] td[data-label="worker"]`)).toBe(thisWorker);
    expect(await page.textContent(`tr[data-job="${queued.id}"] td[data-label="worker"]`)).toBe('—');
  });

  it("shows core's refusal when the job finished or went away before the click", async () => {
    // A page that does not refresh by itself, so it still offers Cancel for a job that is gone.
    const still = await startDashboardServer({
      queue,
      port: 0,
      unsafeNoAuth: true,
      refreshInterval: 600_000,
    });
    const tab = await browser.phone();
    try {
      const done = await queue.enqueue('quick', undefined, { queue: HELD });
      await tab.page.goto(`${still.url}#/jobs/${done.id}`);
      await tab.page.locator('[data-testid="cancel"]').waitFor();
      await queue.cancelJob(done.id);
      await confirm(tab.page, '[data-testid="cancel"]', 'Cancel this job?');
      await tab.page.locator('#toast.toast-error').waitFor();
      expect(await tab.page.textContent('#toast')).toBe(
        `cannot cancel job ${done.id}: it was already cancelled; nothing is left to cancel`,
      );

      const gone = await queue.enqueue('quick', undefined, { queue: HELD });
      await tab.page.goto(`${still.url}#/jobs/${gone.id}`);
      await tab.page.locator('[data-testid="cancel"]').waitFor();
      await queue.deleteJob(gone.id);
      await confirm(tab.page, '[data-testid="cancel"]', 'Cancel this job?');
      await waitForText(tab.page, '#toast', `no job with id ${gone.id}`);
      expect(await tab.page.getAttribute('#toast', 'class')).toContain('toast-error');
      await tab.screenshot('lifecycle-phone-cancel-refused');

      // The same answers from the API: 409 and 404 with core's codes.
      const c = new DashboardClient(still.url);
      await c.session();
      const finishedRes = await c.act('POST', `api/jobs/${done.id}/cancel`);
      expect(finishedRes.status).toBe(409);
      expect(((await finishedRes.json()) as any).error.code).toBe('QUEUE_JOB_FINISHED');
      const goneRes = await c.act('POST', `api/jobs/${gone.id}/cancel`);
      expect(goneRes.status).toBe(404);
      expect(((await goneRes.json()) as any).error.code).toBe('QUEUE_JOB_NOT_FOUND');
    } finally {
      await tab.context.close();
      await still.close();
    }
  });

  it('filters by tag and by a JSON search, refuses bad JSON, and pages live jobs and the history', async () => {
    const { page } = browser;
    const acme = await queue.enqueue(
      'quick',
      { orderId: 7 },
      { queue: HELD, tags: ['tenant:acme'], meta: { customer: 'c_9' } },
    );
    const globex = await queue.enqueue('quick', { orderId: 8 }, { queue: HELD, tags: ['tenant:globex'] });
    await page.goto(`${server.url}#/jobs?queue=${HELD}`);
    await page.locator(`tr[data-job="${globex.id}"]`).waitFor();

    await page.fill('[data-testid="filter-tag"]', 'tenant:acme');
    await page.click('[data-testid="filter"]');
    await page.waitForFunction(() => location.hash.includes('tag=tenant%3Aacme'));
    await waitFor(
      'only the acme job',
      async () => JSON.stringify(await rowIds(page)) === JSON.stringify([acme.id]),
    );

    // A tag on a row filters by it.
    await go(page, `#/jobs?queue=${HELD}`);
    await page.click(`tr[data-job="${globex.id}"] a.tag`);
    await waitFor(
      'only the globex job',
      async () => JSON.stringify(await rowIds(page)) === JSON.stringify([globex.id]),
    );
    expect(await page.inputValue('[data-testid="filter-tag"]')).toBe('tenant:globex');

    // The search matches the payload or the metadata, by containment.
    await go(page, `#/jobs?queue=${HELD}`);
    await page.fill('[data-testid="filter-search"]', '{"orderId": 8}');
    await page.click('[data-testid="filter"]');
    await waitFor(
      'the search by payload',
      async () => JSON.stringify(await rowIds(page)) === JSON.stringify([globex.id]),
    );
    await page.fill('[data-testid="filter-search"]', '{"customer": "c_9"}');
    await page.click('[data-testid="filter"]');
    await waitFor(
      'the search by meta',
      async () => JSON.stringify(await rowIds(page)) === JSON.stringify([acme.id]),
    );
    await browser.screenshot('lifecycle-search');

    // Not JSON: refused in the page, which sends nothing; and by the server, for any other client.
    const before = await page.evaluate(() => location.hash);
    await page.fill('[data-testid="filter-search"]', '{orderId: 7}');
    await page.click('[data-testid="filter"]');
    await waitForText(page, '[data-testid="search-error"]', await searchErrorFor('{orderId: 7}'));
    expect(await page.evaluate(() => location.hash)).toBe(before);
    await browser.screenshot('lifecycle-search-refused');
    const c = new DashboardClient(server.url, basic(credentials.username, credentials.password));
    for (const [search, message] of [
      ['{orderId: 7}', /^search must be JSON, such as \{"userId": 42\}: /],
      ['[7]', /^search must be a JSON object, such as \{"userId": 42\}, not an array$/],
      ['{}', /^search must name at least one field/],
    ] as const) {
      const res = await c.get(`api/jobs?search=${encodeURIComponent(search)}`);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as any;
      expect(error.code).toBe('DASHBOARD_BAD_REQUEST');
      expect(error.message).toMatch(message);
    }

    // What only the server can refuse is said beside the filters too, not as a lost connection.
    await go(page, `#/jobs?tag=${'t'.repeat(65)}`);
    await waitForText(
      page,
      '[data-testid="search-error"]',
      `a tag is at most 64 characters, got "${'t'.repeat(65)}"`,
    );
    await go(page, '#/jobs?state=completed&cursor=not-a-cursor');
    await page.locator('[data-testid="search-error"]:not(:empty)').waitFor();
    expect(await page.textContent('[data-testid="search-error"]')).toMatch(/cursor/);
    expect(await page.textContent('[data-testid="live"]')).toBe('live');

    // Keyset paging of live jobs, both ways, with a filter.
    await queue.enqueueMany(
      Array.from({ length: 60 }, (_, n) => ({
        task: 'quick' as const,
        payload: { n },
        options: { queue: HELD, tags: ['paged'] },
      })),
    );
    await go(page, `#/jobs?queue=${HELD}&tag=paged`);
    await waitFor('the first page of 50', async () => (await rowIds(page)).length === 50);
    const first = await rowIds(page);
    await page.click('[data-testid="older"]');
    await waitFor('the last 10', async () => (await rowIds(page)).length === 10);
    expect(await page.locator('[data-testid="older"]').count()).toBe(0);
    await page.click('[data-testid="newer"]');
    await waitFor(
      'the first page again',
      async () => JSON.stringify(await rowIds(page)) === JSON.stringify(first),
    );

    // The history, newest first, paged forward with core's cursor.
    const done = await queue.enqueueMany(
      Array.from({ length: 60 }, (_, n) => ({
        task: 'quick' as const,
        payload: { n },
        options: { tags: ['hist'] },
      })),
    );
    for (const j of done) await finished(j.id, 'completed');
    await go(page, '#/jobs?state=completed&tag=hist');
    await waitFor('50 completed', async () => (await rowIds(page)).length === 50);
    const newest = await rowIds(page);
    await page.click('[data-testid="older"]');
    await waitFor('the 10 oldest completed', async () => (await rowIds(page)).length === 10);
    const oldest = await rowIds(page);
    expect(new Set([...newest, ...oldest])).toEqual(new Set(done.map((j) => j.id)));
    expect(await page.evaluate(() => location.hash)).toMatch(/cursor=/);
    await page.click('[data-testid="newest"]');
    await waitFor(
      'the newest page again',
      async () => JSON.stringify(await rowIds(page)) === JSON.stringify(newest),
    );
    await queue.deleteJobs({ state: 'available', queue: HELD });
  });

  it('retries, cancels and deletes ticked jobs in bulk, after a confirming click', async () => {
    const { page } = browser;
    failing = true;
    const failed = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const f = nextEvent<{ job: { id: string } }>(worker, 'failed', (e: any) => e.job.payload?.n === n);
        await queue.enqueue('fail', { n }, { maxAttempts: 1, tags: ['bulk'] });
        return (await f).job.id;
      }),
    );
    await page.goto(`${server.url}#/failed?task=fail`);
    for (const id of failed) await page.locator(`tr[data-job="${id}"]`).waitFor();
    expect(await page.isDisabled('[data-testid="bulk-retry"]')).toBe(true);
    await page.check(`tr[data-job="${failed[0]}"] [data-testid="select"]`);
    await page.check(`tr[data-job="${failed[1]}"] [data-testid="select"]`);
    await waitForText(page, '[data-testid="selected"]', '2 selected');
    await browser.screenshot('lifecycle-bulk-selected');

    failing = false;
    await confirm(page, '[data-testid="bulk-retry"]', 'Retry 2 jobs?');
    await waitForText(page, '#toast', '2 jobs retried');
    await finished(failed[0]!, 'completed');
    await finished(failed[1]!, 'completed');
    await waitFor(
      'one failed job left',
      async () => JSON.stringify(await rowIds(page)) === JSON.stringify([failed[2]]),
    );
    await waitForText(page, '[data-testid="selected"]', 'none selected');

    await page.check('[data-testid="select-all"]');
    await confirm(page, '[data-testid="bulk-delete"]', 'Delete 1 job?');
    await waitForText(page, '#toast', '1 job deleted');
    await page.locator('tr.empty').waitFor();
    expect(await queue.getJob(failed[2]!)).toBeNull();

    // Two waiting jobs and a running one: the waiting ones are cancelled at once, the running
    // one's worker is told to abort it.
    const later = await Promise.all(
      [1, 2].map((n) => queue.enqueue('quick', { n }, { delay: 3_600_000, tags: ['bulk-cancel'] })),
    );
    const busy = await running('b1', { tags: ['bulk-cancel'] });
    await go(page, '#/jobs?tag=bulk-cancel');
    await waitFor('three jobs', async () => (await rowIds(page)).length === 3);
    await page.check('[data-testid="select-all"]');
    await waitForText(page, '[data-testid="selected"]', '3 selected');
    await confirm(page, '[data-testid="bulk-cancel"]', 'Cancel 3 jobs?');
    await waitForText(page, '#toast', '2 jobs cancelled; 1 job cancelling (their workers abort them)');
    await page.locator(`tr[data-job="${busy.id}"] [data-state="cancelling"]`).waitFor();
    for (const j of later) await finished(j.id, 'cancelled');
    const cancelled = nextEvent<{ job: { id: string } }>(worker, 'cancelled', (e) => e.job.id === busy.id);
    gates.get('b1')!();
    await cancelled;
    await go(page, '#/jobs?state=cancelled&tag=bulk-cancel');
    await waitFor('three cancelled', async () => (await rowIds(page)).length === 3);

    // Completed jobs go back in the queue from the history.
    await go(page, '#/jobs?state=completed&tag=bulk');
    await waitFor('two completed', async () => (await rowIds(page)).length === 2);
    await page.check('[data-testid="select-all"]');
    await confirm(page, '[data-testid="bulk-retry"]', 'Retry 2 jobs?');
    await waitForText(page, '#toast', '2 jobs retried');
    // Done again before the next test counts completions.
    for (const id of failed.slice(0, 2)) await finished(id, 'completed');

    // Bulk actions are actions like the others: CSRF token, JSON body, write access.
    const c = new DashboardClient(server.url, basic(credentials.username, credentials.password));
    const noToken = await c.act('POST', 'api/bulk/delete', { ids: ['1'] });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as any).error.code).toBe('DASHBOARD_CSRF');
    await c.session();
    const bad = await c.act('POST', 'api/bulk/delete', { state: 'failed' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toBe('unknown field "state": expected ids');
  });

  it('charts run times (p50, p95) beside throughput, over 1 h, 6 h, 24 h and 7 d', async () => {
    const { page } = browser;
    await db.query('DELETE FROM queue.job_stats');
    const done = await queue.enqueueMany(
      [1, 2, 3, 4, 5].map((n) => ({ task: 'quick' as const, payload: { n } })),
    );
    for (const j of done) await finished(j.id, 'completed');
    await waitFor('5 completions in the statistics', async () => {
      const [r] = await db.query('SELECT coalesce(sum(completed), 0)::int AS n FROM queue.job_stats');
      return r.n === 5;
    });
    // Earlier minutes as workers record them: 100 jobs 3 hours ago (60 took 64-128 ms, 40 took
    // 512-1024 ms), 50 jobs 3 days ago (all 2-4 s). Histogram bucket i (0-based) is [2^(i-1), 2^i) ms.
    const histogram = (counts: Record<number, number>) =>
      `ARRAY[${Array.from({ length: 32 }, (_, i) => counts[i] ?? 0).join(',')}]`;
    await db.query(`INSERT INTO queue.job_stats (minute, queue, worker, completed, failed, durations) VALUES
      (date_trunc('minute', now()) - interval '3 hours', 'default', 'earlier', 100, 0, ${histogram({ 7: 60, 10: 40 })}),
      (date_trunc('minute', now()) - interval '3 days', 'default', 'earlier', 50, 0, ${histogram({ 12: 50 })})`);

    await page.goto(server.url);
    await waitForText(page, '[data-testid="completed-hour"]', '5 completed');
    await page.locator('svg.dchart g.point').first().waitFor();
    expect(await page.inputValue('[data-testid="duration-queue"]')).toBe('default');
    expect(await page.textContent('[data-testid="durations-latest"]')).toMatch(
      /^latest: p50 [\d.]+ ms · p95 [\d.]+ ms$/,
    );
    const points = () =>
      page
        .locator('svg.dchart g.point')
        .evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-p50'), g.getAttribute('data-p95')]));
    expect(await points()).not.toContainEqual(['90.5', '724.1']);
    await browser.screenshot('lifecycle-charts-1h');

    for (const [range, title, completed, seen] of [
      ['6h', 'Last 6 hours', '105 completed', [['90.5', '724.1']]],
      ['24h', 'Last 24 hours', '105 completed', [['90.5', '724.1']]],
      [
        '7d',
        'Last 7 days',
        '155 completed',
        [
          ['90.5', '724.1'],
          ['2896.3', '2896.3'],
        ],
      ],
    ] as const) {
      await page.click(`[data-testid="range-${range}"]`);
      await page.locator('h2.card-title', { hasText: title }).waitFor();
      await waitForText(page, '[data-testid="completed-hour"]', completed);
      for (const p of seen)
        await waitFor(`point ${p} in ${range}`, async () =>
          (await points()).some((q) => q[0] === p[0] && q[1] === p[1]),
        );
      expect(await page.textContent('[data-testid="queues"] thead')).toContain(`done / ${range}`);
      await browser.screenshot(`lifecycle-charts-${range}`);
    }
    expect(await page.evaluate(() => location.hash)).toBe('#/?range=7d');
    const res = await new DashboardClient(server.url, basic(credentials.username, credentials.password)).get(
      'api/overview?range=30d',
    );
    expect(res.status).toBe(400);
  });

  it('fits a 390 px phone screen on the new pages and lists', async () => {
    const job = await running('phone');
    await report.get('phone')!({ done: 1234, of: 98_765, file: 'reconciliation-2026-q1-europe-west.csv' });
    const failedOne = nextEvent<{ job: { id: string } }>(
      worker,
      'failed',
      (e: any) => e.job.payload?.n === 99,
    );
    failing = true;
    await queue.enqueue(
      'fail',
      { n: 99 },
      { maxAttempts: 1, tags: ['tenant:northwind-traders-international'] },
    );
    await failedOne;
    const completed = await queue.listJobs({ state: 'completed', limit: 1, order: 'desc' });
    const tab = await browser.phone();
    try {
      const pages: [name: string, hash: string, mark: string][] = [
        ['completed', '#/jobs?state=completed', '[data-testid="tab-completed"].tab-active'],
        ['cancelled', '#/jobs?state=cancelled', '[data-testid="tab-cancelled"].tab-active'],
        ['failed-bulk', '#/failed', '[data-testid="bulk-retry"]'],
        ['job-completed', `#/jobs/${completed[0]!.id}`, '[data-testid="result"]'],
        ['running-progress', '#/running', `tr[data-job="${job.id}"] [data-testid="progress"]`],
        ['job-progress', `#/jobs/${job.id}`, '.facts [data-testid="progress"]'],
        ['overview-7d', '#/?range=7d', 'svg.dchart'],
        ['search-refused', '#/jobs', '[data-testid="filter-search"]'],
      ];
      for (const [name, hash, mark] of pages) {
        await tab.page.goto(server.url + hash);
        await tab.page.locator(mark).first().waitFor();
        if (name === 'search-refused') {
          await tab.page.fill('[data-testid="filter-search"]', '{"unterminated": ');
          await tab.page.click('[data-testid="filter"]');
          await tab.page.locator('[data-testid="search-error"]:not(:empty)').waitFor();
        }
        const { by, hidden, culprits } = await horizontalOverflow(tab.page);
        expect
          .soft({ page: name, by, hidden }, culprits.join('; '))
          .toEqual({ page: name, by: 0, hidden: [] });
        expect.soft({ page: name, small: await smallTargets(tab.page) }).toEqual({ page: name, small: [] });
        await tab.screenshot(`lifecycle-phone-${name}`);
      }
    } finally {
      await tab.context.close();
      gates.get('phone')!();
      await finished(job.id, 'completed');
    }
  });
});

/** What the page says about a search that is not JSON: the browser's own parse error, after our words. */
async function searchErrorFor(text: string): Promise<string> {
  return browser.page.evaluate((t) => {
    try {
      JSON.parse(t);
      return '';
    } catch (e) {
      return `Search must be JSON, such as {"userId": 42}: ${(e as Error).message}`;
    }
  }, text);
}
