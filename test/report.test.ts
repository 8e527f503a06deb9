/**
 * HTML reports as a user gets them: `hintsim report FILE --html OUT`, `run --html`,
 * `replay --html` through the CLI; bad input refused with one line and no file; and the
 * page opened in headless Chromium through playwright-core (skipped, with the reason printed,
 * when there is none).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Page, findChromium } from './helpers/browser.js';
import { cli, type Cli } from './helpers/cli.js';

interface Viol { oracle: string; pfn: number; cpu: number; step: number; message: string }

const dir = mkdtempSync(join(tmpdir(), 'hintsim-report-'));
const replayFile = join(dir, 'dirty-in-transit.replay.json');
const huntJson = join(dir, 'hunt.json');
const replayHtml = join(dir, 'replay.html');
let found: Viol;
const simArgs = ['run', 'alloc-storm', '--mode', 'sim', '--ops', '4000', '--mem', '2M', '--debug-fault', 'double-free', '--json'];
const runHtml = join(dir, 'run.html');
const runs: Record<string, Promise<Cli>> = {};

/** The violation as the report prints it: oracle in brackets, then the pfn. */
const violationRe = (v: Viol) => new RegExp(`\\[${v.oracle}\\]</span>.*? pfn <b class="pfn">${v.pfn}</b>`);

beforeAll(async () => {
  // Independent of the hunt: a planted double free in sim mode, with and without --html.
  runs.html = cli(...simArgs, '--html', runHtml);
  runs.plain = cli(...simArgs);
  // A real race, found fast in sim mode: the hardware dirty bit cleared before make_stable.
  const h = await cli('hunt', 'dirty-in-transit', '--seeds', '16', '--no-shrink', '--jobs', '2', '--out', replayFile, '--json', '--html', join(dir, 'hunt-direct.html'));
  expect(h.status, h.stderr).toBe(0);
  writeFileSync(huntJson, h.stdout);
  found = (JSON.parse(h.stdout) as { violation: Viol }).violation;
  runs.hunt = cli('report', huntJson, '--html', join(dir, 'hunt.html'));
  runs.replay = cli('replay', replayFile, '--html', join(dir, 'replay-direct.html'));
  const r = await cli('report', replayFile, '--html', replayHtml);
  expect(r.status, r.stderr).toBe(0);
}, 180_000);

