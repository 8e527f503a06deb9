/**
 * `hintsim check ID`: a bounded exhaustive exploration of one race's hunting ground at a
 * small size. Stateless depth-first search over the baton decisions (CHESS; loom): each
 * execution starts from boot and follows a prefix of decisions, then the default schedule
 * (sim/strategies/dfs.ts, which records every scheduling point): a CPU runs on across its
 * ops, the host's daemon runs at each op boundary, an injected stall or a spin or an end
 * passes the baton on. The search backtracks to the deepest point with an unexplored choice
 * and runs again. What keeps it small:
 *   - a preemption bound K: any choice other than the default schedule's costs one
 *     preemption (delay bounding, Emmi, Qadeer, Rakamaric POPL 2011, with a fair default);
 *   - DPOR backtrack sets and sleep sets over the objects of the scheduling points
 *     (sim/events.ts): an alternative is tried at a point only if a later event of that
 *     participant conflicts with the one run there and is not ordered after it by
 *     happens-before (vector clocks, dporAnalyse), and not again from a sibling branch
 *     until an event that conflicts with it has run;
 *   - a visited-state table: a point whose shared state (64-bit hash, dfs.ts), sleep set and
 *     remaining budget were seen before is not explored again.
 * With a fix off, bounds 0, 1, ..., K are explored in turn, so the first violation comes
 * with the fewest preemptions that expose it; with --fixed, bound K directly.
 *
 * What "exhausted" means, and its limits (said in --help and the README): every schedule
 * of this ground (this seed, op budget and CPU count) with at most K preemptions, up to
 * (a) the independence of points on different objects (code between two points is assumed
 * to touch only its point's object or words under a lock whose acquire is a point; on the
 * ESSA page-cache ground, the audited host footprint of sim/events.ts CHECK_MODEL_ESSA; an
 * injected stall's inner points touch nothing), (b)
 * DPOR and sleep sets combined with a preemption bound and a state table, which may skip a
 * schedule whose only equivalent within the bound was pruned (Coons, Musuvathi, McKinley,
 * OOPSLA 2013), and (c) the state hash, which leaves out frame contents and the
 * participants' JS-local state (it counts the points each one passed instead).
 * --no-reduction turns (a) and (b) off; (c) stays.
 */
import type { Violation } from '../core/oracles.js';
import type { Views } from '../core/layout.js';
import { UsageError, type RunOptions } from '../machine/config.js';
import { runMachine, type RunResult } from '../machine/run.js';
import { releaseIdleWorkers, setWorkerReuse, workerReuse } from '../machine/worker_pool.js';
import { CHECK_MODEL_ESSA, CHECK_MODEL_NONE, EC_GLOBAL, EC_HOST, EC_HS, EC_LOCAL, eventClass } from '../sim/events.js';
import { readDfsRecords, type DfsInput, type DfsRecord } from '../sim/strategies/dfs.js';
import { findRace, raceRunOptions } from './hunt.js';
import { makeReplayFile, toReplayOptions, type ReplayFile } from './replay_file.js';

export interface CheckOptions {
  id: string;
  fixed: boolean;
  /** The bound (with a fix off: the largest tried). */
  preemptions: number;
  /** Total workload ops (null: the race's check ground, CHECK_OPS). */
  ops: number | null;
  /** Guest CPUs (null: the race's own). */
  cpus: number | null;
  seconds: number;
  /** Sleep sets on (off: --no-reduction, for measuring what they save). */
  reduce: boolean;
  seed: number;
  /** DPOR's happens-before refinement (default on; off: every last conflicting event is a race, for measuring). */
  hb?: boolean;
  /** Changes to the ground's run options (tests, measurements). */
  ground?: Partial<RunOptions>;
  progress?: (p: CheckProgress) => void;
}

export interface CheckProgress { bound: number; schedules: number; states: number; depth: number; seconds: number }

/** One bound's search. */
export interface BoundResult {
  bound: number;
  schedules: number;
  states: number;
  /** Branches not taken: alternatives asleep, executions cut at a visited state or where every choice slept. */
  pruned: { dpor: number; sleep: number; state: number; blocked: number };
  /** Scheduling points of the longest execution. */
  max_points: number;
  exhausted: boolean;
  found: boolean;
  seconds: number;
}

