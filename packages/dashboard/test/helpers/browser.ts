import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, requirePrerequisite } from '@queue/test-utils';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;

/** Debian's chromium (or CHROMIUM_PATH), headless, with a fresh profile. */
export async function openBrowser(
  options: { httpCredentials?: { username: string; password: string } } = {},
) {
  const profile = mkdtempSync(join(tmpdir(), 'queue-dashboard-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: requirePrerequisite(CHROMIUM),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
    ...options,
  });
  const errors: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`unexpected dialog: ${d.message()}`);
    void d.dismiss();
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    /** Uncaught page errors and dialogs seen so far (an XSS would open one). */
    errors,
    screenshot: (name: string, p: Page = page) =>
      p.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true }),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the element's text (trimmed) equals `text`, as the page updates itself. */
export async function waitForText(
  page: Page,
  selector: string,
  text: string,
  timeout = 20_000,
): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => document.querySelector(sel!)?.textContent?.trim() === want,
    [selector, text] as const,
    { timeout, polling: 'raf' },
  );
}
