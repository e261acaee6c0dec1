// A real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the dashboard's
// browser tests: one page that records every console error, uncaught page error, failed request,
// HTTP error answer and dialog (an alert() from injected script would be one), and saves
// full-page screenshots under test-output/screenshots/ (gitignored), returning their paths.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumSkip(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM} (apt-get install chromium): the browser tests need it`;
}

export const SCREENSHOTS = resolve(import.meta.dirname, '..', '..', 'test-output', 'screenshots');

export interface BrowserSession {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** What went wrong in the page so far: console errors, page errors, failed requests, 4xx/5xx answers, dialogs. */
  readonly problems: string[];
  /** A full-page PNG under SCREENSHOTS/<group>/; its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(group: string): Promise<BrowserSession> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 60_000 });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning')
        problems.push(`console ${m.type()}: ${m.text()} (${page.url()})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
    page.on('requestfailed', (r) => {
      // A request the browser itself cancelled because the test navigated on (the icon of a page
      // left at once) is not the server failing it.
      if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
      problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog ${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    const dir = join(SCREENSHOTS, group);
    rmSync(dir, { recursive: true, force: true }); // this run's screenshots only
    mkdirSync(dir, { recursive: true });
    let n = 0;
    return {
      browser,
      context,
      page,
      problems,
      async screenshot(name) {
        n += 1;
        const path = join(dir, `${String(n).padStart(2, '0')}-${name}.png`);
        await page.screenshot({ path, fullPage: true });
        return path;
      },
      close: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
