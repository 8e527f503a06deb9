/**
 * dfs: one execution of the bounded exhaustive search (`hintsim check`, explore/check.ts).
 * Not a --strategy: the check selects it with RunOptions.dfs. The search is stateless
 * (CHESS, loom): every execution starts from the beginning and follows a prefix of
 * decisions the check chose; past the prefix it runs without preemption: the holder keeps
 * the baton until its op ends (a CPU's workload step, a host loop turn), it spins or it
 * finishes, and then the next runnable participant after it, round robin, runs. A switch
 * at an op boundary, a spin or an end is free; any other switch is a preemption. Every
 * scheduling point is recorded so that the check can pick the next branch.
 *
 * Sleep sets (Godefroid 1996) are kept here, at the points, because the default choice
 * must avoid asleep participants: a participant is asleep when running its pending event
 * next was already explored from an equivalent state; it wakes when an event that conflicts
 * with its own runs (sim/events.ts, the check's relation under RunOptions.dfs.model; a
 * participant's exit wakes every sleeper). When every enabled participant is asleep (or only a
 * preemption beyond the bound would avoid them), the rest of the execution is redundant:
 * the point is marked blocked and the run finishes with plain defaults, unrecorded.
 * From the first new point on, every DFS_HASH_EVERY-th record carries a 64-bit hash of the shared state (the
 * struct pages, the host state words, the kernel area (not the ptes of tasks that do not exist), the zone and scheduler-independent
 * header words, every participant's state, epoch, pcp lists and pending event, and how many
 * points each participant has passed), so that the check explores a state only once.
 *
 * Consulted at every point (SIM_NEXT = step + 1). Draws nothing.
 *
 * Input (setup, from RunOptions.dfs), in Views.slogIn:
 *   [3i, 3i+1, 3i+2]  prefix decision i: at step, run participant `to`, sleep set := mask
 * Output, in Views.slogIn from DFS_REC_BASE, DFS_REC_WORDS per point (DfsRecord):
 *   step, me, kind, obj, enabled mask, sleep mask (before the choice),
 *   flags (chosen | default << 8 | EXPLICIT | BLOCKED), hash lo, hash hi
 * Words (SIM_STRAT + i):
 *   0 POS  1 NDEC  2 SLEEP  3 PREEMPTS  4 BOUND  5 NREC  6 BLOCKED (record index, -1)
 *   7 HASH_FROM (first record to hash)  8 FLAGS (1 sleep sets on, 2 the record log overflowed)
 *   9 LAST_CPU (the guest CPU that ran last: the default returns to it after the host)
 *   10 .. 26 COUNT: points passed per participant
 *   27 .. 43 BEAT: each participant's heartbeat at its last point (a moved one marks an op boundary)
 */
import {
  ANON_PAGES, CTL_NCPUS, K_APTE, K_PTE, MAX_CPUS, MAX_PARTICIPANTS, NVP, PA_EPOCH, PA_IDLE, PA_HEARTBEAT, PA_STATE, PCP_BASE, PCP_HO_BASE, PCP_HO_ORDERS, PS_DONE, PCP_STRIDE, SIM_BASE, SIM_NEXT, SIM_NPART, SIM_STRAT, STEP, paWord, type Views,
} from '../../core/layout.js';
import { OBJ_STALL, SP_SPIN } from '../../core/sched.js';
import { CHECK_MODEL_NONE, checkParticipantsConflict, clearEvents, recordEvent } from '../events.js';
import { runnable, type SimView, type Strategy } from '../strategy.js';

const POS = SIM_STRAT, NDEC = SIM_STRAT + 1, SLEEP = SIM_STRAT + 2, PREEMPTS = SIM_STRAT + 3, BOUND = SIM_STRAT + 4;
const NREC = SIM_STRAT + 5, BLOCKED = SIM_STRAT + 6, HASH_FROM = SIM_STRAT + 7, FLAGS = SIM_STRAT + 8, LAST_CPU = SIM_STRAT + 9;
const FL_REDUCE = 1, FL_OVERFLOW = 2, FL_MODEL_SHIFT = 4; // FLAGS >> FL_MODEL_SHIFT: the conflict model (events.ts CHECK_MODEL_*)
const COUNT = SIM_STRAT + 10;
const BEAT = COUNT + MAX_PARTICIPANTS;