export interface CheckResult {
  race: string;
  fixed: boolean;
  cpus: number;
  ops: number;
  seed: number;
  reduction: boolean;
  bound: number;
  bounds: BoundResult[];
  schedules: number;
  states: number;
  pruned: number;
  exhausted: boolean;
  seconds: number;
  violation: Violation | null;
  /** The fewest preemptions that expose the violation (every smaller bound was exhausted clean), or null. */
  least_preemptions: number | null;
  /** Preemptions in the violating schedule itself. */
  schedule_preemptions: number | null;
  replay: ReplayFile | null;
  /** The replay file reproduced the violation when replayed. */
  replay_verified: boolean;
}

const UNHASHED = '0000000000000000';

/**
 * The ground's seed per race (default 1): a seed whose workload and injection draws hold the
 * race's steps within the race's op budget, found by a sweep at bound 1 (discard-get-page at
 * 20 ops: of seeds 1..30 only 16 holds it within bound 1, found after 147 schedules, and the
 * fixed ground is exhausted at bound 2 (20,635 schedules, 98 s on the shared machine); at 40
 * ops seeds 13, 16 and 17 hold it, but bound 2 with every fix on was not exhausted in 600 s;
 * discard-grace: a random-schedule sweep (one run per seed) of the 40-op ground hit it with
 * seed 245 of 1..400 (of the 60-op ground: 17, 33, 53, 63, 79 of 1..80), and the check finds
 * it with 245 at bound 1 (330 schedules; the 60-op ground with 17: 617); no seed of 1..60 at
 * 30 or 40 ops with 8-page files holds it within bound 1, nor those random-sweep hits with
 * 16 or 24-page files (40 ops: seeds 53, 756, 355)).
 */
export const CHECK_SEEDS: Readonly<Record<string, number>> = { 'discard-get-page': 16, 'discard-grace': 245 };

/** The seed a check of race `id` uses when --seed is not given. */
export function checkSeed(id: string): number {
  return CHECK_SEEDS[id] ?? 1;
}

/** Default total ops of a check ground: one to two thousand scheduling points. */
export const CHECK_OPS = 40;
/**
 * Races whose ground has its own op budget: discard-get-page's 20 ops (about 700 points) hold
 * its violation within bound 1 (seed 16) and are small enough for bound 2 with every fix on
 * to be exhausted; discard-grace needs a discard fault on a page that the other CPU then
 * truncates, frees and allocates again: 40 ops with seed 245 (about 1,100-1,400 points; the
 * 60-op ground with seed 17 it had before has about 1,750-2,400).
 */
export const CHECK_RACE_OPS: Readonly<Record<string, number>> = { 'discard-get-page': 20, 'discard-grace': 40 };

/** The total ops a check of race `id` uses when --ops is not given. */
export function checkOps(id: string): number {
  return CHECK_RACE_OPS[id] ?? CHECK_OPS;
}

interface Node extends DfsRecord {
  /** Preemptions before this point. */
  pre: number;
  /** The sleep set the search found here when it first came (explicit re-runs override it). */
  sleep0: number;
  /** Choices whose subtree is done. */
  done: number;
  /** No alternatives here (cut at a visited state or blocked). */
  terminal: boolean;
  /** The sleep set forced when this point's choice was made explicit. */
  override: number;
  /** DPOR: participants to try here (a later event of theirs conflicts with the one run here). */
  backtrack: number;
}

/**
 * The check's ground for a race: its hunting ground made small. The page-cache races of the
 * ESSA host (workload mixed): 1 MiB of guest memory, a 64 KiB host budget, one file of 48
 * pages, no anonymous work, and the host reclaiming the frame a guest touched last (so that
 * discards come within a few dozen ops); no injected stalls (the search places the switches).
 * It runs the fault path of before the minor-fault optimisation (minor_fault_opt=0, bit-identical
 * to model 2): measured on model 3, with the optimisation on no seed of 1..30 of this 40-op
 * ground shows discard-get-page within bound 1, with it off seed 17 does (354 schedules).
 * Other races keep their own ground with a small op budget.
 */
export function checkRunOptions(c: Pick<CheckOptions, 'id' | 'fixed' | 'ops' | 'cpus' | 'seed'>): RunOptions {
  const race = findRace(c.id);
  const base = raceRunOptions(race, { mode: 'sim', strategy: 'random', depth: 3, cpus: c.cpus, fixed: c.fixed }, c.seed);
  const o: RunOptions = { ...base, ops: c.ops ?? checkOps(race.id), inject: [], recordSchedule: true, watchdogMs: 10_000 };
  if (race.host === 'essa' && race.workload === 'mixed') {
    return {
      ...o, memBytes: 1 << 20, hostMemBytes: 64 << 10, inject: ['stall-fault', 'host-reclaim-touched'],
      workloadOptions: { ...o.workloadOptions, files: 1, file_pages: 48, anon_pct: 0, anon_mem_pct: 0, minor_fault_opt: 0 },
    };
  }
  return o;
}

