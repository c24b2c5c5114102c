import { mkdirSync } from 'node:fs';
import { CHROMIUM, requirePrerequisite } from '@queue/test-utils';
import { type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';

export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;

/** An iPhone-class screen: 390 CSS px wide, 3 device pixels to a CSS pixel, touch, mobile viewport rules. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** A full-page PNG into test-artifacts/, to look at after a run. */
  screenshot(name: string): Promise<Buffer>;
}

/**
 * Debian's chromium (or CHROMIUM_PATH), headless, one process: a desktop tab at once and a
 * phone tab on demand, each in its own context (a fresh profile, its own viewport).
 */
export async function openBrowser(
  options: { httpCredentials?: { username: string; password: string } } = {},
) {
  const browser = await chromium.launch({
    executablePath: requirePrerequisite(CHROMIUM),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const errors: string[] = [];
  mkdirSync(ARTIFACTS, { recursive: true });

  async function tab(contextOptions: BrowserContextOptions): Promise<Tab> {
    const context = await browser.newContext({ ...options, ...contextOptions });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => {
      errors.push(`unexpected dialog: ${d.message()}`);
      void d.dismiss();
    });
    return {
      context,
      page,
      screenshot: (name) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true }),
    };
  }

  const desktop = await tab({ viewport: { width: 1280, height: 860 } });
  return {
    ...desktop,
    /** Uncaught page errors and dialogs seen so far, in any tab (an XSS would open one). */
    errors,
    /** A second tab with a phone's screen (PHONE), sharing the browser process. */
    phone: () => tab(PHONE),
    close: () => browser.close(),
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
    // Polled on a timer, not on animation frames: a tab Chromium has put in the background (a
    // phone tab opened and closed beside it) runs no frames, and the wait would stall.
    { timeout, polling: 50 },
  );
}

/**
 * How far the page reaches past the right edge of the layout viewport, in CSS px (0 when it
 * fits), with the elements that stick out, to name in a failure. A phone zooms out to show
 * an overflowing page, so innerWidth can grow with the page: the layout viewport's own width
 * (clientWidth of <html>, 390 on PHONE) is the yardstick. `hidden` names <html> or <body>
 * with overflow-x other than visible: that would hide an overflow, not fix it.
 */
export async function horizontalOverflow(
  page: Page,
): Promise<{ by: number; hidden: string[]; culprits: string[] }> {
  return page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const hidden: string[] = [];
    for (const el of [root, document.body]) {
      const x = getComputedStyle(el).overflowX;
      if (x !== 'visible') hidden.push(`${el.tagName.toLowerCase()} has overflow-x: ${x}`);
    }
    // Elements past the edge that no box between them and <body> scrolls or clips.
    const contained = (el: Element): boolean => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== 'visible') return true;
      }
      return false;
    };
    const culprits: string[] = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 0.5 && getComputedStyle(el).position !== 'fixed' && !contained(el)) {
        const name = el.getAttribute('data-testid') ?? el.getAttribute('class') ?? '';
        culprits.push(
          `<${el.tagName.toLowerCase()}${name ? ` ${name}` : ''}> ends at ${Math.round(r.right)}px`,
        );
        if (culprits.length >= 8) break;
      }
    }
    return { by: Math.max(0, root.scrollWidth - width), hidden, culprits };
  });
}

/**
 * Controls (buttons, nav links, tabs, inputs, and the links that open a job or a queue from a
 * table) smaller than `min` CSS px either way: 44 is the touch target that Apple's and
 * WCAG 2.5.5's guidance asks for. Each as "label w×h".
 */
export async function smallTargets(page: Page, min = 44): Promise<string[]> {
  return page.evaluate((min) => {
    const small: string[] = [];
    for (const el of document.querySelectorAll('button, .btn, input, .nav a, .tab, .table td.key > a')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not displayed
      if (r.width < min || r.height < min) {
        const label = el.textContent?.trim() || el.getAttribute('aria-label') || el.tagName.toLowerCase();
        small.push(`${label} ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return small;
  }, min);
}
