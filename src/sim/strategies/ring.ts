/**
 * ring: try to re-enact a threads-mode failure's last scheduling points in sim mode
 * (threads-mode point rings, core/point_ring.ts; the schedule is built by
 * explore/ring_schedule.ts). Selected by RunOptions.ring, never by --strategy.
 *
 * The rings hold only the tail of the threads run. Each participant's place in it is its own
 * count of scheduling points (spins excluded: threads mode spins without one), so:
 *   head   every participant runs up to its gate, the count at which the ring's window
 *          starts for it, scheduled by the seed's strategy as in a fresh run, except that
 *          a participant at its gate waits there (when the strategy picks one, or the
 *          holder reaches its gate, the one least far towards its gate, count / gate, runs
 *          instead); when every runnable one is short of its gate only by spinning on
 *          something a gated one holds, a gated one runs one more segment ("slips").
 *   tail   the window's order: decision k says that participant `who`, reaching its own
 *          count `count`, hands the baton to `to`. A holder that spins hands on round robin
 *          and the baton returns to `who` at the next point (a detour).
 *   after  past the last decision, or at a divergence, the seed's own strategy (random or
 *          pct, its words set up as for a fresh run) goes on.
 * Divergence: `who` passed `count` (it ran on elsewhere: 'passed'), finished ('finished'),
 * or TAIL_LATE steps went by without the next decision ('late'). Decisions reached at a point
 * of another kind or object than recorded are followed but counted apart (same_key says how
 * many matched): the threads run and the sim run took different paths there.
 *
 * Words: the fallback's from SIM_STRAT, this strategy's last OWN of the area:
 *   KB+0 PHASE  0 head, 1 tail, 2 after     KB+1 POS   next decision   KB+2 N  decisions
 *   KB+3 FALL   0 random, 1 pct             KB+4 DIV   diverging decision + 1 (0 none)
 *   KB+5 DIV_STEP                           KB+6 WHY   1 passed, 2 finished, 3 late
 *   KB+7 LAST   step of the last decision followed (or of the tail's start)
 *   KB+8 SLICE  head: the step at which the seed's strategy wants to be asked again (its SIM_NEXT)
 * Rows of the keys area (sim/keys.ts inLog, IN_WORDS each, written by main before the run):
 *   0..N-1      decisions: who, kind, arg, count, to, 0
 *   N+p         participant p: gate, count so far (baton holder)
 *   N+P         stats: first of the tail, slips, same_key, head end step (baton holder)
 */
import { PA_STATE, SIM_NEXT, SIM_NPART, SIM_STRAT, SIM_STRAT_WORDS, paWord } from '../../core/layout.js';
import { SP_SPIN } from '../../core/sched.js';
import { IN_BASE, IN_WORDS, curArg, curKind, inLog } from '../keys.js';
import { nextRunnable, runnable, spinning, type Strategy } from '../strategy.js';
import { checkFallbackWords, divergenceOf, fallbackChoose, setupFallback, type Divergence } from './fallback.js';

const OWN = 9;
const KB = SIM_STRAT + SIM_STRAT_WORDS - OWN;
const PHASE = KB, POS = KB + 1, N = KB + 2, FALL = KB + 3, DIV = KB + 4, DIV_STEP = KB + 5, WHY = KB + 6, LAST = KB + 7, SLICE = KB + 8;
checkFallbackWords('ring', OWN);

/** Tail: steps without reaching the next decision before the replay has diverged. */
export const TAIL_LATE = 20_000;

/** What main hands the ring strategy (explore/ring_schedule.ts builds it). */
export interface RingFollow {
  /** Per participant: its own count of points where the ring's window starts (0: none, it waits from the start). */
  gates: number[];
  /** The participant that runs first in the tail. */
  first: number;
  /** The window's switches: `who`, at its `count`-th point (recorded as `kind` on `arg`), hands the baton to `to`. */
  decisions: { who: number; kind: number; arg: number; count: number; to: number }[];
}

/** The keys-area rows (sim/keys.ts keysArea's `follow`) that carry a RingFollow. */
export function ringRows(f: RingFollow): { who: number; kind: number; arg: number; count: number; to: number; step: number }[] {
  const row = (a: number, b: number, c: number, d: number, e: number) => ({ who: a, kind: b, arg: c, count: d, to: e, step: 0 });
  return [
    ...f.decisions.map((d) => row(d.who, d.kind, d.arg, d.count, d.to)),
    ...f.gates.map((g) => row(g, 0, 0, 0, 0)),
    row(f.first, 0, 0, 0, 0),
  ];
}

const dRow = (k: number): number => IN_BASE + k * IN_WORDS;
const pRow = (n: number, p: number): number => IN_BASE + (n + p) * IN_WORDS;

function fallback(step: number, kind: number, arg: number, me: number, h: Int32Array, v: Parameters<Strategy['choose']>[4]): number {
  return fallbackChoose(h[FALL], step, kind, arg, me, v);
}

