/**
 * The xenpaging host on the main thread: boot of the xenpaging area (a domain with all
 * of its memory populated, frame g backing gfn g; the I/O gfns granted to dom0; the
 * pager's empty page file), the run summary, and the end-of-run audit of the p2m, the
 * machine frames and the ring (xenpaging_kvm.md 4.3: O-liveness, O-ring, O-type-frame,
 * O-refcount, O-orphan, O-stats).
 */
import { writeIoStamp } from './dom0.js';
import { pagerInit, pagerPass } from './xenpaging.js';
import {
  MAX_CPUS, MF_COUNT, MF_FLAGS, MF_M2P, MF_NEXT, MFN_WORDS, MRU_SIZE, NIL, PGC_ALLOCATED, XH_FREE_COUNT, XH_FREE_HEAD,
  XH_IO_BASE, XH_IO_N, XH_NMFN, XH_PAGED_PAGES, XH_TARGET, XH_TOT_PAGES, XH_WAIT_DRAINS, XP_CURSOR, XP_NUM_PAGED_OUT,
  XP_SLOT_TOP, XR_REQ_PROD, XR_RSP_CONS, XR_RSP_PROD, XR_SIZE, XV_BASE, XV_GFN, XV_WORDS, type Views,
} from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import { MFN_NONE, P2M_INVALID, P2M_NAMES, P2M_PAGED, P2M_PAGING_IN, P2M_PAGING_OUT, P2M_RAM_RW, entryMfn, entryType, entryWord, p2mMix } from './p2m.js';
import { XenViews, sumXenCounters } from './xen_views.js';

/** How many I/O gfns dom0's backends use: gfns 0.. of the guest, granted at boot, never in the guest's allocator. */
export function xenIoFrames(nframes: number): number {
  return Math.max(2, Math.min(8, nframes >> 5));
}

/** Drains a waiting vCPU sits through before it reports its request lost (xen_ring.ts). */
export const WAIT_DRAINS = 4;

export function xenBoot(v: Views, targetFrames: number, ringSlots: number): void {
  const xv = new XenViews(v);
  const x = xv.x;
  const g = xv.g;
  const n = v.nframes;
  x.fill(0);
  x[XH_TOT_PAGES] = n;
  x[XH_PAGED_PAGES] = 0;
  x[XH_TARGET] = targetFrames;
  x[XH_NMFN] = g.nmfn;
  x[XH_WAIT_DRAINS] = WAIT_DRAINS;
  for (let gfn = 0; gfn < n; gfn++) {
    x[g.p2m + gfn] = entryWord(P2M_RAM_RW, gfn);
    const b = g.mfn + gfn * MFN_WORDS;
    x[b + MF_COUNT] = 1; x[b + MF_FLAGS] = PGC_ALLOCATED; x[b + MF_M2P] = gfn; x[b + MF_NEXT] = NIL;
  }
  let head = NIL;
  for (let m = g.nmfn - 1; m >= n; m--) {
    const b = g.mfn + m * MFN_WORDS;
    x[b + MF_COUNT] = 0; x[b + MF_FLAGS] = 0; x[b + MF_M2P] = -1; x[b + MF_NEXT] = head;
    head = m;
  }
  x[XH_FREE_HEAD] = head;
  x[XH_FREE_COUNT] = g.nmfn - n;
  const io = xenIoFrames(n);
  x[XH_IO_BASE] = 0;
  x[XH_IO_N] = io;
  for (let i = 0; i < io; i++) writeIoStamp(v.frame, i, i, 1);
  x[XR_SIZE] = ringSlots;
  for (let c = 0; c < MAX_CPUS; c++) x[XV_BASE + c * XV_WORDS + XV_GFN] = -1;
  // The pager: every slot free (slot 0 on top), nothing evicted, cursor at max_pages / 2, gfn 0 never paged.
  for (let s = 0; s < n; s++) { x[g.slotStack + s] = n - 1 - s; x[g.gfnToSlot + s] = -1; x[g.slotToGfn + s] = -1; }
  x[XP_SLOT_TOP] = n;
  x[XP_CURSOR] = n >> 1;
  x[g.policy] = 1;
  x[XP_NUM_PAGED_OUT] = 0;
  for (let i = 0; i < MRU_SIZE; i++) x[g.mru + i] = -1;
}

