/**
 * A debug switch, hidden from --help: HINTSIM_EXTRA_POINTS=N gives every participant one
 * extra scheduling point (kind SP_STEP, object EXTRA_POINT_ARG) before every N-th point of
 * its own, as a change of the model that adds scheduling points would. It shifts every
 * global step after the first one; keyed replay files (keys.ts) must still land their
 * decisions (tests: test/keyed_replay.test.ts). Read once per worker at start-up; the same
 * in every participant of a run (workers inherit the environment).
 */
import { SP_STEP, type SimHook } from '../core/sched.js';

/** The object of an extra point (no pfn, lock or host word has it). */
export const EXTRA_POINT_ARG = -0x5eed;

/** Points of its own between two extra points of a participant; 0: the switch is off. */
export function extraPointsEvery(): number {
  const t = process.env.HINTSIM_EXTRA_POINTS;
  const n = t === undefined ? 0 : Number(t);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** `hook`, or `hook` with an extra point before every n-th point when the switch is on. */
export function withExtraPoints(hook: SimHook): SimHook {
  const every = extraPointsEvery();
  if (every === 0) return hook;
  let n = 0;
  return (kind, arg, obj) => {
    if (++n % every === 0) hook(SP_STEP, EXTRA_POINT_ARG, EXTRA_POINT_ARG);
    return hook(kind, arg, obj);
  };
}