export const DFS_DEC_WORDS = 3;
/**
 * Points hashed: every DFS_HASH_EVERY-th record (a hash reads ~25k words). Two executions in
 * the same state have passed the same number of points (the state counts each
 * participant's), so they meet at the next hashed index as long as they choose alike.
 */
export const DFS_HASH_EVERY = 8;
export const DFS_REC_WORDS = 9;
export const F_CHOSEN = 0xff, F_DEFAULT_SHIFT = 8, F_EXPLICIT = 1 << 16, F_BLOCKED = 1 << 17, F_EXIT = 1 << 18;

/** What the check hands one execution. */
export interface DfsInput {
  /** Decisions to force: at `step` run `to`, the sleep set becoming `sleep` first. */
  decisions: { step: number; to: number; sleep: number }[];
  /** Preemption bound. */
  bound: number;
  /** Sleep sets on. */
  reduce: boolean;
  /** Hash the state from this record index on (the points before it are known). */
  hashFrom: number;
  /** The conflict relation of the sleep sets (sim/events.ts CHECK_MODEL_*; absent: none). */
  model?: number;
}

/** One recorded point. */
export interface DfsRecord {
  step: number; me: number; kind: number; obj: number; enabled: number; sleep: number;
  /** The participant that ran (-1 nobody) and the fair default's choice (a different one costs a preemption). */
  chosen: number; def: number; explicit: boolean; blocked: boolean; hash: string;
  /** `me` has just finished (its exit point): the event that led here also published that. */
  exit: boolean;
}

/** Where the records start in slogIn (its upper half). */
export function dfsRecBase(v: SimView): number {
  return v.slogIn.length >> 1;
}

/** Main, after the run: the records, whether the log overflowed, the blocked record (-1). */
export function readDfsRecords(v: SimView): { records: DfsRecord[]; overflow: boolean; blocked: number } {
  const h = v.hdr, log = v.slogIn, base = dfsRecBase(v);
  const records: DfsRecord[] = [];
  for (let i = 0; i < h[NREC]; i++) {
    const r = base + i * DFS_REC_WORDS;
    const f = log[r + 6];
    records.push({
      step: log[r], me: log[r + 1], kind: log[r + 2], obj: log[r + 3], enabled: log[r + 4], sleep: log[r + 5],
      chosen: (f & F_CHOSEN) === F_CHOSEN ? -1 : f & F_CHOSEN, def: ((f >> F_DEFAULT_SHIFT) & F_CHOSEN) === F_CHOSEN ? -1 : (f >> F_DEFAULT_SHIFT) & F_CHOSEN, explicit: (f & F_EXPLICIT) !== 0,
      blocked: (f & F_BLOCKED) !== 0, exit: (f & F_EXIT) !== 0, hash: (log[r + 8] >>> 0).toString(16).padStart(8, '0') + (log[r + 7] >>> 0).toString(16).padStart(8, '0'),
    });
  }
  return { records, overflow: (h[FLAGS] & FL_OVERFLOW) !== 0, blocked: h[BLOCKED] };
}

