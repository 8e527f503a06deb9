/**
 * The timeline of an HTML report: a lane per guest CPU and one for the host, built from
 * the run's trace events and, in sim mode, its baton hand-overs (schedule decisions). An
 * overview strip shows the whole run; a zoomed window shows the last turns before the
 * violation, with a marker at the violating step, and a table says turn by turn which
 * participant ran which steps and what it did. Everything is static SVG and HTML.
 */
import type { TraceEvent } from '../machine/trace_out.js';
import type { RunResult } from '../machine/run.js';
import type { Violation } from '../core/oracles.js';

/** Turns (baton hand-overs) shown in the zoomed window of a sim run. */
export const ZOOM_TURNS = 16;
/** Trace events shown in the zoomed window of a threads run. */
export const ZOOM_EVENTS = 60;
const W = 1160, LABEL_W = 74, X0 = LABEL_W, X1 = W - 12;
const LANE_H = 34, OVERVIEW_LANE_H = 11;

export interface Slice { lane: number; name: string; b: number; e: number; arg: number }
export interface Instant { lane: number; name: string; ts: number; arg: number | string }
export interface Turn { lane: number; from: number; to: number }

export interface TimelineData {
  sim: boolean;
  lanes: string[];
  slices: Slice[];
  instants: Instant[];
  turns: Turn[];          // sim mode: who held the baton from which step to which
  end: number;            // last step (sim) or last timestamp (threads)
  complete: boolean;      // every decision of the run was logged
  dropped: number;        // trace events that fell off the participants' rings
}

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const EVENT_COLOURS: Record<string, string> = {
  'page fault': '#6a3d9a', 'discard fault': '#d7301f', 'reclaim pass': '#b15928', 'copy on write': '#1b9e77',
  msync: '#1f78b4', 'ESSA batch': '#444', 'lock wait': '#e7298a', violation: '#e00', 'reporting pass': '#33a02c', 'migration slice': '#ff7f00',
};
const LANE_COLOURS = ['#4e79a7', '#59a14f', '#9c755f', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#bab0ac'];
export const laneColour = (lane: number, lanes: number, host = lanes - 1): string => (lane === host ? '#f28e2b' : LANE_COLOURS[lane % LANE_COLOURS.length]);

/** Pair the B/E trace events of each participant into slices; instants as they are. */
export function timelineData(r: RunResult): TimelineData | null {
  if (!r.trace) return null;
  const lanes = Array.from({ length: r.cpus + 1 }, (_, i) => (i === r.cpus ? 'host' : `cpu ${i}`));
  // Worker tracks after the participants (free page reporting's worker, CMMA's migration worker: trace_out.ts)
  for (const e of r.trace.traceEvents as TraceEvent[]) if (e.ph === 'M' && e.name === 'thread_name' && e.tid > r.cpus) lanes[e.tid] = String(e.args?.name ?? `track ${e.tid}`);
  const slices: Slice[] = [];
  const instants: Instant[] = [];
  const open: { name: string; b: number; arg: number }[][] = lanes.map(() => []);
  let end = 0;
  for (const e of r.trace.traceEvents as TraceEvent[]) {
    if (e.tid < 0 || e.tid >= lanes.length || !['B', 'E', 'i'].includes(e.ph)) continue;
    end = Math.max(end, e.ts);
    const arg = e.args?.arg;
    if (e.ph === 'B') open[e.tid].push({ name: e.name, b: e.ts, arg: typeof arg === 'number' ? arg : 0 });
    else if (e.ph === 'E') {
      const s = open[e.tid].pop();
      if (s) slices.push({ lane: e.tid, name: s.name, b: s.b, e: e.ts, arg: s.arg });
    } else {
      instants.push({ lane: e.tid, name: e.name, ts: e.ts, arg: e.name === 'violation' ? String(e.args?.oracle ?? '') : (typeof arg === 'number' ? arg : 0) });
    }
  }
  const sim = r.mode === 'sim';
  const turns: Turn[] = [];
  const d = r.schedule?.decisions;
  if (sim && r.schedule && d) {
    end = Math.max(end, r.schedule.steps);
    let who = r.schedule.first;
    let from = 0;
    for (const { step, to } of d) {
      if (step > from && who >= 0) turns.push({ lane: who, from, to: step });
      from = Math.max(from, step);
      who = to;
    }
    if (who >= 0 && end > from) turns.push({ lane: who, from, to: end });
  }
  const dropped = Number(r.trace.otherData?.dropped_events ?? 0);
  return { sim, lanes, slices, instants, turns, end, complete: r.schedule?.complete ?? true, dropped };
}

/** Where the violation happened on the timeline's axis (null: it has no place there). */
export function violationPoint(t: TimelineData, v: Violation | undefined): number | null {
  if (!v) return null;
  const mark = t.instants.find((i) => i.name === 'violation' && i.lane === v.cpu && i.arg === v.oracle)
    ?? t.instants.find((i) => i.name === 'violation');
  if (t.sim && v.step > 0) return v.step;
  return mark ? mark.ts : null;
}

export interface ZoomWindow { from: number; to: number; turns: Turn[]; at: number | null }

/** The zoomed window: the last turns (sim) or events (threads) up to the violation, or the run's end. */
export function zoomWindow(t: TimelineData, at: number | null): ZoomWindow {
  const stop = at ?? t.end;
  if (t.sim && t.turns.length > 0) {
    let k = t.turns.findIndex((u) => u.from <= stop && stop < u.to);
    if (k < 0) k = t.turns.length - 1;
    const first = Math.max(0, k - ZOOM_TURNS + 1);
    const from = t.turns[first].from;
    const to = Math.max(stop + 1, Math.min(t.turns[k].to, stop + Math.max(4, Math.ceil((stop - from) * 0.08))));
    return { from, to, at, turns: t.turns.slice(first).filter((u) => u.from < to) };
  }
  const times = [...t.slices.map((s) => s.b), ...t.instants.map((i) => i.ts)].filter((x) => x <= stop).sort((a, b) => a - b);
  const from = times.length ? times[Math.max(0, times.length - ZOOM_EVENTS)] : 0;
  const to = Math.max(stop + 1, stop + (stop - from) * 0.08);
  return { from, to, at, turns: [] };
}

function axis(from: number, to: number, y: number, unit: string): string {
  const span = to - from;
  const raw = span / 8;
  const mag = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [`<line x1="${X0}" y1="${y}" x2="${X1}" y2="${y}" stroke="#999"/>`];
  for (let v = Math.ceil(from / step) * step; v <= to; v += step) {
    const x = X0 + ((v - from) / span) * (X1 - X0);
    out.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + 4}" stroke="#999"/>`,
      `<text x="${x.toFixed(1)}" y="${y + 15}" text-anchor="middle" class="tl-tick">${fmtNum(v)}</text>`);
  }
  out.push(`<text x="${X1}" y="${y + 28}" text-anchor="end" class="tl-tick">${esc(unit)}</text>`);
  return out.join('');
}

