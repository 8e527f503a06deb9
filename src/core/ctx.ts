/**
 * The running participant's context: which participant this thread is, its views and
 * its counters. Set once per worker (or per scratch machine on the main thread) by
 * ctxInit; hot paths read these module bindings directly.
 */
import { COV_SLOTS, CTL_HOST, HOST_SHADOW, HOST_XENPAGING, paCounter, PA_NCOUNTERS, type Views } from './layout.js';
import { shadowViewsInit } from '../hosts/shadow/shadow_views.js';
import { xenViewsInit } from '../hosts/xenpaging/xen_views.js';

export let V: Views;
/** Participant id: guest CPUs 0..ncpus-1, the host is ncpus. */
export let ME = 0;
/** This participant's counters (Float64, owner-written). */
export let CNT: Float64Array;
/** This participant's coverage counts (Float64, owner-written; slots in coverage.ts). */
export let COV: Float64Array;
/** The xenpaging host runs this machine (CTL_HOST): hw.ts takes the p2m access path. */
export let XEN = false;
/** The shadow MMU host runs this machine (CTL_HOST): pte stores and user translations go through shadow.ts. */
export let SHADOW = false;

export function ctxInit(views: Views, me: number): void {
  V = views;
  ME = me;
  const base = paCounter(me, 0);
  CNT = views.paF64.subarray(base, base + PA_NCOUNTERS);
  COV = views.cov.subarray(me * COV_SLOTS, (me + 1) * COV_SLOTS);
  XEN = views.hdr[CTL_HOST] === HOST_XENPAGING;
  xenViewsInit(views, me);
  SHADOW = views.hdr[CTL_HOST] === HOST_SHADOW;
  shadowViewsInit(views, me);
}