// Two independent 32-bit hashes (FNV-1a style and a multiplicative one): a 64-bit state key.
// The lanes live in locals inside mixWords (a module-level `let` in the loop is a context
// slot: measured 4x slower); hashing was most of an execution's time (~14 of 18 ms).
let hashLo = 0, hashHi = 0;
function mix(x: number): void {
  hashLo = Math.imul(hashLo ^ x, 0x01000193);
  hashHi = Math.imul(hashHi + x, 0x9e3779b1) ^ (hashHi >>> 15);
}
function mixWords(a: Int32Array, from: number, to: number): void {
  let lo = hashLo, hi = hashHi;
  for (let i = from; i < to; i++) {
    const x = a[i];
    lo = Math.imul(lo ^ x, 0x01000193);
    hi = Math.imul(hi + x, 0x9e3779b1) ^ (hi >>> 15);
  }
  hashLo = lo; hashHi = hi;
}
/** The shared state's hash (hashLo, hashHi). Hot: no allocation. */
function stateHash(v: Views, me: number, n: number, sleep: number): void {
  hashLo = 0x811c9dc5 | 0; hashHi = 0x2545f491;
  mixWords(v.page, 0, v.page.length);
  mixWords(v.hs, 0, v.hs.length);
  // The kernel area but the ptes of tasks that do not exist (task = guest CPU: rmap.ts pteIdx,
  // layout.ts K_APTE): about two thirds of its words on 2 CPUs, never written in this run.
  const ncpus = v.hdr[CTL_NCPUS];
  mixWords(v.k, 0, K_PTE + ncpus * NVP);
  mixWords(v.k, K_PTE + MAX_CPUS * NVP, K_APTE + ncpus * ANON_PAGES);
  mixWords(v.k, K_APTE + MAX_CPUS * ANON_PAGES, v.k.length);
  // Not the point count (STEP). INJ_TOUCHED (host-reclaim-touched's frame) is hashed: the
  // host acts on it, so two states that differ there are not the same state.
  mixWords(v.hdr, 0, STEP); mixWords(v.hdr, STEP + 1, SIM_BASE);
  for (let p = 0; p < n; p++) {
    const o = paWord(p, 0);
    mix(v.pa[o + PA_STATE]); mix(v.pa[o + PA_EPOCH]); mix(v.pa[o + PA_IDLE]); // not heartbeat, last step, last pfn (diagnostics), nor the sim wake word
    mixWords(v.pa, o + PCP_BASE, o + PCP_BASE + 2 * PCP_STRIDE);
    mixWords(v.pa, o + PCP_HO_BASE, o + PCP_HO_BASE + PCP_HO_ORDERS * PCP_STRIDE); // the high-order pcp lists (model 4)
    mix(v.hdr[COUNT + p]);
  }
  mix(me); mix(sleep);
}
/**
 * The default schedule, which costs no preemption: a guest CPU runs on across its ops (as
 * an unpreempted kernel would) but lets the host's participants run at each op boundary
 * (the host's reclaim is a background daemon: it gets the CPU between guest ops); a host
 * participant runs its loop turn, then the CPU that ran before it goes on. At a spin or an
 * end: that CPU, or the next enabled participant round robin. At the first point of an
 * injected stall (inject.ts: the hypervisor preempts that vCPU) the next CPU runs.
 */
function defaultChoice(h: Int32Array, me: number, n: number, enabled: number, meCan: boolean, boundary: boolean, stall: boolean): number {
  const ncpus = h[CTL_NCPUS];
  const isCpu = me < ncpus;
  if (isCpu) h[LAST_CPU] = me;
  if (stall) { // an injected stall: the hypervisor preempts this vCPU; the next one runs
    for (let k = 1; k < n; k++) { const p = (me + k) % n; if (p < ncpus && (enabled & (1 << p)) !== 0) return p; }
  }
  if (meCan && !boundary) return me;
  if (isCpu && meCan) { // an op boundary: a host participant first, if one is waiting to run
    for (let p = ncpus; p < n; p++) if ((enabled & (1 << p)) !== 0) return p;
    return me;
  }
  const back = h[LAST_CPU];
  if (!isCpu && (enabled & (1 << back)) !== 0) return back;
  for (let k = 1; k <= n; k++) { const p = (me + k) % n; if ((enabled & (1 << p)) !== 0) return p; }
  return -1;
}

