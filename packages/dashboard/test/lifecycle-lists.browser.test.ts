import { CHROMIUM, nextEvent, optedOut, titleWithOptOut, waitFor } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { horizontalOverflow, smallTargets, waitForText } from './helpers/browser.js';
import { basic, DashboardClient } from './helpers/client.js';
import {
  browser,
  confirm,
  credentials,
  db,
  finished,
  gates,
  go,
  HELD,
  queue,
  report,
  rowIds,
  running,
  searchErrorFor,
  server,
  setFailing,
  worker,
} from './helpers/lifecycle-fixture.js';

/**
 * The job lists of the lifecycle in the browser (issue 13): tag filters and search with keyset
 * paging, bulk actions, run-time charts over longer ranges, and a phone-sized screen. Shared
 * setup: helpers/lifecycle-fixture.ts.
 */
describe.skipIf(optedOut(CHROMIUM))(
  titleWithOptOut('job lists, bulk actions and charts in a browser', CHROMIUM),
  () => {
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
      setFailing(true);
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

      setFailing(false);
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
      const res = await new DashboardClient(
        server.url,
        basic(credentials.username, credentials.password),
      ).get('api/overview?range=30d');
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
      setFailing(true);
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
  },
);
