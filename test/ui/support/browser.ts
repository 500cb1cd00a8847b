/**
 * The system's Chromium (Debian's `chromium` package), driven by puppeteer-core: no browser is
 * downloaded. Tests that need it skip, saying why, when it is not installed.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser to drive: $SHOAL_CHROMIUM, or the first of the usual paths that exists. */
export function findChromium(): string | undefined {
  const chosen = process.env.SHOAL_CHROMIUM;
  if (chosen !== undefined && chosen !== '') return existsSync(chosen) ? chosen : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** Launch it headless (no sandbox: CI runs as root, where Chromium refuses its sandbox). */
export function launchBrowser(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--force-color-profile=srgb'],
  });
}

/** A new tab whose console errors and failed requests are kept, to say why a wait timed out. */
export async function openTab(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // Chromium logs every error status it receives; the 401 that brings the token prompt (and a
    // 404 for an events route an agent lacks) are answers the page handles, not problems.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  await page.setViewport({ width: 1280, height: 800 });
  return { page, problems };
}

/** The text of every element matching `selector`, trimmed. */
export function texts(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (elements) => elements.map((e) => (e.textContent ?? '').trim()));
}

/** The values of `attribute` on every element matching `selector`. */
export function attributes(page: Page, selector: string, attribute: string): Promise<string[]> {
  return page.$$eval(selector, (elements, name) => elements.map((e) => e.getAttribute(name) ?? ''), attribute);
}
