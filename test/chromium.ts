/**
 * A tiny Chrome DevTools Protocol client over --remote-debugging-pipe (fd 3 in, fd 4 out,
 * messages NUL-terminated JSON): no WebSocket, no puppeteer. It opens a page in headless
 * Chromium, collects console errors, uncaught exceptions, error log entries and every
 * network request that is not to a file: or data: URL, and evaluates expressions in it.
 * The browser is always killed, and every wait has a timeout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

/** The Chromium binary, or null with the reason it is missing. */
export function findChromium(): { bin: string | null; reason: string } {
  const chosen = process.env.CHROMIUM; // when set, the only one tried
  for (const bin of chosen ? [chosen] : ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0 && /chrom/i.test(r.stdout)) return { bin, reason: r.stdout.trim() };
  }
  return { bin: null, reason: chosen ? `CHROMIUM=${chosen} does not run as a Chromium ('${chosen} --version' failed)` : 'no chromium on PATH (apt-get install chromium, or set CHROMIUM=/path/to/chrome)' };
}

export const CHROMIUM_FLAGS = [
  '--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-default-apps', '--hide-scrollbars', '--mute-audio',
];

interface Msg { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string }

export interface PageProblems { errors: string[]; requests: string[] }

export class Page {
  readonly problems: PageProblems = { errors: [], requests: [] };
  private nextId = 1;
  private pending = new Map<number, { resolve: (m: Msg) => void; reject: (e: Error) => void }>();
  private waiters: { method: string; resolve: () => void }[] = [];
  private sessionId = '';
  private buf = '';

  private constructor(private proc: ChildProcess, private out: Writable, private profile: string) {}

  static async open(bin: string, width = 1280, height = 2000): Promise<Page> {
    const profile = mkdtempSync(join(tmpdir(), 'hintsim-chromium-'));
    const proc = spawn(bin, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `--window-size=${width},${height}`, '--remote-debugging-pipe', 'about:blank'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    });
    const page = new Page(proc, proc.stdio[3] as Writable, profile);
    (proc.stdio[4] as Readable).setEncoding('utf8').on('data', (d: string) => page.onData(d));
    proc.on('exit', () => { for (const p of page.pending.values()) p.reject(new Error('chromium exited')); page.pending.clear(); });
    try {
      const t = await page.send('Target.createTarget', { url: 'about:blank' }, false);
      const a = await page.send('Target.attachToTarget', { targetId: t.targetId, flatten: true }, false);
      page.sessionId = String(a.sessionId);
      for (const m of ['Runtime.enable', 'Log.enable', 'Page.enable', 'Network.enable']) await page.send(m);
    } catch (e) { await page.close(); throw e; }
    return page;
  }

  private onData(d: string): void {
    this.buf += d;
    for (let z = this.buf.indexOf('\0'); z >= 0; z = this.buf.indexOf('\0')) {
      const m = JSON.parse(this.buf.slice(0, z)) as Msg;
      this.buf = this.buf.slice(z + 1);
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error.message)); else p?.resolve(m);
      } else if (m.method) this.onEvent(m.method, m.params ?? {});
    }
  }

  private onEvent(method: string, p: Record<string, unknown>): void {
    if (method === 'Runtime.exceptionThrown') {
      const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
      this.problems.errors.push(`exception: ${d.exception?.description ?? d.text ?? '?'}`);
    } else if (method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
      this.problems.errors.push(`console.${String(p.type)}: ${(p.args as { value?: unknown; description?: string }[]).map((a) => String(a.value ?? a.description)).join(' ')}`);
    } else if (method === 'Log.entryAdded') {
      const e = p.entry as { level: string; text: string; url?: string };
      if (e.level === 'error') this.problems.errors.push(`log: ${e.text}${e.url ? ` (${e.url})` : ''}`);
    } else if (method === 'Network.requestWillBeSent') {
      const url = String((p.request as { url: string }).url);
      if (!/^(file|data|about):/.test(url)) this.problems.requests.push(url);
    }
    this.waiters = this.waiters.filter((w) => (w.method === method ? (w.resolve(), false) : true));
  }

  send(method: string, params: Record<string, unknown> = {}, session = true, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const msg: Msg = { id, method, params, ...(session ? { sessionId: this.sessionId } : {}) };
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.pending.delete(id); reject(new Error(`CDP ${method}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
      this.pending.set(id, { resolve: (m) => { clearTimeout(t); resolve(m.result ?? {}); }, reject: (e) => { clearTimeout(t); reject(e); } });
      this.out.write(JSON.stringify(msg) + '\0');
    });
  }

  private event(method: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`CDP: no ${method} in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ method, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  /** Navigate to a local file and wait for its load event (scripts have run by then). */
  async load(path: string, timeoutMs = 30_000): Promise<void> {
    const loaded = this.event('Page.loadEventFired', timeoutMs);
    await this.send('Page.navigate', { url: pathToFileURL(path).href });
    await loaded;
  }

  /** Evaluate an expression in the page and return its value (JSON-serialisable results only). */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`eval ${expression}: ${JSON.stringify(r.exceptionDetails)}`);
    return (r.result as { value: T }).value;
  }

  /** A PNG of part of the page (CSS pixels), base64-decoded. */
  async screenshot(clip?: { x: number; y: number; width: number; height: number }): Promise<Buffer> {
    const r = await this.send('Page.captureScreenshot', { format: 'png', ...(clip ? { clip: { ...clip, scale: 1 }, captureBeyondViewport: true } : {}) });
    return Buffer.from(String(r.data), 'base64');
  }

  async close(): Promise<void> {
    const running = (): boolean => this.proc.exitCode === null && this.proc.signalCode === null;
    const exited = (ms: number): Promise<unknown> => Promise.race([
      new Promise<void>((res) => { if (!running()) res(); else this.proc.once('exit', () => res()); }),
      new Promise((res) => setTimeout(res, ms)),
    ]);
    if (running()) {
      try { await this.send('Browser.close', {}, false, 3000); } catch { /* already gone */ }
      await exited(3000);
    }
    if (running()) { this.proc.kill('SIGKILL'); await exited(3000); }
    try { rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); } catch { /* a helper process still writing: tmp is cleaned later */ }
  }
}
