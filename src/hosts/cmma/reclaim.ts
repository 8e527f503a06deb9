/**
 * CMMA host reclaim (reporting_cmma.md B.3 step 4): when more frames are resident than the
 * budget allows, a clock hand gives referenced frames a second chance; a resident frame whose
 * PGSTE usage is unused is dropped without I/O (ptep_xchg_commit returns _PAGE_UNUSED,
 * try_to_unmap_one discards: the next touch faults in a zero page); every other frame is
 * swapped out. Nothing is freed without host memory pressure.
 */
import { C } from '../../core/counters.js';
import { CNT, V } from '../../core/ctx.js';
import { ESSA_CSTATE_MASK, ESSA_CSTATE_PRESERVED, ESSA_CSTATE_RESIDENT, ESSA_CSTATE_ZERO, ESSA_USTATE_MASK, ESSA_USTATE_UNUSED, frameLock, frameUnlock, residentAdd } from '../../core/hw.js';
import { countWaste } from '../../core/waste.js';
import { CTL_HOST_BUDGET, HOST_HAND, HOST_RESIDENT, HS_CHANGE, HS_REF, PAGE_INTS, PAGE_SIZE } from '../../core/layout.js';
import { SP_HOST, sp } from '../../core/sched.js';
import type { HostDaemon } from '../host.js';
import { cmmaNow } from './cmma.js';
import { CCNT, CMC, CV } from './cmma_views.js';

/** Reclaim one frame: 1 dropped or swapped, 0 not resident, -1 second chance. */
function reclaimFrame(pfn: number, honourRef: boolean): number {
  const w = frameLock(pfn);
  if ((w & ESSA_CSTATE_MASK) !== ESSA_CSTATE_RESIDENT) { frameUnlock(pfn, w); return 0; }
  if (honourRef && (w & HS_REF) !== 0) { CNT[C.host_ref_clears]++; frameUnlock(pfn, w & ~HS_REF); return -1; }
  if ((w & ESSA_USTATE_MASK) === ESSA_USTATE_UNUSED) {
    CNT[C.host_frees]++;
    CNT[C.host_pageouts_avoided]++;
    CCNT[CMC.reclaim_drops]++;
    CCNT[CMC.latency_sum] += cmmaNow() - CV.freedAt[pfn];
    CCNT[CMC.latency_pages]++;
    residentAdd(-1);
    frameUnlock(pfn, (w & ~(ESSA_CSTATE_MASK | HS_CHANGE | HS_REF)) | ESSA_CSTATE_ZERO);
    return 1;
  }
  const base = pfn * PAGE_INTS;
  V.swap.set(V.frame.subarray(base, base + PAGE_INTS), base);
  CNT[C.host_pageouts]++;
  CNT[C.host_swap_bytes_written] += PAGE_SIZE;
  countWaste(pfn, w & HS_CHANGE);
  CCNT[CMC.reclaim_swapouts]++;
  residentAdd(-1);
  frameUnlock(pfn, (w & ~(ESSA_CSTATE_MASK | HS_REF)) | ESSA_CSTATE_PRESERVED); // the change bit travels with the content
  return 1;
}

/** One pass down to the low watermark (budget minus 1/64), at most two turns of the clock. */
function reclaimPass(stop: () => boolean, budget = V.hdr[CTL_HOST_BUDGET]): number {
  const low = budget - Math.max(1, budget >> 6);
  const n = V.nframes;
  let hand = V.hdr[HOST_HAND];
  let reclaimed = 0;
  CNT[C.host_reclaim_passes]++;
  for (let scanned = 0; scanned < 2 * n; scanned++) {
    if (Atomics.load(V.hdr, HOST_RESIDENT) <= low || stop()) break;
    sp(SP_HOST, hand);
    CNT[C.host_scans]++;
    if (reclaimFrame(hand, true) > 0) reclaimed++;
    hand = hand + 1 === n ? 0 : hand + 1;
  }
  V.hdr[HOST_HAND] = hand; // owner: the host only
  return reclaimed;
}

export const CMMA_DAEMON: HostDaemon = {
  pass: reclaimPass,
  frame: (pfn, honourRef) => reclaimFrame(pfn, honourRef),
  afterPass(): void { /* nothing after a pass */ },
};