/**
 * The pager has been running for a while when the run starts: evict with its own policy
 * until tot_pages is at the target (as the ESSA host starts with nothing resident). Runs
 * on the main thread before any worker, as the boot CPU in the pager's slot (ctxInit).
 */
export function xenWarmUp(v: Views): void {
  const x = new XenViews(v).x; // main thread, before any worker: plain program order
  pagerInit();
  for (let pass = 0; Atomics.load(x, XH_TOT_PAGES) > x[XH_TARGET] && pass < 4 * v.nframes; pass++) {
    if (pagerPass() === 0) break;
  }
  new XenViews(v).cnt.fill(0); // the warm-up is not the run's work
}

export interface XenSummary {
  p2m: Record<string, number>;
  tot_pages: number;
  target: number;
  paged_pages: number;
  pager_paged_out: number;
  ring_slots: number;
  ring_unanswered: number;
  counters: Record<string, number>;
}

/** Main thread after the stop handshake (every participant finished: its stores are visible). */
export function xenSummary(v: Views, participants: number): XenSummary {
  const x = new XenViews(v).x;
  return {
    p2m: p2mMix(v), tot_pages: Atomics.load(x, XH_TOT_PAGES), target: x[XH_TARGET], paged_pages: Atomics.load(x, XH_PAGED_PAGES),
    pager_paged_out: x[XP_NUM_PAGED_OUT], ring_slots: x[XR_SIZE],
    ring_unanswered: Atomics.load(x, XR_REQ_PROD) - Atomics.load(x, XR_RSP_PROD),
    counters: sumXenCounters(v, participants),
  };
}