const fmtNum = (v: number): string => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toFixed(1))));

/** Slice kinds in the overview, most telling first: a pixel shows the first kind present in it. */
const OVERVIEW_KINDS = ['discard fault', 'copy on write', 'page fault', 'msync', 'reclaim pass', 'lock wait', 'ESSA batch'];

/** The whole run, a thin lane per participant: where its trace slices were, per pixel column. */
export function overviewSvg(t: TimelineData, z: ZoomWindow): string {
  const to = Math.max(t.end, 1); // both axes start at 0: sim steps, or µs since the first traced event
  const cols = X1 - X0;
  const px = (v: number): number => Math.min(cols - 1, Math.max(0, Math.floor((v / to) * cols)));
  const parts: string[] = [];
  const h = t.lanes.length * OVERVIEW_LANE_H;
  t.lanes.forEach((name, lane) => {
    const kind = new Int8Array(cols).fill(OVERVIEW_KINDS.length);
    for (const s of t.slices) {
      if (s.lane !== lane) continue;
      const k = OVERVIEW_KINDS.indexOf(s.name);
      if (k < 0) continue;
      for (let x = px(s.b); x <= px(s.e); x++) if (k < kind[x]) kind[x] = k;
    }
    for (const i of t.instants) {
      const k = OVERVIEW_KINDS.indexOf(i.name);
      if (i.lane === lane && k >= 0 && k < kind[px(i.ts)]) kind[px(i.ts)] = k;
    }
    const y = lane * OVERVIEW_LANE_H;
    parts.push(`<rect x="${X0}" y="${y + 1}" width="${cols}" height="${OVERVIEW_LANE_H - 2}" fill="#f3f3f3"/>`,
      `<text x="${X0 - 6}" y="${y + 9}" text-anchor="end" class="tl-lane-s">${esc(name)}</text>`);
    for (let x = 0; x < cols;) {
      const k = kind[x];
      let e = x;
      while (e + 1 < cols && kind[e + 1] === k) e++;
      if (k < OVERVIEW_KINDS.length) parts.push(`<rect x="${X0 + x}" y="${y + 1}" width="${e - x + 1}" height="${OVERVIEW_LANE_H - 2}" fill="${EVENT_COLOURS[OVERVIEW_KINDS[k]]}"/>`);
      x = e + 1;
    }
  });
  const zx = X0 + px(z.from);
  const zw = Math.max(3, px(z.to) - px(z.from));
  parts.push(`<rect x="${zx}" y="0" width="${zw}" height="${h}" fill="none" stroke="#000" stroke-width="1.5"><title>the zoomed window below</title></rect>`);
  if (z.at !== null) parts.push(`<line x1="${X0 + px(z.at)}" y1="0" x2="${X0 + px(z.at)}" y2="${h}" stroke="#e00" stroke-width="2"/>`);
  parts.push(axis(0, to, h + 2, t.sim ? 'scheduling step' : 'µs since the first event'));
  return `<svg id="timeline-overview" class="timeline" viewBox="0 0 ${W} ${h + 34}" width="${W}" height="${h + 34}" role="img" aria-label="the whole run, a lane per participant">${parts.join('')}</svg>`;
}

