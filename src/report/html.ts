/**
 * `--html OUT` and `hintsim report`: one self-contained HTML page for a run, replay or hunt.
 * Nothing is fetched when it is opened: uPlot (the state-mix chart) is read from
 * node_modules and inlined with its CSS, the ESSA state diagram is inline SVG from the
 * executed state tables (Graphviz in WebAssembly), the timeline is static SVG.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Violation } from '../core/oracles.js';
import type { Expected } from '../explore/replay_file.js';
import type { MixSample, RunResult } from '../machine/run.js';
import { computeStates, statesDot } from '../hosts/index.js';
import { TRACE_EVENTS } from '../core/trace.js';
import type { Story } from './story.js';
import { ZOOM_EVENTS, esc, overviewSvg, timelineData, turnTable, violationPoint, zoomSvg, zoomWindow } from './timeline.js';

export interface HuntSummary {
  race: string; found: boolean; seed: number | null; seeds_tried: number; seconds: number; replay_file: string | null;
  violation: Violation | null;
  shrink: { steps_before: number; steps_after: number; decisions_before: number; decisions_after: number } | null;
}

export interface ReportInput {
  kind: 'run' | 'replay' | 'hunt';
  /** The run shown (null: a hunt that found nothing). */
  result: RunResult | null;
  /** The command that reruns (threads) or replays exactly (sim, replay files) this run. */
  command: string | null;
  /** The command line that made this report. */
  madeWith: string;
  replay?: { file: string; reproduced: boolean; expected: Expected };
  hunt?: HuntSummary;
  /** Why a section is missing and how to get it (e.g. a run JSON carries no trace). */
  notes?: string[];
  /** The violation as a story (replays of a sim schedule: story.ts). */
  story?: Story;
}

const STATE_ORDER = ['Sr', 'Sp', 'Sz', 'Pr', 'Vr', 'Vz', 'Ur', 'Uz'];
const STATE_COLOURS: Record<string, string> = {
  Sr: '#2b6cb0', Sp: '#63a4e8', Sz: '#b9d7f5', Pr: '#dd8a1f', Vr: '#2f9e44', Vz: '#9fdca8', Ur: '#7a7a7a', Uz: '#c9c9c9',
};
const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const who = (cpu: number, cpus: number): string => (cpu === cpus ? 'host' : cpu < 0 ? 'main thread' : `cpu ${cpu}`);

const requireHere = createRequire(import.meta.url);