export const ring: Strategy = {
  name: 'ring',
  help: "re-enact a threads-mode failure's point rings (selected by stress and hunt --mode threads, not by --strategy)",
  words: SIM_STRAT_WORDS,

  setup(v, o, n, rng) {
    const f = o.ring;
    if (!f || f.gates.length !== n) throw new Error(`sim: the ring strategy needs a ring schedule for ${n} participants`);
    const fall = setupFallback(v, o, n, rng); // its words, as a fresh run of the seed has them
    const h = v.hdr;
    h[POS] = 0; h[N] = f.decisions.length; h[FALL] = fall; h[DIV] = 0; h[DIV_STEP] = 0; h[WHY] = 0; h[LAST] = 0; h[SLICE] = 0;
    h[SIM_NEXT] = 1;
    let first = -1;
    for (let p = 0; p < n; p++) if (f.gates[p] > 0 && first < 0) first = p;
    h[PHASE] = first < 0 ? 1 : 0;
    return first < 0 ? f.first : first;
  },

  choose(step, kind, arg, me, v) {
    const h = v.hdr;
    if (h[PHASE] === 2) return fallback(step, kind, arg, me, h, v);
    const w = inLog();
    const n = h[N];
    const spin = kind === SP_SPIN;
    const mine = pRow(n, me) + 1;
    const c = spin ? w[mine] : ++w[mine];
    h[SIM_NEXT] = step + 1; // every point: the counts must see them all
    return h[PHASE] === 0 ? head(step, kind, arg, me, c, spin, h, w, v) : tail(step, kind, arg, me, c, spin, h, w, v);
  },
};

type V = Parameters<Strategy['choose']>[4];

function head(step: number, kind: number, arg: number, me: number, c: number, spin: boolean, h: Int32Array, w: Int32Array, v: V): number {
  const n = h[N], np = h[SIM_NPART];
  const atGate = c >= w[pRow(n, me)];
  if (!spin && !atGate && step < h[SLICE]) return me;
  if (!atGate || spin) {
    // the seed's strategy picks, as in a fresh run, unless it picks one at its gate
    const to = fallback(step, kind, arg, me, h, v);
    h[SLICE] = h[SIM_NEXT]; h[SIM_NEXT] = step + 1;
    if (to >= 0 && w[pRow(n, to) + 1] < w[pRow(n, to)]) return to;
  }
  // the runnable participant least far towards its gate (not spinning, if one is not)
  let best = -1, bestSpin = true, bestFrac = 2;
  for (let p = 0; p < np; p++) {
    if ((spin && p === me) || !runnable(v, p)) continue;
    const g = w[pRow(n, p)], cnt = w[pRow(n, p) + 1];
    if (cnt >= g) continue;
    const frac = cnt / g, sp = spinning(h, p) && p !== me;
    if (best < 0 || (bestSpin && !sp) || (bestSpin === sp && frac < bestFrac)) { best = p; bestSpin = sp; bestFrac = frac; }
  }
  if (best >= 0 && !(spin && bestSpin)) return best;
  if (spin) {
    // everyone short of its gate spins: a gated participant holds what they wait for
    for (let k = 1; k < np; k++) {
      const p = (me + k) % np;
      if (runnable(v, p) && w[pRow(n, p) + 1] >= w[pRow(n, p)]) { w[pRow(n, np) + 1]++; return p; }
    }
    return best; // only spinners left (-1: nobody)
  }
  // every runnable participant is at its gate: the tail starts
  h[PHASE] = 1; h[LAST] = step; w[pRow(n, np) + 3] = step;
  const first = w[pRow(n, np)];
  if (first === me || runnable(v, first)) return first;
  return tail(step, kind, arg, me, c, spin, h, w, v);
}

function tail(step: number, kind: number, arg: number, me: number, c: number, spin: boolean, h: Int32Array, w: Int32Array, v: V): number {
  const pos = h[POS];
  if (pos >= h[N]) { h[PHASE] = 2; return fallback(step, kind, arg, me, h, v); }
  const b = dRow(pos);
  const who = w[b], count = w[b + 3], to = w[b + 4];
  if (me === who && !spin) {
    if (c === count) {
      h[POS] = pos + 1; h[LAST] = step;
      if (curKind === w[b + 1] && curArg === w[b + 2]) w[pRow(h[N], h[SIM_NPART]) + 2]++;
      return to !== me && runnable(v, to) ? to : me;
    }
    if (c > count) return diverge(1, pos, step, kind, arg, me, h, v);
  }
  if (Atomics.load(v.pa, paWord(who, PA_STATE)) === 2) return diverge(2, pos, step, kind, arg, me, h, v);
  if (step - h[LAST] > TAIL_LATE) return diverge(3, pos, step, kind, arg, me, h, v);
  if (me !== who && !spin && runnable(v, who)) return who; // back from a detour
  return nextRunnable(v, me, kind);
}

function diverge(why: number, pos: number, step: number, kind: number, arg: number, me: number, h: Int32Array, v: V): number {
  h[DIV] = pos + 1; h[DIV_STEP] = step; h[WHY] = why; h[PHASE] = 2;
  return fallback(step, kind, arg, me, h, v);
}

/** Main thread, after a ring run: how far the window was followed. */
export interface RingOutcome {
  decisions: number;
  followed: number;
  /** Followed decisions reached at a point of the recorded kind and object. */
  same_key: number;
  /** Head: segments a gated participant ran past its gate because the others spun on it. */
  slips: number;
  /** The step at which the head ended (-1: it never did). */
  head_end_step: number;
  diverged: Divergence;
}

export function ringOutcome(h: Int32Array, area: SharedArrayBuffer, participants: number): RingOutcome {
  const w = new Int32Array(area);
  const n = h[N];
  const stats = pRow(n, participants);
  const d = h[DIV];
  return {
    decisions: n, followed: d ? d - 1 : h[POS], same_key: w[stats + 2], slips: w[stats + 1],
    head_end_step: h[PHASE] === 0 ? -1 : w[stats + 3],
    diverged: divergenceOf(d, h[DIV_STEP], h[WHY]),
  };
}
