/**
 * The story recorder: what happened to one page, recorded by a sim run that replays a
 * violation (`hintsim replay FILE --story`, the HTML report). Off in every other run (one
 * null check per scheduling point); it never calls sp(), never writes a word a decision
 * reads, so a recorded run takes exactly the decisions (and trace_hash) of an unrecorded one.
 *
 * In sim mode only the baton holder runs, so the code executed between two consecutive
 * scheduling points of the whole machine belongs to the participant that reaches the
 * second one: at each point the holder compares the target page (struct page words and
 * the host state words) with the last snapshot and, when it changed, logs a CHANGE event
 * named by the kernel function of its own previous scheduling point (the operation that
 * point announced). Points on the target page itself (refcount, ESSA, access, fault, host
 * action, a window) are TOUCH events named by the current function; lock and unlock points
 * are logged for every lock (report/story.ts keeps the locks that the page's events held);
 * a switch away from a participant that could have gone on is a SWITCH (preemption).
 *
 * One shared area, written only by the baton holder (so plainly, in order):
 *   header  [0] target pfn, [1] events written (monotonic; a ring of STORY_EVENTS),
 *           [2] name bytes used, [3] snapshot valid, [4..4+SNAP) the last snapshot
 *   events  STORY_EVENT_WORDS each: step (a CHANGE: its participant's previous point), who,
 *           type, kind, arg (a CHANGE: the step it was seen at), name offset, name length,
 *           old snapshot (SNAP words), new snapshot (SNAP words)
 *   names   UTF-8 function names, appended (each worker interns its own)
 */
import { ME, V } from '../core/ctx.js';
import { SIM_BATON, PAGE_WORDS, PG_COUNT, PG_FLAGS, PG_INDEX, PG_MAPCOUNT, PG_MAPPING, PG_PRIVATE } from '../core/layout.js';
import { SP_FAULT, SP_LOCK, SP_SPIN, SP_UNLOCK } from '../core/sched.js';

export const STORY_EVENTS = 1 << 14;
/** Snapshot words: flags, _count, _mapcount, mapping, index, private, ESSA host state word, the host's own word (Host.storyWord). */
export const SNAP = 8;
export const STORY_EVENT_WORDS = 7 + 2 * SNAP;
const HDR = 16;
const NAME_BYTES = 1 << 20;
export const STORY_BYTES = (HDR + STORY_EVENTS * STORY_EVENT_WORDS) * 4 + NAME_BYTES;

export const EV_TOUCH = 1, EV_CHANGE = 2, EV_SWITCH = 3;
const H_PFN = 0, H_N = 1, H_NAMES = 2, H_VALID = 3, H_SNAP = 4;

/** Recording in this participant (read by sim.ts before calling in: one check per point). */
export let storyRecording = false;
let words: Int32Array | null = null;
let names: Uint8Array | null = null;
let hostWord: ((pfn: number) => number) | null = null;
let prevSite: Error | null = null;
let prevStep = 0;
const interned = new Map<string, number>();
const snap = new Int32Array(SNAP);

/** A fresh story area aimed at `pfn` (main thread, before the run). */
export function storyArea(pfn: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(STORY_BYTES);
  new Int32Array(sab, 0, HDR)[H_PFN] = pfn;
  return sab;
}

/** Attach this participant to the story area (null: not recording). */
export function storyInit(sab: SharedArrayBuffer | null | undefined, host?: (pfn: number) => number): void {
  hostWord = host ?? null;
  words = sab ? new Int32Array(sab, 0, HDR + STORY_EVENTS * STORY_EVENT_WORDS) : null;
  names = sab ? new Uint8Array(sab, (HDR + STORY_EVENTS * STORY_EVENT_WORDS) * 4, NAME_BYTES) : null;
  storyRecording = sab !== null && sab !== undefined;
  prevSite = null;
  prevStep = 0;
  interned.clear();
  if (sab) Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 24);
}