/** The zoomed window: turns as lane backgrounds, slices as bars, instants as ticks, the violation as a red line. */
export function zoomSvg(t: TimelineData, z: ZoomWindow, label: string | null): string {
  const span = z.to - z.from;
  const x = (v: number): number => X0 + ((Math.min(Math.max(v, z.from), z.to) - z.from) / span) * (X1 - X0);
  const top = 22;
  const h = top + t.lanes.length * LANE_H;
  const p: string[] = [];
  const unit = t.sim ? 'step' : 'µs';
  t.lanes.forEach((name, lane) => {
    const y = top + lane * LANE_H;
    p.push(`<rect x="${X0}" y="${y}" width="${X1 - X0}" height="${LANE_H - 2}" fill="#f6f6f6"/>`,
      `<text x="${X0 - 8}" y="${y + LANE_H / 2 + 4}" text-anchor="end" class="tl-lane">${esc(name)}</text>`);
  });
  for (const u of z.turns) {
    const y = top + u.lane * LANE_H;
    const a = x(u.from), b = x(u.to);
    p.push(`<rect class="tl-turn" x="${a.toFixed(1)}" y="${y}" width="${Math.max(1, b - a).toFixed(1)}" height="${LANE_H - 2}" fill="${laneColour(u.lane, t.lanes.indexOf('host') + 1)}" fill-opacity="0.35"><title>${esc(t.lanes[u.lane])} ran steps ${u.from}–${u.to - 1} (${u.to - u.from} steps)</title></rect>`);
  }
  for (const s of t.slices) {
    if (s.e < z.from || s.b > z.to) continue;
    const y = top + s.lane * LANE_H + 5;
    const a = x(s.b), b = Math.max(x(s.e), a + 2);
    p.push(`<rect class="tl-slice" x="${a.toFixed(1)}" y="${y}" width="${(b - a).toFixed(1)}" height="13" rx="2" fill="${EVENT_COLOURS[s.name] ?? '#555'}"><title>${esc(t.lanes[s.lane])}: ${esc(s.name)} (${unit} ${fmtNum(s.b)}–${fmtNum(s.e)}; arg ${s.arg})</title></rect>`);
    if (b - a > 8 * s.name.length) p.push(`<text x="${(a + 3).toFixed(1)}" y="${y + 10}" class="tl-slice-label">${esc(s.name)}</text>`);
  }
  for (const i of t.instants) {
    if (i.ts < z.from || i.ts > z.to) continue;
    if (i.name === 'violation') {
      if (i.ts !== z.at) p.push(`<line x1="${x(i.ts).toFixed(1)}" y1="${top + i.lane * LANE_H}" x2="${x(i.ts).toFixed(1)}" y2="${top + (i.lane + 1) * LANE_H - 2}" stroke="#e00" stroke-dasharray="3 2"><title>${esc(t.lanes[i.lane])}: another violation [${esc(String(i.arg))}] at ${unit} ${fmtNum(i.ts)}</title></line>`);
      continue;
    }
    const y = top + i.lane * LANE_H + LANE_H - 13;
    const xi = x(i.ts);
    p.push(`<rect class="tl-instant" x="${(xi - 1).toFixed(1)}" y="${y}" width="2.5" height="10" fill="${EVENT_COLOURS[i.name] ?? '#555'}"><title>${esc(t.lanes[i.lane])}: ${esc(i.name)} at ${unit} ${fmtNum(i.ts)} (arg ${esc(String(i.arg))})</title></rect>`);
  }
  if (z.at !== null) {
    const xv = x(z.at);
    const anchor = xv > (X0 + X1) / 2 ? 'end' : 'start';
    p.push(`<line id="timeline-violation" x1="${xv.toFixed(1)}" y1="${top - 4}" x2="${xv.toFixed(1)}" y2="${h}" stroke="#e00" stroke-width="2.5"/>`,
      `<text x="${(xv + (anchor === 'end' ? -5 : 5)).toFixed(1)}" y="${top - 8}" text-anchor="${anchor}" class="tl-viol">${esc(label ?? 'violation')}</text>`);
  }
  p.push(axis(z.from, z.to, h + 2, t.sim ? 'scheduling step' : 'µs since the first event'));
  const legend = Object.entries(EVENT_COLOURS).filter(([n]) => n !== 'violation')
    .map(([n, c], k) => `<rect x="${X0 + k * 140}" y="${h + 38}" width="12" height="10" fill="${c}"/><text x="${X0 + k * 140 + 16}" y="${h + 47}" class="tl-tick">${esc(n)}</text>`).join('');
  return `<svg id="timeline-zoom" class="timeline" viewBox="0 0 ${W} ${h + 56}" width="${W}" height="${h + 56}" role="img" aria-label="the last turns before the violation">${p.join('')}${legend}</svg>`;
}

