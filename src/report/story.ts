/**
 * The race as a story: the causal slice of a violation, read from what a replay recorded
 * (sim/story_rec.ts), not from a template per race. One line per event on the violating
 * page: the step, the participant, the kernel function and the state change, e.g.
 *
 *   step  8648  cpu1  __do_discard_fault        pfn 46  discard fault (host Vz)
 *   step 11500  cpu0  put_page_testzero         pfn 46  _count 0 -> -1, -lru
 *
 * Where it starts (the last consistent point): the violating participant's last run of
 * events on the page before the others' interfering events, plus the last host action on
 * the page before that (the state that run found). Consecutive events of one participant
 * in one function are one line; a line ends "preempted" when the baton left that
 * participant there although it could have gone on, "spins" when it had to wait.
 */
import { FLAG_NAMES } from '../core/page_flags.js';
import { HS_CHANGE, HS_STATE_MASK } from '../core/layout.js';
import { stateName } from '../core/hw.js';
import { SP_ACCESS, SP_FAULT, SP_LOCK, SP_NAMES, SP_UNLOCK } from '../core/sched.js';
import { hostByName } from '../hosts/index.js';
import { runMachine, type RunResult } from '../machine/run.js';
import type { RunOptions } from '../machine/config.js';
import { EV_CHANGE, EV_SWITCH, EV_TOUCH, type StoryEvent, type StoryRecord } from '../sim/story_rec.js';

/** The violation a story is told of: its page and oracle, and for the slice its participant and step. */
export interface StoryTarget { pfn: number; oracle: string }
export interface ViolationAt extends StoryTarget { cpu: number; step: number }

/** Lines a story aims at (issue 16: at most 20 for the free-vs-discard pair, 40 for any race). */
export const STORY_MAX_LINES = 20;

export interface StoryLine {
  step: number;
  /** Participant index and name (cpu0, cpu1, host, pager, dom0). */
  participant: number;
  who: string;
  fn: string;
  /** What happened: the state change, or the kind of point when nothing changed. */
  what: string;
  /** The baton left this participant after this line: 'preempted' (it could have gone on), 'spins', or ''. */
  then: '' | 'preempted' | 'spins';
  /** This line is the violation. */
  violation: boolean;
  /** Context: the last host action on the page before the slice starts. */
  context: boolean;
}

export interface Story {
  pfn: number;
  oracle: string;
  lines: StoryLine[];
  /** Names of the participants in the lines, in order of appearance. */
  participants: string[];
  /** The step the slice starts at. */
  from_step: number;
  /** Lines merged or left out to stay within the budget (0: the slice is whole). */
  left_out: number;
}

/** cpu0.. for guest CPUs, then the host's participants by name (host, pager, dom0). */
export function participantNames(cpus: number, host: string): (p: number) => string {
  const parts = hostByName(host as Parameters<typeof hostByName>[0]).participants;
  return (p) => (p < cpus ? `cpu${p}` : (parts[p - cpus]?.who ?? `participant ${p}`).replace(/^the /, ''));
}

/** Names the host's own word of a page (Host.storyWord), null for a host that keeps none. */
type HostName = ((w: number) => string) | null;

/** Only the reference and frame-lock bits of the host word changed: bookkeeping, not an event. */
function noise(a: number[], b: number[]): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  if (a[7] !== b[7]) return false;
  return (a[6] & (HS_STATE_MASK | HS_CHANGE)) === (b[6] & (HS_STATE_MASK | HS_CHANGE));
}

function hostState(w: number): string {
  return `${stateName(w & HS_STATE_MASK)}${w & HS_CHANGE ? '(C)' : ''}`;
}