function takeSnapshot(pfn: number): void {
  const p = V.page, b = pfn * PAGE_WORDS;
  snap[0] = p[b + PG_FLAGS]; snap[1] = p[b + PG_COUNT]; snap[2] = p[b + PG_MAPCOUNT]; snap[3] = p[b + PG_MAPPING];
  snap[4] = p[b + PG_INDEX]; snap[5] = p[b + PG_PRIVATE]; snap[6] = V.hs[pfn]; snap[7] = hostWord === null ? 0 : hostWord(pfn);
}

/** Frames of the scheduler, the recorder and the injection pauses: never the function an event is named by. */
const INFRA = /[\\/](core[\\/](sched|spinlock|trace|history|ctx|inject)|sim[\\/][\w]+)\.[tj]s:/;
const FILE_FAULT = /__handle_mm_fault/;
const LOCK_HELPER = /(Lock|Unlock|_lock|_unlock)$/;
const GUEST = /[\\/](guest|workloads)[\\/]/;
const WORKLOAD = /[\\/]workloads[\\/]/;

/**
 * The function an event is named by, as "outer/inner": inner is the innermost frame outside
 * the scheduler (a lock helper, a host hook such as essa), outer the kernel function that
 * called it (a guest CPU: the innermost guest frame that is not a lock helper). "outer"
 * alone when they are the same.
 */
function siteName(e: Error | null): string {
  if (e === null) return '?';
  const lines = (e.stack ?? '').split('\n');
  let inner = '', outer = '';
  const cpu = ME < V.ncpus;
  for (let i = 1; i < lines.length && outer === ''; i++) {
    const m = /^\s*at (?:async )?(?:(.+?) \()?(.+?):(\d+):\d+\)?$/.exec(lines[i]);
    if (!m || INFRA.test(`${m[2]}:`)) continue;
    const name = m[1] ? m[1].replace(/^(Object|Module)\./, '').replace(/ \[as .*\]$/, '') : `${m[2].replace(/^.*[\\/]/, '')}:${m[3]}`;
    if (inner === '') inner = name;
    if (LOCK_HELPER.test(name) || (cpu && !GUEST.test(m[2]))) continue;
    outer = name;
  }
  if (outer === '') outer = inner || '?';
  return inner !== '' && inner !== outer ? `${outer}/${inner}` : outer;
}

/**
 * Is a point whose argument equals the target pfn a point on that page? Not when a workload
 * called it (its idle loop counts with SP_STEP), nor for a page fault (guest/memory.ts's
 * SP_FAULT carries a file index; a discard fault's carries the pfn).
 */
function onPage(kind: number, site: Error): boolean {
  const stack = site.stack ?? '';
  if (kind === SP_FAULT && FILE_FAULT.test(stack)) return false;
  const lines = stack.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const m = /\(?([^()\s]+):\d+:\d+\)?$/.exec(lines[i]);
    if (!m || INFRA.test(`${m[1]}:`)) continue;
    return !WORKLOAD.test(m[1]);
  }
  return true;
}

function intern(name: string): number {
  const hit = interned.get(name);
  if (hit !== undefined) return hit;
  const w = words!, n = names!;
  const bytes = Buffer.from(name, 'utf8');
  const off = w[H_NAMES];
  if (off + bytes.length > n.length) return -1;
  n.set(bytes, off);
  w[H_NAMES] = off + bytes.length;
  const id = off | (bytes.length << 20); // NAME_BYTES is 2^20: offset and length in one word
  interned.set(name, id);
  return id;
}

function put(step: number, type: number, kind: number, arg: number, site: Error | null, oldFrom: number, fresh: Int32Array | null): void {
  const w = words!;
  const k = w[H_N];
  const b = HDR + (k % STORY_EVENTS) * STORY_EVENT_WORDS;
  const id = site === null ? -1 : intern(siteName(site));
  w[b] = step; w[b + 1] = ME; w[b + 2] = type; w[b + 3] = kind; w[b + 4] = arg;
  w[b + 5] = id < 0 ? -1 : id & (NAME_BYTES - 1); w[b + 6] = id < 0 ? 0 : id >>> 20;
  for (let i = 0; i < SNAP; i++) {
    w[b + 7 + i] = oldFrom >= 0 ? w[oldFrom + i] : 0;
    w[b + 7 + SNAP + i] = fresh ? fresh[i] : 0;
  }
  w[H_N] = k + 1;
}