/**
 * The conflict relation a ground allows (sim/events.ts): the audited ESSA model for the ESSA
 * host with the mixed page-cache workload, else the plain one (host events conflict with all).
 */
export function checkModel(o: RunOptions): number {
  return o.host === 'essa' && o.workload === 'mixed' ? CHECK_MODEL_ESSA : CHECK_MODEL_NONE;
}

const pick = (v: Violation) => ({ oracle: v.oracle, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message });

/** The violation a check reports: the race's oracle with the fix off; any with --fixed. */
function violationOf(r: RunResult, oracle: string, fixed: boolean): Violation | null {
  return r.violations.find((v) => fixed || v.oracle === oracle) ?? null;
}

export async function check(c: CheckOptions): Promise<CheckResult> {
  if (!Number.isInteger(c.preemptions) || c.preemptions < 0) throw new UsageError(`--preemptions: '${c.preemptions}' is not a bound; accepted: an integer >= 0`);
  const race = findRace(c.id);
  const opts: RunOptions = { ...checkRunOptions(c), ...(c.ground ?? {}) };
  const model = c.reduce ? checkModel(opts) : CHECK_MODEL_NONE;
  const t0 = performance.now();
  const deadline = t0 + c.seconds * 1000;
  const reused = workerReuse();
  setWorkerReuse(true);
  const bounds: BoundResult[] = [];
  let found: { v: Violation; run: RunResult; bound: number; pre: number } | null = null;
  try {
    const first = c.fixed ? c.preemptions : 0;
    for (let k = first; k <= c.preemptions && !found; k++) {
      const b = await searchBound(opts, k, c, model, race.oracle, deadline, t0);
      bounds.push(b.result);
      if (b.found) found = { ...b.found, bound: k };
      if (!b.result.exhausted) break;
    }
    let replay: ReplayFile | null = null;
    let verified = false;
    if (found) {
      const s = found.run.schedule!;
      replay = makeReplayFile({
        race: race.id, seed: opts.seed, options: toReplayOptions({ ...opts, strategy: 'random' }),
        schedule: { first: s.first, decisions: s.decisions ?? [] }, expected: pick(found.v), shrink: null,
      });
      const again = await runMachine({ ...opts, dfs: null, schedule: { first: s.first, decisions: s.decisions ?? [] }, recordSchedule: false });
      verified = again.violations.some((v) => v.oracle === found!.v.oracle);
    }
    const last = bounds[bounds.length - 1];
    const everySmallerClean = found !== null && bounds.filter((b) => b.bound < found!.bound).every((b) => b.exhausted && !b.found) && (c.fixed ? found.bound === 0 : true);
    return {
      race: race.id, fixed: c.fixed, cpus: opts.cpus, ops: opts.ops ?? 0, seed: opts.seed, reduction: c.reduce, bound: c.preemptions, bounds,
      schedules: bounds.reduce((s, b) => s + b.schedules, 0), states: last?.states ?? 0,
      pruned: bounds.reduce((s, b) => s + b.pruned.dpor + b.pruned.sleep + b.pruned.state + b.pruned.blocked, 0),
      exhausted: !found && bounds.length > 0 && last.exhausted && last.bound === c.preemptions,
      seconds: (performance.now() - t0) / 1000,
      violation: found?.v ?? null,
      least_preemptions: found && everySmallerClean ? found.bound : null,
      schedule_preemptions: found?.pre ?? null,
      replay, replay_verified: verified,
    };
  } finally {
    setWorkerReuse(reused);
    if (!reused) await releaseIdleWorkers();
  }
}

interface BoundSearch { result: BoundResult; found: { v: Violation; run: RunResult; pre: number } | null }