describe('hintsim report FILE --html OUT', () => {
  it('a replay file: replays it and writes one self-contained page with the violation, chart data, timeline and diagram', () => {
    const html = readFileSync(replayHtml, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toMatch(violationRe(found));
    expect(html).toContain(`hintsim replay ${replayFile}`);
    expect(html).toContain(`[${found.oracle}] pfn ${found.pfn}, step ${found.step}: reproduced`);
    // Nothing to fetch: no external scripts, styles or images; uPlot is inlined.
    expect(html).not.toMatch(/<(script|img|iframe)[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).toContain('var uPlot=');
    const data = JSON.parse(/<script type="application\/json" id="mix-data">(.*?)<\/script>/s.exec(html)![1]) as { x: number[]; total: number; series: { name: string; values: number[] }[] };
    expect(data.x.length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < data.x.length; i++) expect(data.series.reduce((s, x) => s + x.values[i], 0)).toBe(data.total);
    // The timeline: a marker at the violating step and the turn that ran into it.
    expect(html).toContain('id="timeline-violation"');
    expect(html).toMatch(new RegExp(`<tr class="hit">.*?← violation at step ${found.step}<`));
    expect(html).toMatch(/<svg id="states-svg"[^>]*>/);
    for (const s of ['Sr', 'Vz', 'Uz']) expect(html).toContain(`>${s}</text>`);
  });

  it('a hunt --json result: replays the replay file it names and shows the hunt; so does hunt --html', async () => {
    const r = await runs.hunt;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[${found.oracle}] pfn ${found.pfn}`);
    for (const page of ['hunt.html', 'hunt-direct.html']) {
      const html = readFileSync(join(dir, page), 'utf8');
      expect(html, page).toContain('<section id="hunt">');
      expect(html, page).toMatch(/<span class="k">race<\/span> <span class="v">dirty-in-transit<\/span>/);
      expect(html, page).toMatch(violationRe(found));
      expect(html, page).toContain(`hintsim replay ${replayFile}`);
    }
  });

  it('replay FILE --html: exit 1 as replay always is with a violation, and the same page', async () => {
    const r = await runs.replay;
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(`replay: reproduced the ${found.oracle} violation at step ${found.step}, pfn ${found.pfn}`);
    expect(r.stdout).toContain(`html report: ${join(dir, 'replay-direct.html')}`);
    const html = readFileSync(join(dir, 'replay-direct.html'), 'utf8');
    expect(html).toMatch(violationRe(found));
    expect(html).toContain('id="timeline-violation"');
  });

  it('run --mode sim --html and --json: the JSON is unchanged by --html; report of that JSON shows the violation and its rerun command', async () => {
    const [r, p] = [await runs.html, await runs.plain];
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout) as { violations: Viol[]; planted_pfn: number; rerun: string; trace?: unknown; state_mix_samples?: unknown; schedule: { decisions?: unknown } };
    const plain = JSON.parse(p.stdout) as Record<string, unknown>;
    expect({ ...j, seconds: 0, ops_per_sec: 0 }).toEqual({ ...plain, seconds: 0, ops_per_sec: 0 });
    expect(j.trace).toBeUndefined();
    expect(j.state_mix_samples).toBeUndefined();
    expect(j.schedule.decisions).toBeUndefined();
    expect(j.rerun).toBe('npx hintsim run alloc-storm --seed 1 --cpus 2 --mem 2M --ops 4000 --mode sim --debug-fault double-free');
    const v = j.violations[0];
    expect(v.pfn).toBe(j.planted_pfn);
    const html = readFileSync(runHtml, 'utf8');
    expect(html).toMatch(violationRe(v));
    expect(html).toContain('id="timeline-violation"');
    expect(html).toContain('id="mix-data"');

    const json = join(dir, 'run.json');
    writeFileSync(json, r.stdout);
    const out = join(dir, 'from-json.html');
    const rep = await cli('report', json, '--html', out);
    expect(rep.status, rep.stderr).toBe(0);
    const h2 = readFileSync(out, 'utf8');
    expect(h2).toMatch(violationRe(v));
    expect(h2).toContain(`<pre class="cmd" id="replay-command">${j.rerun}</pre>`);
    // A run JSON has neither trace events nor sim samples: the page says so and how to get them.
    expect(h2).toContain('id="timeline-missing"');
    expect(h2).toContain(`${j.rerun} --html report.html`);
    expect(h2).toContain('id="mix-missing"');
  });
});

describe('hintsim report: bad input is refused with one line, exit 2, and no file', () => {
  const out = (name: string) => join(dir, `${name}.html`);
  const cases: [string, () => string[], string, ...(string | RegExp)[]][] = [
    ['a path that does not exist', () => ['report', join(dir, 'nope.json'), '--html', out('x1')], out('x1'), 'nope.json', /ENOENT/, /accepted: .*run\|replay\|hunt --json.*replay file/],
    ['JSON that is not a hintsim result', () => {
      writeFileSync(join(dir, 'other.json'), JSON.stringify({ name: 'left-pad', version: '1.3.0' }));
      return ['report', join(dir, 'other.json'), '--html', out('x2')];
    }, out('x2'), 'other.json', /not a hintsim result/, /accepted:/],
    ['a truncated (corrupt) JSON file', () => {
      writeFileSync(join(dir, 'truncated.json'), readFileSync(huntJson, 'utf8').slice(0, 80));
      return ['report', join(dir, 'truncated.json'), '--html', out('x3')];
    }, out('x3'), 'truncated.json', /is not JSON/, /accepted:/],
    ['a run JSON with a field of the wrong type', () => {
      writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ workload: 'alloc-storm', counters: {}, seed: 'one' }));
      return ['report', join(dir, 'wrong.json'), '--html', out('x4')];
    }, out('x4'), 'wrong.json', /not a hintsim result/],
    ['a replay file that was edited', () => {
      const rf = JSON.parse(readFileSync(replayFile, 'utf8')) as { seed: number };
      writeFileSync(join(dir, 'edited.replay.json'), JSON.stringify({ ...rf, seed: rf.seed + 1 }));
      return ['report', join(dir, 'edited.replay.json'), '--html', out('x5')];
    }, out('x5'), 'edited.replay.json', /checksum/],
    ['an --html path in a folder that does not exist', () => ['report', replayFile, '--html', '/nonexistent-dir/r.html'], '/nonexistent-dir/r.html', /--html: cannot write/],
    ['an --html path that is a folder (run)', () => ['run', '--ops', '10', '--html', dir], out('never'), /--html: cannot write .*it is a folder/],
    ['no --html at all', () => ['report', replayFile], out('never'), /--html/],
  ];
  const results: Promise<Cli>[] = [];
  beforeAll(() => { for (const [, args] of cases) results.push(cli(...args())); }); // all at once: each is a CLI start-up

  cases.forEach(([name, , file, ...want], k) => {
    it(name, async () => {
      const r = await results[k];
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0].startsWith('hintsim: ')).toBe(true);
      for (const w of want) expect(lines[0]).toMatch(w);
      expect(existsSync(file)).toBe(false);
    });
  });

  it('leaves no temporary or probe files behind', async () => {
    await Promise.all(results);
    expect(readdirSync(dir).filter((f) => /\.(tmp|probe)$/.test(f))).toEqual([]);
  });
});

const chromium = findChromium();
if (!chromium.bin) console.log(`report.test: skipping the headless Chromium test: ${chromium.reason}`);

describe('the report in headless Chromium', () => {
  it.skipIf(!chromium.bin)('loads without console errors or network requests, shows the violation, draws the chart', async () => {
    const page = await Page.open(chromium.bin!);
    try {
      await page.load(replayHtml);
      const seen = await page.eval<{ chart: string | null; canvas: number[]; painted: number; text: string; marker: boolean; zoom: number; states: number }>(`(() => {
        const c = document.querySelector('#mix-chart canvas');
        let painted = 0;
        if (c) { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) painted++; }
        const box = (sel) => { const r = document.querySelector(sel)?.getBoundingClientRect(); return r ? r.width * r.height : 0; };
        return { chart: document.body.dataset.chart ?? null, canvas: c ? [c.width, c.height] : [], painted,
          text: document.querySelector('#violations').innerText, marker: !!document.querySelector('#timeline-zoom #timeline-violation'), zoom: box('#timeline-zoom'), states: box('#states-svg') };
      })()`);
      expect(page.problems.errors).toEqual([]);
      expect(page.problems.requests).toEqual([]);
      expect(seen.chart).toBe('rendered');
      expect(seen.canvas[0]).toBeGreaterThan(300);
      expect(seen.canvas[1]).toBeGreaterThan(100);
      expect(seen.painted).toBeGreaterThan(seen.canvas[0] * 20); // stacked areas, not an empty frame
      expect(seen.text).toContain(`[${found.oracle}]`);
      expect(seen.text).toMatch(new RegExp(`pfn ${found.pfn}\\b`));
      expect(seen.marker).toBe(true);
      expect(seen.zoom).toBeGreaterThan(0);
      expect(seen.states).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  }, 90_000);
});