export const dfs: Strategy = {
  name: 'dfs',
  help: 'one execution of hintsim check: a forced prefix, then no preemption; records every point (selected by check, not by --strategy)',
  words: 10 + 2 * MAX_PARTICIPANTS,

  setup(v, o, n) {
    const d = o.dfs;
    if (!d) throw new Error('sim: the dfs strategy needs RunOptions.dfs (hintsim check)');
    const h = v.hdr, log = v.slogIn;
    if (d.decisions.length * DFS_DEC_WORDS > dfsRecBase(v)) throw new Error(`check: ${d.decisions.length} forced decisions do not fit the log`);
    d.decisions.forEach((x, i) => { log[3 * i] = x.step; log[3 * i + 1] = x.to; log[3 * i + 2] = x.sleep; });
    h[NDEC] = d.decisions.length; h[POS] = 0; h[SLEEP] = 0; h[PREEMPTS] = 0; h[BOUND] = d.bound; h[NREC] = 0;
    h[BLOCKED] = -1; h[HASH_FROM] = d.hashFrom; h[FLAGS] = (d.reduce ? FL_REDUCE : 0) | ((d.model ?? CHECK_MODEL_NONE) << FL_MODEL_SHIFT); h[LAST_CPU] = 0;
    for (let p = 0; p < MAX_PARTICIPANTS; p++) { h[COUNT + p] = 0; h[BEAT + p] = 0; }
    clearEvents(v.pa, n);
    return 0;
  },

  choose(step, kind, obj, me, v) {
    const h = v.hdr, log = v.slogIn;
    const n = h[SIM_NPART];
    h[SIM_NEXT] = step + 1;
    recordEvent(v.pa, me, kind, obj);
    const meCan = kind !== SP_SPIN && runnable(v, me); // `me` could go on
    // `me` finished (sim.ts simExit: PS_DONE, then this point): the event that ended here
    // also stored its PA_STATE, which the host's loop reads; wake every sleeper (a sound
    // over-approximation: waking only adds branches).
    const exit = v.pa[paWord(me, PA_STATE)] === PS_DONE;
    if (exit) h[SLEEP] = 0;
    // The first point after `me` finished an op (a CPU's workload step, a host loop turn:
    // its heartbeat moved) is where the fair default lets the next one run.
    const beat = v.pa[paWord(me, PA_HEARTBEAT)];
    const boundary = beat !== h[BEAT + me];
    h[BEAT + me] = beat;
    let enabled = 0;
    for (let p = 0; p < n; p++) if ((p !== me || meCan) && runnable(v, p)) enabled |= 1 << p;
    const def = defaultChoice(h, me, n, enabled, meCan, boundary, obj === OBJ_STALL);
    const blockedAlready = h[BLOCKED] >= 0;
    let explicit = false;
    let to = -1;
    let pos = h[POS];
    while (pos < h[NDEC] && log[3 * pos] < step) pos++; // never in a pure run: the check verifies the prefix
    h[POS] = pos;
    if (pos < h[NDEC] && log[3 * pos] === step) {
      to = log[3 * pos + 1];
      h[SLEEP] = log[3 * pos + 2];
      h[POS] = pos + 1;
      explicit = true;
    }
    const sleep = blockedAlready || (h[FLAGS] & FL_REDUCE) === 0 ? 0 : h[SLEEP];
    let blockedHere = false;
    if (to < 0 || (enabled & (1 << to)) === 0) {
      explicit = false;
      const awake = enabled & ~sleep;
      to = -1;
      if (def >= 0 && (awake & (1 << def)) !== 0) to = def;
      else if (h[PREEMPTS] < h[BOUND]) {
        for (let k = 1; k <= n; k++) { const p = (me + k) % n; if ((awake & (1 << p)) !== 0) { to = p; break; } }
      }
      if (to < 0 && enabled !== 0) { // every choice asleep or beyond the bound: redundant from here
        blockedHere = !blockedAlready;
        to = def;
      }
    }
    if (!blockedAlready) {
      const i = h[NREC];
      const r = (v.slogIn.length >> 1) + i * DFS_REC_WORDS;
      if (r + DFS_REC_WORDS > log.length) h[FLAGS] |= FL_OVERFLOW;
      else {
        log[r] = step; log[r + 1] = me; log[r + 2] = kind; log[r + 3] = obj; log[r + 4] = enabled; log[r + 5] = sleep;
        log[r + 6] = (to & F_CHOSEN) | ((def & F_CHOSEN) << F_DEFAULT_SHIFT) | (explicit ? F_EXPLICIT : 0) | (blockedHere ? F_BLOCKED : 0) | (exit ? F_EXIT : 0);
        if (i >= h[HASH_FROM] && i % DFS_HASH_EVERY === 0) { stateHash(v as unknown as Views, me, n, sleep); log[r + 7] = hashLo; log[r + 8] = hashHi; } else { log[r + 7] = 0; log[r + 8] = 0; }
        h[NREC] = i + 1;
      }
      if (blockedHere) h[BLOCKED] = i;
    }
    if (to !== def) h[PREEMPTS]++;
    if (to >= 0) {
      // the sleep set after `to` runs its pending event: the asleep ones it does not conflict with
      let s = (sleep | 0) & ~(1 << to);
      const model = h[FLAGS] >> FL_MODEL_SHIFT, ncpus = h[CTL_NCPUS];
      for (let p = 0; p < n; p++) if ((s & (1 << p)) !== 0 && checkParticipantsConflict(v.pa, model, ncpus, p, to)) s &= ~(1 << p);
      h[SLEEP] = s;
      h[COUNT + to]++;
    }
    return to;
  },
};
