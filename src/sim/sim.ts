/**
 * Deterministic sim mode: the baton. The same worker code runs, but only the participant
 * named by SIM_BATON executes; every other one waits on that word. At each scheduling
 * point (core/sched.ts) the baton holder advances the global step and the trace hash and,
 * when a decision is due (SIM_NEXT reached, the runnable set changed, or it spins), asks
 * the active strategy (strategy.ts; strategies/ random, pct, replay; its id in
 * SIM_STRATEGY, set by setup.ts) whom to hand the baton to. A participant spinning on a
 * busy word always hands the baton on. Every decision is logged (schedule.ts) so that the
 * run can be replayed and shrunk. All state lives in shared words written only by the
 * baton holder, so the run is a pure function of the seed and the options: no clock, no
 * Math.random, no message timing.
 */
import { ME, V } from '../core/ctx.js';
import {
  CTL_STATE, PA_STATE, PA_WAKE, SIM_BATON, SIM_EXCL, SIM_HASH, SIM_NPART, SIM_DIRTY, SIM_NEXT, SIM_SPINNERS, SIM_SPINS, SIM_STEP, SIM_STRATEGY, SIM_SWITCHES, paWord,
} from '../core/layout.js';
import { O, report } from '../core/oracles.js';
import { mix32 } from '../core/prng.js';
import { SP_SPIN, setSimHook } from '../core/sched.js';
import { logPut } from './schedule.js';
import { storyExit, storyPoint, storyRecording, storySwitch } from './story_rec.js';
import { keyExitPoint, keyLog, keyPoint, keysOn } from './keys.js';
import { withExtraPoints } from './extra_points.js';
import { STRATEGIES } from './strategies/index.js';
import type { Strategy } from './strategy.js';

const SPIN_LIMIT = 200_000; // consecutive forced switches with no progress: a deterministic livelock
const CHOOSERS: readonly Strategy['choose'][] = STRATEGIES.map((s) => s.choose);

/** Ask the active strategy who runs next (-1 nobody). */
function choose(step: number, kind: number, obj: number): number {
  return CHOOSERS[V.hdr[SIM_STRATEGY]](step, kind, obj, ME, V);
}

/** Hand the baton to `to` (logged) and wait until it comes back. */
function switchTo(to: number, step: number): void {
  const h = V.hdr;
  const k = h[SIM_SWITCHES];
  logPut(V.slog, k, step, to);
  if (keysOn) keyLog(k); // where it was taken, keyed (keys.ts)
  h[SIM_SWITCHES] = k + 1;
  // The store publishes every plain write of this participant to the next one (seq-cst).
  Atomics.store(h, SIM_BATON, to);
  wake(to);
  waitBaton();
}

/**
 * Wake participant `to` only: each participant sleeps on its own word (PA_WAKE), so a
 * switch wakes the one thread that runs next, not every waiter (one futex wake-up per
 * switch, as a raw two-thread handoff).
 */
function wake(to: number): void {
  const w = paWord(to, PA_WAKE);
  Atomics.store(V.pa, w, 1); // after the baton store (seq-cst): a waiter that missed the baton sees 1
  Atomics.notify(V.pa, w, 1);
}

/** Block until the baton names this participant (or the run is torn down). */
export function waitBaton(): void {
  const h = V.hdr;
  const w = paWord(ME, PA_WAKE);
  for (;;) {
    // Clear the wake word, then look at the baton, then sleep while the word is still 0:
    // a giver stores the baton before the wake word, so either the baton load sees us or
    // the wait sees 1 (or the notify wakes it). Seq-cst atomics order the four accesses.
    Atomics.store(V.pa, w, 0);
    if (Atomics.load(h, SIM_BATON) === ME || Atomics.load(h, CTL_STATE) >= 3) return;
    Atomics.wait(V.pa, w, 0, 200); // the timeout only re-checks teardown
  }
}

function hook(kind: number, arg: number, obj: number): number {
  const h = V.hdr;
  const step = h[SIM_STEP] + 1;
  h[SIM_STEP] = step;
  h[SIM_HASH] = mix32(h[SIM_HASH], Math.imul(step, 31) ^ (ME << 24) ^ (kind << 27) ^ Math.imul(arg, 0x9e3779b1));
  if (storyRecording) storyPoint(step, kind, arg); // --story: reads only, decides nothing
  if (keysOn) keyPoint(kind, arg); // this participant's count of such points (keyed schedules)
  if (h[SIM_EXCL] !== 0) return step;
  // Fast path: no decision due, nothing changed, not spinning: a counter compare.
  if (kind !== SP_SPIN && step < h[SIM_NEXT] && h[SIM_DIRTY] === 0) { h[SIM_SPINS] = 0; h[SIM_SPINNERS] &= ~(1 << ME); return step; }
  h[SIM_DIRTY] = 0;
  const to = choose(step, kind, obj); // strategies see the object (sched.ts SimHook)
  if (kind === SP_SPIN) h[SIM_SPINNERS] |= 1 << ME; else h[SIM_SPINNERS] &= ~(1 << ME);
  if (kind === SP_SPIN) {
    const spins = h[SIM_SPINS] + 1;
    h[SIM_SPINS] = spins;
    if (spins === SPIN_LIMIT) report(V, O.liveness, -1, ME, step, `sim: ${SPIN_LIMIT} scheduling points in a row were spent spinning on busy words (deadlock or livelock)`);
  } else {
    h[SIM_SPINS] = 0;
  }
  if (to >= 0 && to !== ME) {
    if (storyRecording) storySwitch(step, to, kind === SP_SPIN);
    switchTo(to, step);
  }
  return h[SIM_STEP];
}

/** Install the sim scheduler in this participant (worker start-up, sim mode only). */
export function simInstall(): void {
  setSimHook(withExtraPoints(hook)); // HINTSIM_EXTRA_POINTS (debug): extra points, as a model change would add
}

/**
 * This participant stops taking part (its run loop ended): mark it finished and pass the
 * baton to whoever the strategy picks among the rest (-1 if nobody is left).
 */
export function simExit(): void {
  const h = V.hdr;
  if (storyRecording) storyExit(h[SIM_STEP]);
  Atomics.store(V.pa, paWord(ME, PA_STATE), 2);
  h[SIM_DIRTY] = 1;
  if (Atomics.load(h, SIM_BATON) !== ME) return;
  // A step of its own: when this participant's last scheduling point kept the baton, a
  // decision logged at that step would be taken by that point's hook in a replay.
  const step = h[SIM_STEP] + 1;
  h[SIM_STEP] = step;
  if (keysOn) keyExitPoint();
  let to = choose(step, SP_SPIN, -1);
  // Nobody runnable: wake a waiting participant (the idle host) so it can see the end.
  for (let p = 0; to < 0 && p < h[SIM_NPART]; p++) if (Atomics.load(V.pa, paWord(p, PA_STATE)) === 3) to = p;
  const k = h[SIM_SWITCHES];
  logPut(V.slog, k, step, to);
  if (keysOn) keyLog(k);
  h[SIM_SWITCHES] = k + 1;
  Atomics.store(h, SIM_BATON, to);
  if (to >= 0) wake(to);
}