/** The state change from `a` to `b`, as `_count 0 -> -1, +discarded -lru, host Sr -> Ur` (and the host's own word by `hostName`). */
export function describeChange(a: number[], b: number[], hostName: ((w: number) => string) | null = null): string {
  const out: string[] = [];
  const fields: [number, string][] = [[1, '_count'], [2, '_mapcount'], [3, 'mapping'], [4, 'index'], [5, 'private']];
  for (const [i, name] of fields) if (a[i] !== b[i]) out.push(`${name} ${a[i]} -> ${b[i]}`);
  if (a[0] !== b[0]) {
    const flags: string[] = [];
    for (const [bit, name] of FLAG_NAMES) {
      if ((a[0] & bit) && !(b[0] & bit)) flags.push(`-${name}`);
      else if (!(a[0] & bit) && (b[0] & bit)) flags.push(`+${name}`);
    }
    if (flags.length) out.push(flags.join(' '));
  }
  if (hostState(a[6]) !== hostState(b[6])) out.push(`host ${hostState(a[6])} -> ${hostState(b[6])}`);
  if (hostName && a[7] !== b[7]) out.push(`${hostName(a[7])} -> ${hostName(b[7])}`);
  return out.join(', ');
}

interface Item {
  step: number; who: number; fn: string; kind: number; before: number[] | null; after: number[] | null;
  /** The page as the last change before this item left it (null: none recorded yet). */
  at: number[] | null;
  /** A merged middle: the values _count and the host state went through. */
  path?: { count: number[]; host: string[] };
}

/** Page events (changes, and the points on the page) merged per participant and function. */
function pageItems(rec: StoryRecord, lastStep: number): Item[] {
  const changers = new Set<number>();
  for (const e of rec.events) if (e.type === EV_CHANGE && e.before && e.after && !noise(e.before, e.after)) changers.add(e.who);
  const items: Item[] = [];
  let at: number[] | null = null;
  const resumed = new Map<number, number>(); // participant -> step the baton last came back to it
  for (const e of rec.events) {
    if (e.type === EV_SWITCH) { resumed.set(e.arg, e.step); continue; }
    // a change is logged at the step its participant announced it; when the baton left it
    // in between, the change was made once it came back
    const step = e.type === EV_CHANGE ? Math.max(e.step, resumed.get(e.who) ?? 0) : e.step;
    // after the violation: its participant's change is seen at its next point, anything later is not the story
    if (step > lastStep || (e.type === EV_CHANGE && e.arg > lastStep + 1)) continue;
    const change = e.type === EV_CHANGE && e.before !== null && e.after !== null && !noise(e.before, e.after);
    // a point on the page where nothing changed: a fault or an access always; anything else
    // only from a participant whose changes are not in the snapshot (a host keeping its own state)
    const touch = e.type === EV_TOUCH && e.kind !== SP_LOCK && e.kind !== SP_UNLOCK && e.arg === rec.pfn &&
      (e.kind === SP_FAULT || e.kind === SP_ACCESS || !changers.has(e.who));
    if (e.type === EV_CHANGE && e.after) at = e.after;
    if (!change && !touch) continue;
    const last = items[items.length - 1];
    if (last && last.who === e.who && last.fn === e.fn) {
      if (change) { last.before ??= e.before; last.after = e.after; }
      continue;
    }
    items.push({ step, who: e.who, fn: e.fn, kind: e.kind, before: change ? e.before : null, after: change ? e.after : null, at });
  }
  return items;
}

/** Where the slice starts: the violator's last run of events before the others' interfering ones. */
function sliceStart(items: Item[], violator: number): number {
  const end = items.length - 1;
  let i = end - 1;
  while (i >= 0 && items[i].who !== violator) i--; // the others' events just before the violation
  if (i < 0) return Math.max(0, end - 10);
  if (i === end - 1) { // no interference right before: the violator's run, then whoever came before it
    while (i >= 0 && items[i].who === violator) i--;
    while (i >= 0 && items[i].who !== violator) i--;
    if (i < 0) return Math.max(0, end - 10);
  }
  let s = i;
  const RUN_MAX = 6;
  while (s > 0 && items[s - 1].who === violator && i - s < RUN_MAX - 1) s--;
  return s;
}

/** A long run of one participant keeps this many lines at each end when its middle is merged. */
const RUN_KEEP_HEAD = 2, RUN_KEEP_TAIL = 2;

