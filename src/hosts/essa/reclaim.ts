/**
 * The host's reclaim daemon: when more frames are resident than the budget allows, a
 * clock hand sweeps the frames, gives a second chance to referenced ones and reclaims the
 * rest by their state (host_states.ts). Page-outs copy the frame into the host swap store
 * (one slot per frame). Runs on the host participant; touches a frame only under its
 * frame lock, so a guest access completes whole or faults.
 */
import { C } from '../../core/counters.js';
import { HB_SECOND_CHANCE, covHost, covHostBranch } from '../../core/coverage.js';
import { T_RECLAIM_B, T_RECLAIM_E, tr } from '../../core/trace.js';
import { H_HOST, hist } from '../../core/history.js';
import { CNT, ME, V } from '../../core/ctx.js';
import { DBG_HOST_LOSE_PAGE, DBG_HOST_UP, plant } from '../../core/debug.js';
import * as HW from '../../core/hw.js';
import * as LAYOUT from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import { countWaste } from '../../core/waste.js';
import { SP_HOST, STEPS, sp } from '../../core/sched.js';
import { HX_DISCARD, HX_FREE, HX_NONE, HX_PAGE_OUT, hostReclaimNext } from './host_states.js';

// This module's own constants and functions (V8 folds them; an imported binding is a cell
// load and a hole check at every use, see guest/page_alloc.ts).
const { ESSA_CSTATE_MASK, ESSA_CSTATE_RESIDENT, ST_Sz, ST_Up, frameLock, frameUnlock, isValidState, residentAdd, stateName } = HW;
const {
  CTL_DEBUG, CTL_HOST_BUDGET, HOST_HAND, HOST_RESIDENT, HS_CHANGE, HS_REF, HS_STATE_MASK, PAGE_INTS, PAGE_SIZE,
} = LAYOUT;
const C_HOST_SCANS = C.host_scans;

/**
 * Reclaim one frame as the host would. Returns the action taken (HX_*), or -1 when the
 * frame was referenced and got a second chance.
 */
export function reclaimFrame(pfn: number, honourRef: boolean): number {
  const w = frameLock(pfn);
  const s = w & HS_STATE_MASK;
  if ((s & ESSA_CSTATE_MASK) !== ESSA_CSTATE_RESIDENT) { frameUnlock(pfn, w); return HX_NONE; }
  if (honourRef && (w & HS_REF) !== 0) {
    CNT[C.host_ref_clears]++;
    covHostBranch(HB_SECOND_CHANCE);
    frameUnlock(pfn, w & ~HS_REF);
    return -1;
  }
  covHost(s, (w & HS_CHANGE) !== 0 ? 1 : 0);
  const r = hostReclaimNext(s, (w & HS_CHANGE) !== 0);
  let next = r & 0xff;
  const action = r >> 8;
  const dbg = V.hdr[CTL_DEBUG];
  if (action === HX_PAGE_OUT) {
    if ((dbg & DBG_HOST_LOSE_PAGE) !== 0) {
      next = ST_Sz; // planted bug: content dropped instead of preserved
      plant(V, pfn);
    } else {
      const base = pfn * PAGE_INTS;
      V.swap.set(V.frame.subarray(base, base + PAGE_INTS), base);
      CNT[C.host_pageouts]++;
      countWaste(pfn, w & HS_CHANGE);
      CNT[C.host_swap_bytes_written] += PAGE_SIZE;
    }
  } else if (action === HX_FREE) {
    if ((dbg & DBG_HOST_UP) !== 0) { next = ST_Up; plant(V, pfn); } // planted bug: an unused page "preserved"
    CNT[C.host_frees]++;
    CNT[C.host_pageouts_avoided]++;
  } else if (action === HX_DISCARD) {
    CNT[C.host_discards]++;
    CNT[C.host_pageouts_avoided]++;
  }
  residentAdd(-1);
  hist(pfn, H_HOST, (s << 8) | next);
  // The change bit is part of the storage key: a page-out preserves it with the content
  // (a later ORC 4 on Sp must still see a dirty page); dropped content is clean.
  const keep = action === HX_PAGE_OUT ? (w & HS_CHANGE) : 0;
  frameUnlock(pfn, (w & ~(HS_STATE_MASK | HS_CHANGE | HS_REF)) | next | keep);
  if (!isValidState(next)) {
    report(V, O.invalid_state, pfn, ME, STEPS, `host reclaim made ${stateName(s)} into ${stateName(next)}`);
  }
  return action;
}

/**
 * One reclaim pass: sweep until resident frames are at the low watermark (budget minus
 * 1/64) or two full turns of the clock found nothing. Returns frames reclaimed. `budget`
 * is lower than CTL_HOST_BUDGET during an injected pressure spike (inject.ts).
 */
export function reclaimPass(stop: () => boolean, budget = V.hdr[CTL_HOST_BUDGET]): number {
  const low = budget - Math.max(1, budget >> 6);
  const n = V.nframes;
  let hand = V.hdr[HOST_HAND];
  let reclaimed = 0;
  CNT[C.host_reclaim_passes]++;
  tr(T_RECLAIM_B, Atomics.load(V.hdr, HOST_RESIDENT));
  for (let scanned = 0; scanned < 2 * n; scanned++) {
    if (Atomics.load(V.hdr, HOST_RESIDENT) <= low || stop()) break;
    sp(SP_HOST, hand);
    CNT[C_HOST_SCANS]++;
    const a = reclaimFrame(hand, true);
    if (a > HX_NONE) reclaimed++;
    hand = hand + 1 === n ? 0 : hand + 1;
  }
  V.hdr[HOST_HAND] = hand; // owner: host only
  tr(T_RECLAIM_E, reclaimed);
  return reclaimed;
}