/** End of a clean run, after the pager paged everything back and dom0 unmapped: the xen oracles. */
export function xenEndOfRunChecks(v: Views, who: number): void {
  const xv = new XenViews(v);
  const x = xv.x;
  const g = xv.g;
  const n = v.nframes;
  const bad = (oracle: number, gfn: number, msg: string): void => { report(v, oracle, gfn, who, 0, msg); };
  const entry = (gfn: number): number => Atomics.load(x, g.p2m + gfn);
  const desc = (gfn: number): string => {
    const e = entry(gfn);
    const m = entryMfn(e);
    return `gfn ${gfn}: p2m ${P2M_NAMES[entryType(e)] ?? entryType(e)}, ${m === MFN_NONE ? 'no frame' : `frame ${m} (count ${x[g.mfn + m * MFN_WORDS + MF_COUNT]}, m2p ${x[g.mfn + m * MFN_WORDS + MF_M2P]})`}`;
  };
  // O-liveness: nothing left half-way through a page-out or a page-in.
  for (let gfn = 0; gfn < n; gfn++) {
    const t = entryType(entry(gfn));
    if (t === P2M_PAGING_OUT || t === P2M_PAGING_IN) {
      return bad(O.liveness, gfn, `end of run: ${desc(gfn)}: left in a transient paging type after the pager paged everything back ` +
        `(its populate request was never answered; ${Atomics.load(x, XR_REQ_PROD) - Atomics.load(x, XR_RSP_PROD)} requests unanswered)`);
    }
  }
  // O-ring: at quiescence every request was answered and every response consumed.
  const prod = Atomics.load(x, XR_REQ_PROD);
  const rprod = Atomics.load(x, XR_RSP_PROD);
  if (prod !== rprod || Atomics.load(x, XR_RSP_CONS) !== rprod) {
    return bad(O.protocol, -1, `end of run: mem_event ring not quiescent: ${prod} requests, ${rprod} responses, ` +
      `${Atomics.load(x, XR_RSP_CONS)} consumed: ${prod - rprod} requests were never answered and hold their slots for good`);
  }
  // O-type-frame, O-refcount: every gfn is RAM with exactly its allocation reference, or gone.
  const used = new Uint8Array(g.nmfn);
  let frameless = 0;
  let allocated = 0;
  for (let gfn = 0; gfn < n; gfn++) {
    const e = entry(gfn);
    const t = entryType(e);
    const m = entryMfn(e);
    if (t === P2M_PAGED) { frameless++; if (m !== MFN_NONE) return bad(O.invalid_state, gfn, `end of run: ${desc(gfn)}: paged with a frame`); continue; }
    if (t === P2M_INVALID) { if (m !== MFN_NONE) return bad(O.invalid_state, gfn, `end of run: ${desc(gfn)}: invalid with a frame`); continue; }
    if (m === MFN_NONE || m >= g.nmfn) return bad(O.invalid_state, gfn, `end of run: ${desc(gfn)}: RAM with no frame`);
    const b = g.mfn + m * MFN_WORDS;
    if (used[m]) return bad(O.invalid_state, gfn, `end of run: frame ${m} backs two gfns (${desc(gfn)})`);
    used[m] = 1;
    if (x[b + MF_M2P] !== gfn) return bad(O.invalid_state, gfn, `end of run: ${desc(gfn)}: the m2p names gfn ${x[b + MF_M2P]}`);
    if ((x[b + MF_FLAGS] & PGC_ALLOCATED) === 0 || x[b + MF_COUNT] !== 1) {
      return bad(O.refcount, gfn, `end of run: ${desc(gfn)}: ${x[b + MF_COUNT]} references, expected exactly the allocation reference (a mapping or temporary reference left behind)`);
    }
  }
  // O-orphan: every other frame is free and on the free list.
  let free = 0;
  for (let m = x[XH_FREE_HEAD]; m !== NIL; m = x[g.mfn + m * MFN_WORDS + MF_NEXT]) {
    if (++free > g.nmfn || used[m]) return bad(O.leak, -1, `end of run: the machine-frame free list is corrupt at frame ${m}`);
    used[m] = 2;
  }
  for (let m = 0; m < g.nmfn; m++) {
    const b = g.mfn + m * MFN_WORDS;
    if (used[m] === 1) { allocated++; continue; }
    if (used[m] === 0) {
      return bad(O.leak, x[b + MF_M2P], `end of run: frame ${m} is neither free nor backing any gfn (count ${x[b + MF_COUNT]}, ` +
        `${(x[b + MF_FLAGS] & PGC_ALLOCATED) ? 'allocated' : 'not allocated'}, m2p ${x[b + MF_M2P]}): leaked`);
    }
    if (x[b + MF_COUNT] !== 0 || x[b + MF_FLAGS] !== 0) return bad(O.refcount, -1, `end of run: free frame ${m} has count ${x[b + MF_COUNT]}`);
  }
  if (free !== x[XH_FREE_COUNT]) return bad(O.leak, -1, `end of run: ${x[XH_FREE_COUNT]} free frames counted, ${free} on the free list`);
  // O-stats: the statistics agree with the p2m.
  if (allocated !== Atomics.load(x, XH_TOT_PAGES)) return bad(O.invalid_state, -1, `end of run: tot_pages ${Atomics.load(x, XH_TOT_PAGES)} but ${allocated} frames back gfns`);
  if (frameless !== Atomics.load(x, XH_PAGED_PAGES)) return bad(O.invalid_state, -1, `end of run: paged_pages ${Atomics.load(x, XH_PAGED_PAGES)} but ${frameless} gfns are paged without a frame`);
  let inFile = 0;
  for (let gfn = 0; gfn < n; gfn++) if (x[g.gfnToSlot + gfn] >= 0) { inFile++; if (entryType(entry(gfn)) !== P2M_PAGED) return bad(O.invalid_state, gfn, `end of run: the pager holds gfn ${gfn} in its page file but ${desc(gfn)}`); }
  if (inFile !== x[XP_NUM_PAGED_OUT]) return bad(O.invalid_state, -1, `end of run: the pager counts ${x[XP_NUM_PAGED_OUT]} gfns paged out, its page file holds ${inFile}`);
}