/** The longest run of consecutive items of one participant (the violation line is never part of one). */
function longestRun(items: Item[]): { at: number; len: number } {
  let best = { at: 0, len: 0 };
  for (let i = 0; i < items.length - 1;) {
    let j = i + 1;
    while (j < items.length - 1 && items[j].who === items[i].who) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  return best;
}

/** The values _count and the host state went through in `items` (consecutive repeats once). */
function pathOf(items: Item[], hostName: HostName): { count: number[]; host: string[] } {
  const count: number[] = [], host: string[] = [];
  for (const it of items) {
    for (const snap of [it.before, it.after]) {
      if (!snap) continue;
      if (count[count.length - 1] !== snap[1]) count.push(snap[1]);
      const h = hostName ? hostName(snap[7]) : hostState(snap[6]);
      if (host[host.length - 1] !== h) host.push(h);
    }
  }
  return { count, host };
}

/** A merged middle's change: _count and host through every value they took, the rest first to last. */
function describePath(it: Item, hostName: HostName): string {
  const p = it.path!;
  const cap = (xs: (number | string)[]): string => (xs.length <= 8 ? xs : [...xs.slice(0, 3), '...', ...xs.slice(-4)]).join(' -> ');
  const rest = it.before && it.after ? describeChange(it.before, it.after).split(', ').filter((x) => x !== '' && !x.startsWith('_count ') && !x.startsWith('host ') && !(hostName && x.includes(' -> ') && x.startsWith(hostName(it.before![7]).split(' ')[0]))) : [];
  return [...(p.count.length > 1 ? [`_count ${cap(p.count)}`] : []), ...rest, ...(p.host.length > 1 ? [`${hostName ? '' : 'host '}${cap(p.host)}`] : [])].join(', ');
}

/** How the baton left `who` after `step` and before `until`: the first switch away. */
function leaving(switches: StoryEvent[], who: number, step: number, until: number): StoryLine['then'] {
  for (const s of switches) {
    if (s.who !== who || s.step < step) continue;
    if (s.step > until) return '';
    return s.kind === 1 ? 'spins' : 'preempted';
  }
  return '';
}

/** The causal slice of violation `v` from a recording aimed at its pfn. */
export function buildStory(rec: StoryRecord, v: ViolationAt, name: (p: number) => string, hostName: HostName = null, maxLines = STORY_MAX_LINES): Story {
  const items = pageItems(rec, v.step);
  const switches = rec.events.filter((e) => e.type === EV_SWITCH);
  if (items.length === 0) return { pfn: rec.pfn, oracle: v.oracle, lines: [], participants: [], from_step: v.step, left_out: 0 };
  const start = sliceStart(items, v.cpu);
  let slice = items.slice(start);
  // the state the slice starts from: the last host action on the page before it
  let ctx: Item | null = null;
  for (let i = start - 1; i >= 0 && slice[0].at !== null; i--) {
    const it = items[i];
    // the host's own word when it keeps one (then the ESSA word is only a storage key), else the ESSA state
    if (it.before && it.after && (hostName ? it.before[7] !== it.after[7] : hostState(it.before[6]) !== hostState(it.after[6]))) { ctx = it; break; }
  }
  let leftOut = 0;
  const toLine = (it: Item, i: number, all: Item[], context: boolean): StoryLine => {
    const next = all[i + 1];
    const change = it.path ? describePath(it, hostName) : it.before && it.after ? describeChange(it.before, it.after, hostName) : '';
    // a point where nothing changed: what the host state was (for a frame access, or the host's own word)
    const state = it.at === null ? '' : hostName ? hostName(it.at[7]) : it.kind === SP_FAULT || it.kind === SP_ACCESS ? `host ${hostState(it.at[6])}` : '';
    const what = change || `${SP_NAMES[it.kind] ?? 'point'}${state ? ` (${state})` : ''}`;
    return {
      step: it.step, participant: it.who, who: name(it.who), fn: it.fn, what,
      then: next && next.who !== it.who && !context ? leaving(switches, it.who, it.step, next.step) : '',
      violation: !context && i === all.length - 1, context,
    };
  };
  // too long: the middle of the longest run of one participant becomes one line (its net
  // change), until the story fits; then, if it must, the oldest lines are left out
  const room = maxLines - (ctx ? 1 : 0);
  while (slice.length > room) {
    const run = longestRun(slice);
    if (run.len <= RUN_KEEP_HEAD + RUN_KEEP_TAIL + 1) break;
    const mid = slice.slice(run.at + RUN_KEEP_HEAD, run.at + run.len - RUN_KEEP_TAIL);
    const before = mid.find((it) => it.before)?.before ?? null;
    const after = [...mid].reverse().find((it) => it.after)?.after ?? null;
    const merged: Item = { ...mid[0], fn: `${mid[0].fn} ... ${mid[mid.length - 1].fn} (${mid.length} events)`, before: after ? before : null, after: before ? after : null, path: pathOf(mid, hostName) };
    slice = [...slice.slice(0, run.at + RUN_KEEP_HEAD), merged, ...slice.slice(run.at + run.len - RUN_KEEP_TAIL)];
    leftOut += mid.length - 1;
  }
  if (slice.length > room) { leftOut += slice.length - room; slice = slice.slice(slice.length - room); }
  const lines = [...(ctx ? [toLine(ctx, 0, [ctx], true)] : []), ...slice.map((it, i) => toLine(it, i, slice, false))];
  // the violating participant did nothing to the page at the end (an oracle that looked): its own line
  const last = lines[lines.length - 1];
  if (last.participant !== v.cpu) {
    last.violation = false;
    last.then = leaving(switches, last.participant, last.step, v.step);
    lines.push({ step: v.step, participant: v.cpu, who: name(v.cpu), fn: '', what: `${v.oracle} oracle fires`, then: '', violation: true, context: false });
  }
  const participants: string[] = [];
  for (const l of lines) if (!participants.includes(l.who)) participants.push(l.who);
  return { pfn: rec.pfn, oracle: v.oracle, lines, participants, from_step: slice[0].step, left_out: leftOut };
}

/** The story as text, one line per event. */
export function formatStory(s: Story): string {
  if (s.lines.length === 0) return `story: nothing was recorded on pfn ${s.pfn} before the ${s.oracle} violation\n`;
  const fnW = Math.min(36, Math.max(...s.lines.map((l) => l.fn.length)));
  const stepW = Math.max(...s.lines.map((l) => String(l.step).length));
  const whoW = Math.max(...s.lines.map((l) => l.who.length));
  const out = [`story of pfn ${s.pfn} (${s.oracle}): ${s.participants.join(', ')}, from step ${s.from_step}${s.left_out ? ` (${s.left_out} events merged or left out)` : ''}`];
  for (const l of s.lines) {
    const mark = l.violation ? '  <- violation' : l.then === 'preempted' ? '  [preempted]' : l.then === 'spins' ? '  [spins]' : '';
    out.push(`${l.context ? '  (before) ' : '  '}step ${String(l.step).padStart(stepW)}  ${l.who.padEnd(whoW)}  ${l.fn.padEnd(fnW)}  pfn ${s.pfn}  ${l.what}${mark}`);
  }
  return out.join('\n') + '\n';
}

/** Run options that record the story of violation `v` (sim runs with a page only). */
export function withStory(o: RunOptions, v: StoryTarget | null): RunOptions {
  return o.mode === 'sim' && o.schedule !== null && v !== null && v.pfn >= 0 ? { ...o, storyPfn: v.pfn } : o;
}

/**
 * The story out of a run recorded withStory: of the violation of `v`'s oracle on `v`'s page
 * that the run gave (null when it gave none, or nothing was recorded), and the result
 * without the recording.
 */
export function takeStory(result: RunResult, v: StoryTarget | null): { story: Story | null; result: RunResult } {
  const { story: rec, ...rest } = result;
  const got = v ? result.violations.find((x) => x.oracle === v.oracle && x.pfn === v.pfn) : undefined;
  if (!rec || !got) return { story: null, result: rest };
  const word = hostByName(result.host as Parameters<typeof hostByName>[0]).storyWord;
  return { story: buildStory(rec, got, participantNames(result.cpus, result.host), word ? (w) => word.name(w) : null), result: rest };
}

/** Replay `o` (a sim run that gave `v`) recording `v`'s page, and build the story of `v` from it. */
export async function storyRun(o: RunOptions, v: StoryTarget): Promise<{ story: Story | null; result: RunResult }> {
  return takeStory(await runMachine(withStory(o, v)), v);
}
