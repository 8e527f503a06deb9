/**
 * Deterministic sim mode. The same worker code runs, but only the participant named by
 * SIM_BATON executes; every other one waits on that word. At each scheduling point
 * (sched.ts) the baton holder advances the global step and the trace hash and asks the
 * strategy whether to hand the baton on:
 *   random  switch with a fixed probability to a uniformly chosen runnable participant
 *   pct     priority-change points (Burckhardt et al. 2010): the runnable participant with
 *           the highest priority runs; at d-1 random steps the running one drops to a low
 *           priority. A participant spinning on a busy word counts as blocked: it is passed
 *           over while anyone else can run
 *   replay  follow a recorded list of (step, participant) decisions
 * A participant spinning on a busy word always hands the baton on. Every decision is
 * logged (step, participant) so that the run can be replayed and shrunk. All state lives
 * in shared words written only by the baton holder, so the run is a pure function of the
 * seed and the options: no clock, no Math.random, no message timing.
 */
import { ME, V } from '../core/ctx.js';
import {
  CTL_STATE, PA_STATE, SIM_BATON, SIM_CHANGE, SIM_CHANGE_K, SIM_EXCL, SIM_HASH, SIM_NCHANGE, SIM_NPART, SIM_PRIO,
  SIM_DIRTY, SIM_NEXT, SIM_SPINNERS, SIM_REPLAY_N, SIM_REPLAY_POS, SIM_RNG, SIM_SPINS, SIM_STEP, SIM_STRATEGY, SIM_SWITCHES, SIM_SWITCH_PCT, paWord,
} from '../core/layout.js';
import { O, report } from '../core/oracles.js';
import { mix32 } from '../core/prng.js';
import { SP_SPIN, setSimHook } from '../core/sched.js';

export const STRAT_RANDOM = 0;
export const STRAT_PCT = 1;
export const STRAT_REPLAY = 2;
const SPIN_LIMIT = 200_000; // consecutive forced switches with no progress: a deterministic livelock

/** xorshift128 on the shared state words (baton holder only). */
export function simRand(h: Int32Array): number {
  let t = h[SIM_RNG];
  const s = h[SIM_RNG + 3];
  h[SIM_RNG] = h[SIM_RNG + 1];
  h[SIM_RNG + 1] = h[SIM_RNG + 2];
  h[SIM_RNG + 2] = s;
  t ^= t << 11;
  t ^= t >>> 8;
  h[SIM_RNG + 3] = t ^ s ^ (s >>> 19);
  return h[SIM_RNG + 3] >>> 0;
}

function runnable(p: number): boolean {
  return Atomics.load(V.pa, paWord(p, PA_STATE)) === 1;
}

/** Pick the participant to run next; `exclude` is skipped (a spinner), -1 if none. */
function choose(step: number, kind: number): number {
  const h = V.hdr;
  const n = h[SIM_NPART];
  const exclude = kind === SP_SPIN ? ME : -1;
  const strat = h[SIM_STRATEGY];
  if (strat === STRAT_REPLAY) {
    let pos = h[SIM_REPLAY_POS];
    while (pos < h[SIM_REPLAY_N] && V.slogIn[2 * pos] < step) pos++; // a shrunk schedule may skip some
    h[SIM_REPLAY_POS] = pos;
    let to = -1;
    if (pos < h[SIM_REPLAY_N] && V.slogIn[2 * pos] === step) {
      h[SIM_REPLAY_POS] = ++pos;
      to = V.slogIn[2 * pos - 1];
    }
    h[SIM_NEXT] = pos < h[SIM_REPLAY_N] ? V.slogIn[2 * pos] : 0x7fffffff;
    if (to >= 0 && to !== exclude && runnable(to)) return to;
    if (exclude < 0) return ME;
    for (let k = 1; k < n; k++) { const p = (ME + k) % n; if (runnable(p)) return p; } // deterministic fallback
    return -1;
  }
  if (strat === STRAT_PCT) {
    let ck = h[SIM_CHANGE_K];
    if (ck < h[SIM_NCHANGE] && step >= h[SIM_CHANGE + ck]) {
      h[SIM_PRIO + ME] = ck; // drop below every initial priority (those are >= 16)
      h[SIM_CHANGE_K] = ++ck;
    }
    h[SIM_NEXT] = ck < h[SIM_NCHANGE] ? h[SIM_CHANGE + ck] : 0x7fffffff;
    // A spinner waits for someone: like a blocked thread in PCT it is not a candidate while
    // anyone else can run, or two spinners above the lock holder hand the baton back and forth.
    const spinners = h[SIM_SPINNERS];
    let best = -1;
    for (let p = 0; p < n; p++) {
      if (p === exclude || !runnable(p) || (spinners & (1 << p)) !== 0) continue;
      if (best < 0 || h[SIM_PRIO + p] > h[SIM_PRIO + best]) best = p;
    }
    if (best >= 0) return best;
    // Every runnable participant is a spinner. Their marks are stale: a spinner's word may
    // have been released since it last looked, and only running it again tells. Try them
    // in turn (round robin after this one), never by priority: by priority the two highest
    // spinners hand the baton back and forth while the one whose word is free (or who
    // holds what they wait for) never runs again (soak case soak-sim-liveness: four CPUs,
    // CPUs 0 and 1 spinning on a truncation that CPU 3, at priority 0, was in the middle of).
    for (let k = 1; k <= n; k++) {
      const p = (ME + k) % n;
      if (p !== exclude && runnable(p)) return p;
    }
    return -1;
  }
  // random: consulted every 1..(2*mean-1) points (mean 65536/SIM_SWITCH_PCT), then any
  // runnable participant, this one included, is equally likely to run next
  const mean = (65536 / h[SIM_SWITCH_PCT]) | 0;
  h[SIM_NEXT] = step + 1 + (simRand(h) % (2 * mean - 1));
  let count = 0;
  for (let p = 0; p < n; p++) if (p !== exclude && runnable(p)) count++;
  if (count === 0) return -1;
  let k = simRand(h) % count;
  for (let p = 0; p < n; p++) {
    if (p === exclude || !runnable(p)) continue;
    if (k-- === 0) return p;
  }
  return -1;
}