/** uPlot's minified script and CSS from node_modules, checked to be safe inside <script>/<style>. */
function uplotAssets(): { js: string; css: string } {
  const js = readFileSync(requireHere.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(requireHere.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  if (/<\/script/i.test(js) || /<\/style/i.test(css)) throw new Error('report: uPlot bundle contains a closing tag; cannot inline it');
  return { js, css };
}

/** The ESSA state diagram as inline SVG (sized by the page, not by Graphviz's points). */
export async function statesSvg(): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const svg = (await instance()).renderString(statesDot(computeStates()), { format: 'svg', engine: 'dot' });
  const start = svg.indexOf('<svg');
  if (start < 0) throw new Error('report: Graphviz returned no <svg>');
  return svg.slice(start).replace(/<svg width="[^"]*" height="[^"]*"/, '<svg id="states-svg" width="100%"');
}

/** Chart data: x (step in sim mode, seconds in threads mode), one stacked series per state. */
export function mixSeries(r: RunResult): { x: number[]; xLabel: string; total: number; series: { name: string; colour: string; values: number[] }[] } | null {
  const sim = r.mode === 'sim';
  const byX = new Map<number, MixSample>();
  for (const s of r.state_mix_samples ?? []) byX.set(sim ? (s.step ?? -1) : s.ms / 1000, s);
  const xs = [...byX.keys()].filter((x) => x >= 0).sort((a, b) => a - b);
  if (xs.length < 2) return null;
  const names = new Set<string>();
  for (const s of byX.values()) for (const k of Object.keys(s.mix)) names.add(k);
  const ordered = [...STATE_ORDER.filter((k) => names.has(k)), ...[...names].filter((k) => !STATE_ORDER.includes(k)).sort()];
  const total = Object.values(byX.get(xs[0])!.mix).reduce((a, b) => a + b, 0);
  return {
    x: xs, xLabel: sim ? 'scheduling step' : 'seconds', total,
    series: ordered.map((name) => ({ name, colour: STATE_COLOURS[name] ?? '#e00000', values: xs.map((x) => byX.get(x)!.mix[name] ?? 0) })),
  };
}

/** JSON that is safe inside a <script type="application/json"> element. */
const scriptJson = (x: unknown): string => JSON.stringify(x).replace(/</g, '\\u003c');

const CHART_JS = `(function () {
  var D = JSON.parse(document.getElementById('mix-data').textContent);
  var el = document.getElementById('mix-chart');
  var raw = D.series.map(function (s) { return s.values; });
  var acc = D.x.map(function () { return 0; });
  var stacked = raw.map(function (vals) { return vals.map(function (v, i) { return (acc[i] += v); }); });
  var series = [{ label: D.xLabel, value: function (u, v) { return v == null ? '-' : v.toLocaleString('en-US'); } }];
  D.series.forEach(function (s) {
    series.push({ label: s.name, stroke: s.colour, fill: s.colour + 'c0', width: 1, points: { show: false },
      value: function (u, v, si, i) { return i == null ? '-' : raw[si - 1][i].toLocaleString('en-US'); } });
  });
  var bands = [];
  for (var k = 2; k <= raw.length; k++) bands.push({ series: [k, k - 1] });
  var width = function () { return Math.max(320, el.clientWidth); };
  // Zoomed: the y axis ends at the top of the layers below Uz (the free frames the host dropped).
  var below = stacked.length > 1 && D.series[D.series.length - 1].name === 'Uz' ? stacked[stacked.length - 2] : null;
  var zoomMax = below ? Math.max(1, Math.ceil(Math.max.apply(null, below) * 1.1)) : D.total;
  var box = document.getElementById('mix-zoom');
  if (!below) box.parentNode.style.display = 'none';
  var yMax = function () { return box.checked && below ? Math.min(zoomMax, D.total) : D.total; };
  var u = new uPlot({ width: width(), height: 320, series: series, bands: bands,
    scales: { x: { time: false }, y: { range: function () { return [0, yMax()]; } } },
    axes: [{ label: D.xLabel }, { label: 'frames', size: 64 }] }, [D.x].concat(stacked), el);
  // A stacked chart with one layer hidden would misstate the others: legend clicks do nothing.
  el.addEventListener('click', function (e) { if (e.target.closest('.u-legend')) e.stopPropagation(); }, true);
  box.addEventListener('change', function () { u.setScale('y', { min: 0, max: yMax() }); });
  window.addEventListener('resize', function () { u.setSize({ width: width(), height: 320 }); });
  document.body.setAttribute('data-chart', 'rendered');
})();`;

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; margin: 0; background: #eef0f3; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 20px 40px; }
header { background: #1f2933; color: #fff; padding: 14px 20px; }
header h1 { margin: 0; font-size: 20px; font-weight: 600; }
header .sub { color: #c4cdd5; margin-top: 2px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; margin-left: 10px; font-size: 13px; }
.verdict.bad { background: #e03131; } .verdict.good { background: #2f9e44; }
nav { margin: 10px 0 0; } nav a { color: #9ecbff; margin-right: 14px; text-decoration: none; }
section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 14px 18px; margin: 16px 0; overflow-x: auto; }
h2 { font-size: 17px; margin: 0 0 10px; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
th { color: #555; font-weight: 600; border-bottom: 1px solid #ddd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.kv { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 4px 24px; }
.kv .wide { grid-column: 1 / -1; }
.kv .k { color: #555; font-weight: 600; margin-right: 6px; }
.kv .v { word-break: break-word; }
.counters { columns: 3 260px; column-gap: 28px; }
.counters div { display: flex; justify-content: space-between; border-bottom: 1px dotted #e3e3e3; break-inside: avoid; padding: 1px 0; }
.counters .zero { color: #aaa; }
.viol { border-left: 4px solid #e03131; background: #fff5f5; padding: 8px 12px; margin: 8px 0; border-radius: 4px; }
table.story td { vertical-align: top; } table.story tr.context td { color: #777; } table.story tr.viol-row td { background: #fff5f5; font-weight: 600; }
.viol .oracle { font-weight: 700; color: #c92a2a; font-size: 15px; }
.viol .msg { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; margin-top: 4px; }
pre.cmd { background: #1f2933; color: #e6edf3; padding: 8px 12px; border-radius: 4px; white-space: pre-wrap; word-break: break-all; margin: 6px 0; }
.note { color: #666; font-style: italic; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; }
tr.hit td { background: #ffe3e3; }
#turns td, #turns th { padding-right: 16px; }
.timeline { display: block; max-width: 100%; height: auto; margin: 6px 0 10px; }
.timeline text { font: 11px system-ui, sans-serif; fill: #333; }
.timeline .tl-lane { font-size: 12px; font-weight: 600; }
.timeline .tl-lane-s { font-size: 9px; }
.timeline .tl-slice-label { fill: #fff; font-size: 10px; }
.timeline .tl-viol { fill: #c00; font-weight: 700; font-size: 12px; }
.timeline .tl-tick { fill: #666; font-size: 10px; }
#states-svg { max-width: 100%; height: auto; }
#mix-chart { width: 100%; }
footer { color: #777; font-size: 12px; text-align: center; }
`;

function summarySection(inp: ReportInput, r: RunResult): string {
  const rows: [string, string][] = [
    ['workload', r.workload], ['mode', r.mode], ['seed', String(r.seed)], ['cpus', String(r.cpus)],
    ['guest memory', r.mem], ['host budget', r.host_mem], ['hinting', `${r.hinting}${r.batch ? '' : ' (unbatched: one ESSA per page)'}`],
    ['fixes switched off', r.unfix.length ? r.unfix.join(', ') : 'none (every fix on)'],
    ['operations', n(r.ops)], ['time', `${r.seconds.toFixed(3)} s (${n(r.ops_per_sec)} ops/s)`], ['trace hash', r.trace_hash],
  ];
  if (r.schedule) rows.push(['schedule', `${n(r.schedule.steps)} scheduling steps, ${n(r.schedule.switches)} baton hand-overs`]);
  if (r.accounting) {
    const a = r.accounting;
    rows.push(['accounting', `${n(a.buddy)} buddy + ${n(a.pcp)} pcp + ${n(a.cached)} cached + ${n(a.discard_list)} discard list + ${n(a.owned)} held = ${n(a.total)} frames`]);
  }
  if (inp.replay) {
    const e = inp.replay.expected;
    rows.push(['replay file', inp.replay.file],
      ['expected', `[${e.oracle}] pfn ${e.pfn}, step ${e.step}: ${inp.replay.reproduced ? 'reproduced' : 'NOT reproduced'}`]);
  }
  return `<section id="summary"><h2>Summary</h2>${kvGrid(rows)}</section>`;
}

function huntSection(h: HuntSummary): string {
  const rows: [string, string][] = [['race', h.race], ['found', h.found ? `yes, with seed ${h.seed}` : 'no'],
    ['seeds tried', n(h.seeds_tried)], ['time', `${h.seconds.toFixed(2)} s`]];
  if (h.shrink) rows.push(['shrunk', `${n(h.shrink.steps_before)} → ${n(h.shrink.steps_after)} steps, ${n(h.shrink.decisions_before)} → ${n(h.shrink.decisions_after)} schedule decisions`]);
  if (h.replay_file) rows.push(['replay file', h.replay_file]);
  return `<section id="hunt"><h2>Hunt</h2>${kvGrid(rows)}</section>`;
}

/** Key-value pairs in columns; long values (accounting, files) take a whole row. */
function kvGrid(rows: [string, string][]): string {
  return `<div class="kv">${rows.map(([k, v]) => `<div${v.length > 40 ? ' class="wide"' : ''}><span class="k">${esc(k)}</span> <span class="v">${esc(v)}</span></div>`).join('')}</div>`;
}

function violationsSection(inp: ReportInput, vs: Violation[], cpus: number, sim: boolean): string {
  if (vs.length === 0) return `<section id="violations"><h2>Violations</h2><p>None: every oracle stayed quiet.</p></section>`;
  const card = (v: Violation): string => `<div class="viol"><div><span class="oracle">[${esc(v.oracle)}]</span>${v.race ? ` race <b>${esc(v.race)}</b> ·` : ''} pfn <b class="pfn">${v.pfn}</b> · ${esc(who(v.cpu, cpus))} · step ${v.step}</div><div class="msg">${esc(v.message)}</div></div>`;
  const SHOWN = 3;
  const items = vs.slice(0, SHOWN).map(card);
  if (vs.length > SHOWN) items.push(`<details><summary>${vs.length - SHOWN} more (after the first, the run was stopping)</summary>${vs.slice(SHOWN).map(card).join('')}</details>`);
  const how = inp.kind === 'run' && !sim ? 'Rerun (threads mode is not deterministic: the same command may need a few tries)' : 'Replay it exactly';
  const cmd = inp.command ? `<p>${how}:</p><pre class="cmd" id="replay-command">${esc(inp.command)}</pre>` : '<p class="note">The input names no command that reruns this run.</p>';
  return `<section id="violations"><h2>Violations (${vs.length})</h2>${items.join('')}${cmd}</section>`;
}

function mixSection(r: RunResult): string {
  const d = mixSeries(r);
  const final = Object.entries(r.state_mix).sort(([a], [b]) => (STATE_ORDER.indexOf(a) + 99) % 99 - (STATE_ORDER.indexOf(b) + 99) % 99)
    .map(([k, v]) => `<span class="dot" style="background:${STATE_COLOURS[k] ?? '#e00'}"></span>${esc(k)} ${n(v)}`).join(' &nbsp; ');
  const head = `<section id="state-mix"><h2>State mix over time</h2><p>Frames by ESSA state (usage S stable, P potentially volatile, V volatile, U unused; content r resident, p preserved, z zero), stacked.</p>`;
  if (!d) {
    const why = r.mode === 'sim'
      ? 'This result has no state-mix samples: sim runs record them only when a report is asked for (--html).'
      : 'This result has fewer than two state-mix samples (threads mode samples every 250 ms; --html every 50 ms).';
    return `${head}<p class="note" id="mix-missing">${esc(why)}</p><p>At the end: ${final}</p></section>`;
  }
  const how = r.mode === 'sim' ? 'sampled by the main thread every ~2 ms of wall time; x is the scheduling step it saw' : 'sampled every 50 ms (--html) or 250 ms';
  const uz = d.series.find((x) => x.name === 'Uz');
  const uzMostly = !!uz && uz.values.reduce((a, b) => a + b, 0) >= 0.5 * d.total * d.x.length;
  return `${head}<p><label><input type="checkbox" id="mix-zoom"${uzMostly ? ' checked' : ''}> zoom the y axis to the frames that are not Uz (Uz, free frames the host dropped, goes on above)</label></p>` +
    `<div id="mix-chart" data-samples="${d.x.length}"></div><script type="application/json" id="mix-data">${scriptJson(d)}</script>` +
    `<p class="note">${d.x.length} samples, ${esc(how)}. At the end: ${final}</p></section>`;
}

function timelineSection(inp: ReportInput, r: RunResult): string {
  const head = `<section id="timeline"><h2>${r.violations.length ? 'Timeline of the violating schedule' : 'Timeline (no violation: the end of the run)'}</h2>`;
  const t = timelineData(r);
  if (!t) {
    const how = inp.command ? ` Rerun it with --html to record them: <code>${esc(inp.command)} --html report.html</code>` : '';
    return `${head}<p class="note" id="timeline-missing">This result carries no trace events (the run was not recorded with --html or --trace).${how}</p></section>`;
  }
  const v = r.violations[0];
  const at = violationPoint(t, v);
  const z = zoomWindow(t, at);
  const label = v ? `[${v.oracle}] pfn ${v.pfn} · ${who(v.cpu, r.cpus)} · ${t.sim ? `step ${at ?? '?'}` : `${at === null ? '?' : Math.round(at)} µs`}` : null;
  const intro = t.sim
    ? `A lane per guest CPU and one for the host. Sim mode runs one participant at a time: a shaded stretch is a turn (the participant held the baton for those scheduling steps); bars are trace slices, ticks are instants. ${v ? `Zoomed: the last ${z.turns.length} turns up to the violation (red line).` : 'No violation: zoomed on the last turns of the run.'}`
    : `A lane per guest CPU and one for the host, in wall-clock µs (threads mode: all participants run at once). ${v ? `Zoomed: the last ${Math.min(ZOOM_EVENTS, t.slices.length + t.instants.length)} trace events before the violation (red line).` : 'No violation: zoomed on the last events of the run.'}`;
  const off = v && at === null ? `<p class="note">The violation was found by an end-of-run check (${esc(v.oracle)}), not at a step of the schedule.</p>` : '';
  const partial = (t.complete ? '' : '<p class="note">The schedule log overflowed: turns after its capacity are not shown.</p>') +
    (t.dropped > 0 ? `<p class="note">Each participant keeps its last ${n(TRACE_EVENTS)} trace events: ${n(t.dropped)} earlier ones are not shown.</p>` : '');
  return `${head}<p>${esc(intro)}</p>${off}${partial}<h3>The whole run</h3><p class="note">Where each participant's trace slices were (colours as in the legend below); the black box is the zoomed window.</p>${overviewSvg(t, z)}<h3>Zoomed</h3>${zoomSvg(t, z, label)}${turnTable(t, z)}</section>`;
}

/** The causal slice of the violation, one row per event (story.ts), at the top of the page. */
function storySection(s: Story): string {
  const rows = s.lines.map((l) => {
    const mark = l.violation ? 'violation' : l.then;
    return `<tr class="${l.context ? 'context' : ''}${l.violation ? ' viol-row' : ''}"><td class="num">${l.step}</td><td>${esc(l.who)}</td><td><code>${esc(l.fn)}</code></td><td>${esc(l.what)}</td><td>${esc(mark)}</td></tr>`;
  }).join('');
  const intro = `What happened to pfn ${s.pfn} from the last consistent point to the ${esc(s.oracle)} violation, read from the replayed schedule: one row per event of ${esc(s.participants.join(', '))} on the page, named by the kernel function that did it (outer/inner: the caller, then the lock helper or host hook it went through). A first grey row is the last host action before that point. "preempted": the baton left that participant there although it could have gone on; "spins": it had to wait.`;
  const cut = s.left_out ? `<p class="note">${s.left_out} events merged or left out to keep the story short.</p>` : '';
  return `<section id="story"><h2>The race as a story</h2><p>${intro}</p>${cut}<table class="story"><thead><tr><th class="num">step</th><th>who</th><th>function</th><th>state change</th><th></th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function countersSection(r: RunResult): string {
  const cells = Object.entries(r.counters).map(([k, v]) => `<div${v === 0 ? ' class="zero"' : ''}><span>${esc(k)}</span><span class="num">${n(v)}</span></div>`).join('');
  const cols = ['cpu', 'ops', 'essa_calls', 'essa_batches', 'pcp_hot', 'pcp_cold'] as const;
  const per = `<table><thead><tr>${cols.map((c) => `<th class="num">${c}</th>`).join('')}</tr></thead><tbody>${r.per_cpu.map((p) => `<tr>${cols.map((c) => `<td class="num">${n(p[c])}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  return `<section id="counters"><h2>Counters</h2><div class="counters">${cells}</div><h3>Per CPU</h3>${per}</section>`;
}

export async function renderReport(inp: ReportInput): Promise<string> {
  const r = inp.result;
  const { js, css } = uplotAssets();
  const states = await statesSvg();
  const vs = r?.violations ?? (inp.hunt?.violation ? [inp.hunt.violation] : []);
  const title = inp.kind === 'hunt' ? `hunt ${inp.hunt?.race ?? ''}` : r ? `${inp.kind} ${r.workload}` : inp.kind;
  const verdict = vs.length ? `<span class="verdict bad">${vs.length} violation${vs.length > 1 ? 's' : ''}</span>` : `<span class="verdict good">${inp.kind === 'hunt' && !inp.hunt?.found ? 'not found' : 'clean'}</span>`;
  const sub = r ? `seed ${r.seed} · ${r.mode} mode · ${r.cpus} CPUs · ${r.mem} guest / ${r.host_mem} host · hinting ${r.hinting}${r.unfix.length ? ` · unfixed: ${r.unfix.join(', ')}` : ''}` : '';
  const notes = (inp.notes ?? []).map((x) => `<p class="note">${esc(x)}</p>`).join('');
  const body = [
    inp.story ? storySection(inp.story) : '',
    inp.hunt ? huntSection(inp.hunt) : '',
    notes ? `<section id="notes">${notes}</section>` : '',
    r ? summarySection(inp, r) : '',
    r || vs.length ? violationsSection(inp, vs, r?.cpus ?? -1, r ? r.mode === 'sim' : true) : '',
    r ? timelineSection(inp, r) : '', r ? mixSection(r) : '', r ? countersSection(r) : '',
    `<section id="states"><h2>ESSA state diagram</h2><p>Computed by executing the model on scratch frames (hintsim states): guest ESSA ops in blue, host reclaim in red, guest accesses in green; dashed states never exist.</p>${states}</section>`,
  ].join('\n');
  const nav = ['story', 'hunt', 'summary', 'violations', 'timeline', 'state-mix', 'counters', 'states'].filter((id) => body.includes(`<section id="${id}"`))
    .map((id) => `<a href="#${id}">${id.replace('-', ' ')}</a>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>hintsim ${esc(title)}</title>
<style>${css}</style><style>${CSS}</style></head>
<body data-kind="${inp.kind}" data-violations="${vs.length}">
<header><h1>hintsim ${esc(title)}${verdict}</h1><div class="sub">${esc(sub)}</div><nav>${nav}</nav></header>
<main>
${body}
<footer>Made with <code>${esc(inp.madeWith)}</code> on ${esc(new Date().toISOString())}. One self-contained file: uPlot ${esc(uplotVersion())} and the diagram are inlined.</footer>
</main>
<script>${js}</script>
<script>${r && mixSeries(r) ? CHART_JS : "document.body.setAttribute('data-chart', 'none');"}</script>
</body></html>
`;
}

function uplotVersion(): string {
  return (JSON.parse(readFileSync(requireHere.resolve('uplot/package.json'), 'utf8')) as { version: string }).version;
}
