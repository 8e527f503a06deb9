/**
 * The running participant's context: which participant this thread is, its views and
 * its counters. Set once per worker (or per scratch machine on the main thread) by
 * ctxInit, which hosts/index.ts attachHost calls before the host's own views and guest
 * hooks are set up; hot paths read these module bindings directly.
 */
import { COV_SLOTS, paCounter, PA_NCOUNTERS, type Views } from './layout.js';

export let V: Views;
/** Participant id: guest CPUs 0..ncpus-1, the host is ncpus. */
export let ME = 0;
/** This participant's counters (Float64, owner-written). */
export let CNT: Float64Array;
/** This participant's coverage counts (Float64, owner-written; slots in coverage.ts). */
export let COV: Float64Array;

export function ctxInit(views: Views, me: number): void {
  V = views;
  ME = me;
  const base = paCounter(me, 0);
  CNT = views.paF64.subarray(base, base + PA_NCOUNTERS);
  COV = views.cov.subarray(me * COV_SLOTS, (me + 1) * COV_SLOTS);
}