/** Hand the baton to `to` (logged) and wait until it comes back. */
function switchTo(to: number, step: number): void {
  const h = V.hdr;
  const k = h[SIM_SWITCHES];
  if (2 * k + 1 < V.slog.length) { V.slog[2 * k] = step; V.slog[2 * k + 1] = to; }
  h[SIM_SWITCHES] = k + 1;
  // The store publishes every plain write of this participant to the next one (seq-cst).
  Atomics.store(h, SIM_BATON, to);
  Atomics.notify(h, SIM_BATON);
  waitBaton();
}

/** Block until the baton names this participant (or the run is torn down). */
export function waitBaton(): void {
  const h = V.hdr;
  for (;;) {
    const b = Atomics.load(h, SIM_BATON);
    if (b === ME || Atomics.load(h, CTL_STATE) >= 3) return;
    Atomics.wait(h, SIM_BATON, b, 200); // woken by the holder's notify; the timeout only re-checks teardown
  }
}

function hook(kind: number, arg: number): number {
  const h = V.hdr;
  const step = h[SIM_STEP] + 1;
  h[SIM_STEP] = step;
  h[SIM_HASH] = mix32(h[SIM_HASH], Math.imul(step, 31) ^ (ME << 24) ^ (kind << 27) ^ Math.imul(arg, 0x9e3779b1));
  if (h[SIM_EXCL] !== 0) return step;
  // Fast path: no decision due, nothing changed, not spinning: a counter compare.
  if (kind !== SP_SPIN && step < h[SIM_NEXT] && h[SIM_DIRTY] === 0) { h[SIM_SPINS] = 0; h[SIM_SPINNERS] &= ~(1 << ME); return step; }
  h[SIM_DIRTY] = 0;
  const to = choose(step, kind);
  if (kind === SP_SPIN) h[SIM_SPINNERS] |= 1 << ME; else h[SIM_SPINNERS] &= ~(1 << ME);
  if (kind === SP_SPIN) {
    const spins = h[SIM_SPINS] + 1;
    h[SIM_SPINS] = spins;
    if (spins === SPIN_LIMIT) report(V, O.liveness, -1, ME, step, `sim: ${SPIN_LIMIT} scheduling points in a row were spent spinning on busy words (deadlock or livelock)`);
  } else {
    h[SIM_SPINS] = 0;
  }
  if (to >= 0 && to !== ME) switchTo(to, step);
  return h[SIM_STEP];
}

/** Install the sim scheduler in this participant (worker start-up, sim mode only). */
export function simInstall(): void {
  setSimHook(hook);
}

/**
 * This participant stops taking part (its run loop ended): mark it finished and pass the
 * baton to whoever the strategy picks among the rest (-1 if nobody is left).
 */
export function simExit(): void {
  const h = V.hdr;
  Atomics.store(V.pa, paWord(ME, PA_STATE), 2);
  h[SIM_DIRTY] = 1;
  if (Atomics.load(h, SIM_BATON) !== ME) return;
  // A step of its own: when this participant's last scheduling point kept the baton, a
  // decision logged at that step would be taken by that point's hook in a replay.
  const step = h[SIM_STEP] + 1;
  h[SIM_STEP] = step;
  let to = choose(step, SP_SPIN);
  // Nobody runnable: wake a waiting participant (the idle host) so it can see the end.
  for (let p = 0; to < 0 && p < h[SIM_NPART]; p++) if (Atomics.load(V.pa, paWord(p, PA_STATE)) === 3) to = p;
  const k = h[SIM_SWITCHES];
  if (2 * k + 1 < V.slog.length) { V.slog[2 * k] = step; V.slog[2 * k + 1] = to; }
  h[SIM_SWITCHES] = k + 1;
  Atomics.store(h, SIM_BATON, to);
  Atomics.notify(h, SIM_BATON);
}
