import { CHROMIUM, nextEvent, optedOut, titleWithOptOut } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { startDashboardServer } from '../src/index.js';
import { waitForText } from './helpers/browser.js';
import { DashboardClient } from './helpers/client.js';
import {
  browser,
  confirm,
  finished,
  gates,
  go,
  HELD,
  queue,
  report,
  rowIds,
  running,
  server,
  thisWorker,
  worker,
} from './helpers/lifecycle-fixture.js';

/**
 * The job lifecycle in the browser (issue 13): completed and cancelled jobs with their results,
 * a running job's progress and cancelling it. Shared setup: helpers/lifecycle-fixture.ts.
 */
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
});