/** Depth-first search of every schedule with at most `bound` preemptions. */
async function searchBound(opts: RunOptions, bound: number, c: CheckOptions, model: number, oracle: string, deadline: number, t0: number): Promise<BoundSearch> {
  const tb = performance.now();
  const stack: Node[] = [];
  const visited = new Map<string, number>(); // state key -> the largest remaining budget it was explored with
  const pruned = { dpor: 0, sleep: 0, state: 0, blocked: 0 };
  let schedules = 0, maxPoints = 0, branch = -1;
  let lastProgress = 0;
  const result = (exhausted: boolean, found: boolean): BoundResult => ({
    bound, schedules, states: visited.size, pruned: { ...pruned }, max_points: maxPoints, exhausted, found, seconds: (performance.now() - tb) / 1000,
  });
  for (;;) {
    if (performance.now() > deadline) return { result: result(false, false), found: null };
    const dfsIn: DfsInput = {
      decisions: stack.filter((n) => n.explicit).map((n) => ({ step: n.step, to: n.chosen, sleep: n.override })),
      bound, reduce: c.reduce, hashFrom: branch + 1, model,
    };
    let read: ReturnType<typeof readDfsRecords> | null = null;
    const run = await runMachine({ ...opts, dfs: dfsIn }, { afterRun: (v: Views) => { read = readDfsRecords(v); } });
    schedules++;
    const rec = read as ReturnType<typeof readDfsRecords> | null;
    if (!rec) throw new Error('check: the execution left no record');
    if (rec.overflow) throw new UsageError(`check: an execution of this ground has more scheduling points than the search can record (dfs.ts); use a smaller --ops`);
    maxPoints = Math.max(maxPoints, rec.records.length);
    for (let i = 0; i <= branch && i < rec.records.length; i++) {
      const a = rec.records[i], b = stack[i];
      if (a.step !== b.step || a.me !== b.me || a.chosen !== b.chosen) {
        throw new Error(`check: execution ${schedules} left the prefix at point ${i} (step ${a.step} vs ${b.step}, participant ${a.me} vs ${b.me}): the run is not a pure function of its decisions`);
      }
    }
    const v = violationOf(run, oracle, c.fixed);
    if (v) {
      const pre = countPreemptions(rec.records);
      return { result: result(false, true), found: { v, run, pre } };
    }
    appendNodes(stack, rec.records, branch, bound, visited, pruned);
    if (c.reduce) dporAnalyse(stack, rec.records, model, opts.cpus, c.hb ?? true);
    branch = backtrack(stack, bound, c.reduce, pruned);
    if (branch < 0) return { result: result(true, false), found: null };
    const now = performance.now();
    if (c.progress && now - lastProgress > 200) {
      lastProgress = now;
      c.progress({ bound, schedules, states: visited.size, depth: stack.length, seconds: (now - t0) / 1000 });
    }
  }
}

function countPreemptions(rs: DfsRecord[]): number {
  return rs.reduce((s, r) => s + (r.chosen !== r.def ? 1 : 0), 0);
}

/** Add the execution's new points to the stack, cutting at a visited state or where it was blocked. */
function appendNodes(stack: Node[], rs: DfsRecord[], branch: number, bound: number, visited: Map<string, number>, pruned: BoundResult['pruned']): void {
  for (let i = branch + 1; i < rs.length; i++) {
    const r = rs[i];
    const prev = stack[i - 1];
    const pre = prev ? prev.pre + (prev.chosen !== prev.def ? 1 : 0) : 0;
    const node: Node = { ...r, pre, sleep0: r.sleep, done: 0, terminal: false, override: 0, backtrack: r.chosen >= 0 ? 1 << r.chosen : 0 };
    stack.push(node);
    if (r.blocked) { node.terminal = true; pruned.blocked++; return; }
    if (r.hash === UNHASHED) continue;
    const left = bound - pre;
    const key = r.hash;
    const seen = visited.get(key);
    if (seen !== undefined && seen >= left) { node.terminal = true; pruned.state++; return; }
    visited.set(key, left);
  }
}

/**
 * Pop finished points; at the deepest point with an untried choice within the bound (and
 * not asleep), make that choice explicit and return its index (-1: the space is exhausted).
 */
function backtrack(stack: Node[], bound: number, reduce: boolean, pruned: BoundResult['pruned']): number {
  while (stack.length > 0) {
    const t = stack.length - 1;
    const n = stack[t];
    if (n.terminal || n.chosen < 0) { stack.pop(); continue; }
    n.done |= 1 << n.chosen;
    const sleep = reduce ? n.sleep0 : 0;
    const tryThese = reduce ? n.backtrack & n.enabled : n.enabled;
    let pick = -1;
    for (let q = 0; q < 31; q++) {
      const bit = 1 << q;
      if ((n.enabled & bit) === 0 || (n.done & bit) !== 0) continue;
      if (n.pre + (q !== n.def ? 1 : 0) > bound) continue; // beyond the bound: not a branch of this search
      if ((tryThese & bit) === 0) { n.done |= bit; pruned.dpor++; continue; }
      if ((sleep & bit) !== 0) { n.done |= bit; pruned.sleep++; continue; }
      pick = q;
      break;
    }
    if (pick < 0) { stack.pop(); continue; }
    n.chosen = pick;
    n.explicit = true;
    n.override = reduce ? n.sleep0 | n.done : 0;
    return t;
  }
  return -1;
}

