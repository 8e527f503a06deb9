/**
 * A page in the system's headless Chromium, driven by playwright-core (pinned in
 * package.json; it downloads no browser). It collects console errors, uncaught exceptions,
 * Chromium's error log entries and every request that is not to a file:, data: or about:
 * URL, and evaluates expressions in the page. Every wait has a timeout; close() always
 * ends the browser.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page as PwPage } from 'playwright-core';

/** The Chromium binary, or null with the reason it is missing. CHROMIUM=/path overrides. */
export function findChromium(): { bin: string | null; reason: string } {
  const chosen = process.env.CHROMIUM; // when set, the only one tried
  const candidates = chosen ? [chosen] : ['/usr/bin/chromium', 'chromium', 'chromium-browser', 'google-chrome'];
  for (const bin of candidates) {
    if (bin.startsWith('/') && !existsSync(bin)) continue;
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0 && /chrom/i.test(r.stdout)) {
      const path = bin.startsWith('/') ? bin : spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim();
      return { bin: path || bin, reason: r.stdout.trim() };
    }
  }
  return { bin: null, reason: chosen ? `CHROMIUM=${chosen} does not run as a Chromium ('${chosen} --version' failed)` : 'no chromium at /usr/bin/chromium or on PATH (apt-get install chromium, or set CHROMIUM=/path/to/chrome)' };
}

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface PageProblems { errors: string[]; requests: string[] }

export class Page {
  readonly problems: PageProblems = { errors: [], requests: [] };

  private constructor(private browser: Browser, private page: PwPage) {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'assert') this.problems.errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => { this.problems.errors.push(`exception: ${e.stack ?? e.message}`); });
    page.on('request', (r) => { if (!/^(file|data|about):/.test(r.url())) this.problems.requests.push(r.url()); });
    page.on('requestfailed', (r) => { this.problems.errors.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`); });
  }

  static async open(bin: string, width = 1280, height = 2000): Promise<Page> {
    const browser = await chromium.launch({ executablePath: bin, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
    try {
      const page = await browser.newPage({ viewport: { width, height } });
      page.setDefaultTimeout(30_000);
      return new Page(browser, page);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  /** Navigate to a local file and wait for its load event (scripts have run by then). */
  async load(path: string, timeoutMs = 30_000): Promise<void> {
    await this.page.goto(pathToFileURL(path).href, { waitUntil: 'load', timeout: timeoutMs });
  }

  /** Evaluate an expression in the page and return its value (JSON-serialisable results only). */
  eval<T>(expression: string): Promise<T> {
    return this.page.evaluate(expression) as Promise<T>;
  }

  /** A PNG of part of the page (CSS pixels). */
  screenshot(clip?: { x: number; y: number; width: number; height: number }): Promise<Buffer> {
    return this.page.screenshot({ type: 'png', ...(clip ? { clip, fullPage: true } : {}) });
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