/** Turn by turn (sim) or event by event (threads): who ran, which steps, what happened. */
export function turnTable(t: TimelineData, z: ZoomWindow): string {
  const inRange = (lane: number, a: number, b: number): string => {
    const counts = new Map<string, number>();
    for (const s of t.slices) if (s.lane === lane && s.b >= a && s.b < b) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    for (const i of t.instants) if (i.lane === lane && i.ts >= a && i.ts < b && i.name !== 'violation') counts.set(i.name, (counts.get(i.name) ?? 0) + 1);
    return [...counts].map(([n, c]) => (c > 1 ? `${n} ×${c}` : n)).join(', ');
  };
  if (t.sim) {
    const rows = z.turns.map((u) => {
      const hit = z.at !== null && u.from <= z.at && z.at < u.to;
      return `<tr${hit ? ' class="hit"' : ''}><td class="num">${u.from}–${u.to - 1}</td><td><span class="dot" style="background:${laneColour(u.lane, t.lanes.indexOf('host') + 1)}"></span>${esc(t.lanes[u.lane])}</td>` +
        `<td class="num">${u.to - u.from}</td><td>${esc(inRange(u.lane, u.from, u.to))}${hit ? ` <b>← violation at step ${z.at}</b>` : ''}</td></tr>`;
    });
    return `<table id="turns"><thead><tr><th>steps</th><th>participant</th><th>steps run</th><th>trace events started in the turn</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  }
  const evs = [...t.slices.map((s) => ({ ts: s.b, lane: s.lane, what: `${s.name} (${fmtNum(s.e - s.b)} µs)` })),
    ...t.instants.map((i) => ({ ts: i.ts, lane: i.lane, what: i.name === 'violation' ? `violation [${String(i.arg)}]` : i.name }))]
    .filter((e) => e.ts >= z.from && e.ts <= z.to).sort((a, b) => a.ts - b.ts).slice(-ZOOM_EVENTS);
  // Runs of the same event on the same participant become one row (ESSA batches come in bursts).
  const runs: { from: number; to: number; lane: number; what: string; n: number }[] = [];
  for (const e of evs) {
    const last = runs[runs.length - 1];
    if (last && last.lane === e.lane && last.what === e.what && !e.what.startsWith('violation')) { last.to = e.ts; last.n++; } else runs.push({ from: e.ts, to: e.ts, lane: e.lane, what: e.what, n: 1 });
  }
  const rows = runs.map((e) => `<tr${e.what.startsWith('violation') ? ' class="hit"' : ''}><td class="num">${fmtNum(e.from - z.from)}${e.n > 1 ? `–${fmtNum(e.to - z.from)}` : ''}</td><td><span class="dot" style="background:${laneColour(e.lane, t.lanes.indexOf('host') + 1)}"></span>${esc(t.lanes[e.lane])}</td><td>${esc(e.what)}${e.n > 1 ? ` ×${e.n}` : ''}</td></tr>`);
  return `<table id="turns"><thead><tr><th>µs into the window</th><th>participant</th><th>event</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