/**
 * At a scheduling point of this participant (the baton holder), before the decision:
 * log what it changed on the target page since the last point, and this point if it is on
 * the page or a lock.
 */
export function storyPoint(step: number, kind: number, arg: number): void {
  // after a stop every participant runs freely (teardown): only the baton holder's points are in order
  if (words === null || Atomics.load(V.hdr, SIM_BATON) !== ME) return;
  const w = words;
  const pfn = w[H_PFN];
  takeSnapshot(pfn);
  let changed = false;
  for (let i = 0; i < SNAP && !changed; i++) changed = snap[i] !== w[H_SNAP + i];
  if (changed || w[H_VALID] === 0) {
    // the change was made by the operation this participant's previous point announced: its step and function
    if (w[H_VALID] !== 0) put(prevSite === null ? step : prevStep, EV_CHANGE, kind, step, prevSite, H_SNAP, snap); // the first point only takes the snapshot
    for (let i = 0; i < SNAP; i++) w[H_SNAP + i] = snap[i];
    w[H_VALID] = 1;
  }
  const site = new Error();
  if (kind === SP_LOCK || kind === SP_UNLOCK || (kind !== SP_SPIN && arg === pfn && onPage(kind, site))) put(step, EV_TOUCH, kind, arg, site, -1, null);
  prevSite = site;
  prevStep = step;
}

/** The baton leaves this participant at `step` for `to` (forced: it spins, or it finished). */
export function storySwitch(step: number, to: number, forced: boolean): void {
  if (words === null) return;
  put(step, EV_SWITCH, forced ? 1 : 0, to, null, -1, null);
}

/** This participant's run ends (or the run stopped): log its last change of the page. */
export function storyExit(step: number): void {
  if (words === null) return;
  storyPoint(step, SP_SPIN, -1);
}

// ------------------------------------------------------------ reading (main thread)

export interface StoryEvent {
  step: number; who: number; type: number; kind: number; arg: number; fn: string;
  /** CHANGE: the page before and after (SNAP words each). */
  before: number[] | null; after: number[] | null;
}

/** A recorded story: the target pfn, its events oldest first, how many older ones the ring dropped. */
export interface StoryRecord { pfn: number; events: StoryEvent[]; dropped: number }

/** The recorded events, oldest first (the last STORY_EVENTS when the ring wrapped). */
export function storyEvents(sab: SharedArrayBuffer): StoryRecord {
  const w = new Int32Array(sab, 0, HDR + STORY_EVENTS * STORY_EVENT_WORDS);
  const n = new Uint8Array(sab, (HDR + STORY_EVENTS * STORY_EVENT_WORDS) * 4, NAME_BYTES);
  const total = w[H_N];
  const first = Math.max(0, total - STORY_EVENTS);
  const dec = new TextDecoder();
  const events: StoryEvent[] = [];
  for (let k = first; k < total; k++) {
    const b = HDR + (k % STORY_EVENTS) * STORY_EVENT_WORDS;
    const type = w[b + 2];
    const fn = w[b + 5] < 0 ? '?' : dec.decode(n.subarray(w[b + 5], w[b + 5] + w[b + 6]));
    const change = type === EV_CHANGE;
    events.push({
      step: w[b], who: w[b + 1], type, kind: w[b + 3], arg: w[b + 4], fn,
      before: change ? Array.from(w.subarray(b + 7, b + 7 + SNAP)) : null,
      after: change ? Array.from(w.subarray(b + 7 + SNAP, b + 7 + 2 * SNAP)) : null,
    });
  }
  return { pfn: w[H_PFN], events, dropped: first };
}