/**
 * DPOR (Flanagan and Godefroid, POPL 2005) with its happens-before refinement: for each
 * event run at point i by participant p, the last earlier event j of another participant
 * that conflicts with it (sim/events.ts, the check's relation under `model`) and does not
 * happen before it is a race; p must also be tried at j (every enabled participant when p
 * could not run there). Happens-before is the transitive closure of program order and the
 * conflicts between events in the order this execution ran them, kept as vector clocks over
 * point indices: j (of q) happens before p's next event when p's clock has seen q's point j.
 * An event ordered after j through a chain of conflicts (the epoch sign-off, say, a global
 * event that orders everything the other CPU did before it) needs no backtrack at j: the
 * chain's own first race reverses it (hb: false restores the coarser rule, every last
 * conflicting event, for measuring). Only the points on the stack count. A participant's
 * last event before its exit is global (it published PA_STATE: dfs.ts F_EXIT). Indexed by
 * class so that one execution costs O(points x participants^2).
 */
function dporAnalyse(stack: Node[], rs: DfsRecord[], model: number, ncpus: number, hb: boolean): void {
  const m = Math.min(stack.length, rs.length);
  let np = 1;
  for (let i = 0; i < m; i++) np = Math.max(np, rs[i].me + 1, rs[i].chosen + 1);
  const pendK = new Int32Array(np), pendO = new Int32Array(np).fill(-1);
  const lastAny = new Int32Array(np).fill(-1), lastGlobal = new Int32Array(np).fill(-1);
  const lastHs = new Int32Array(np).fill(-1), lastHost = new Int32Array(np).fill(-1);
  const lastObj = new Map<number, Int32Array>();
  // clock[p * np + q]: the latest point of q that happens before (or is) p's last event; vc: each event's clock
  const clock = new Int32Array(np * np).fill(-1);
  const vc = hb ? new Int32Array(m * np).fill(-1) : new Int32Array(0);
  const dep = new Int32Array(np);
  for (let i = 0; i < m; i++) {
    const r = rs[i];
    pendK[r.me] = r.kind; pendO[r.me] = r.obj;
    const p = r.chosen;
    if (p < 0) continue;
    const k = pendK[p], o = pendO[p];
    const exitNext = i + 1 < rs.length && rs[i + 1].me === p && rs[i + 1].exit;
    const cls = exitNext ? EC_GLOBAL : eventClass(model, k, o, p >= ncpus);
    if (cls === EC_LOCAL) continue; // invisible: races with nothing, orders nothing
    const byObj = cls === EC_GLOBAL || o < 0 ? undefined : lastObj.get(o);
    let j = -1;
    for (let q = 0; q < np; q++) {
      dep[q] = -1;
      if (q === p) continue;
      let jq: number;
      if (cls === EC_GLOBAL) jq = lastAny[q];
      else {
        jq = Math.max(lastGlobal[q], byObj ? byObj[q] : -1);
        if (cls === EC_HOST || cls === EC_HS) jq = Math.max(jq, lastHs[q], lastHost[q]); // host state: both conflict with every EC_HS and EC_HOST event
      }
      dep[q] = jq; // q's last event that conflicts with this one (its earlier ones precede it in program order)
      if (jq >= 0 && (!hb || jq > clock[p * np + q])) j = Math.max(j, jq);
    }
    if (j >= 0) { const nj = stack[j]; nj.backtrack |= (nj.enabled & (1 << p)) !== 0 ? 1 << p : nj.enabled; }
    if (hb) {
      for (let q = 0; q < np; q++) {
        const jq = dep[q];
        if (jq < 0) continue;
        for (let x = 0; x < np; x++) if (vc[jq * np + x] > clock[p * np + x]) clock[p * np + x] = vc[jq * np + x];
      }
      clock[p * np + p] = i;
      for (let x = 0; x < np; x++) vc[i * np + x] = clock[p * np + x];
    }
    lastAny[p] = i;
    if (cls === EC_GLOBAL) lastGlobal[p] = i;
    if (cls === EC_HS) lastHs[p] = i;
    if (cls === EC_HOST) lastHost[p] = i;
    if (cls !== EC_GLOBAL && o >= 0) { let a = byObj; if (!a) { a = new Int32Array(np).fill(-1); lastObj.set(o, a); } a[p] = i; }
  }
}
