/**
 * KVM's s390 CMMA today (reporting_cmma.md part B), the vCPU side: the modern guest's
 * arch_alloc_page / arch_free_page (one ESSA per 4 KiB page, orders unrolled, only stable
 * and unused), the ESSA instruction as KVM runs it (interpreted by the hardware while
 * ECB2_CMMA is on; intercepted on first use, when the block reuse list is full and in
 * migration mode), the block reuse list (CBRL: 511 gfns per vCPU, one exit when full), and
 * the access path (a dropped frame comes back as a zero page, a swapped one is paged in;
 * unused pages raise no exception: KVM does not fault on them).
 *
 * PGSTE: the ESSA state byte of the host state word is usage (S, U) and content (r
 * resident, p swapped, z logical zero), plus CM_HS_NODAT and CM_HS_DIRTY (cmma_views.ts).
 *
 * Lock order: slots_arch_lock (CM_SLOTS_LOCK) -> frame lock (leaf).
 */
import { C } from '../../core/counters.js';
import { CNT, ME, V } from '../../core/ctx.js';
import type { GuestHooks } from '../../core/hooks.js';
import {
  ACC_OK, ACC_PAGE_IN, ACC_ZERO_FILL, ESSA_CSTATE_MASK, ESSA_CSTATE_PRESERVED, ESSA_CSTATE_RESIDENT, ESSA_CSTATE_ZERO,
  ESSA_USTATE_MASK, ESSA_USTATE_STABLE, ESSA_USTATE_UNUSED, ORC_GET_STATE, ORC_SET_PVOLATILE, ORC_SET_STABLE, ORC_SET_STABLE_IF_RESIDENT,
  ORC_SET_STABLE_MAKE_RESIDENT, ORC_SET_UNUSED, ORC_SET_VOLATILE, frameLock, frameUnlock, residentAdd,
} from '../../core/hw.js';
import {
  CBRL_SLOTS, CMV_CBRL_N, CMV_INTERP, CMV_USES, CM_CBRL_MAX, CM_DIRTY_PAGES, CM_MIGRATION, CM_NODAT_FACILITY, CM_RESET_GEN, CM_SLOTS_LOCK,
  CM_VCPU, CM_VCPU_WORDS, HS_CHANGE, HS_LOCK, HS_REF, HS_STATE_MASK, PAGE_INTS, PAGE_WORDS, PG_FLAGS,
} from '../../core/layout.js';
import { PG_writeback } from '../../core/page_flags.js';
import { O, report } from '../../core/oracles.js';
import { isUnfixed, raceIndex } from '../../core/races.js';
import { SP_ACCESS, SP_ESSA, SP_HOST, STEPS, modelNow, sp } from '../../core/sched.js';
import { spinLock, spinUnlock } from '../../core/spinlock.js';
import { CCNT, CMC, CM_HS_DIRTY, CM_HS_NODAT, CV, cmmaSim } from './cmma_views.js';
import { cmmaTick, migrationInit } from './migration.js';

/** ESSA_SET_STABLE_NODAT (facility 147). */
export const ORC_SET_STABLE_NODAT = 7;
/** ESSA's result bit for a no-dat page (ESSA_GET_STATE, 0x20). */
export const ESSA_NODAT_BIT = 0x20;
/** What essa returns for an operation code the machine does not have: a specification exception. */
export const ESSA_SPECIFICATION_EXCEPTION = -2;

let vc = 0;                 // this vCPU's words in the CMMA area
let cbrlBase = 0;
let uZapNoRecheck = false;  // cmma-zap-without-recheck
let uUnusedLate = false;    // cmma-unused-after-freelist
let uEssaUnlocked = false;  // cmma-essa-vs-migration
let uNodatKept = false;     // cmma-nodat-not-reset
let rZap = 0, rLate = 0, rNodat = 0;

/** Per-participant state (participantInit): this vCPU's words and the fix toggles. */
export function cmmaCpuInit(): void {
  vc = CM_VCPU + ME * CM_VCPU_WORDS;
  cbrlBase = ME * CBRL_SLOTS;
  uZapNoRecheck = isUnfixed(V.hdr, 'cmma-zap-without-recheck');
  uUnusedLate = isUnfixed(V.hdr, 'cmma-unused-after-freelist');
  uEssaUnlocked = isUnfixed(V.hdr, 'cmma-essa-vs-migration');
  uNodatKept = isUnfixed(V.hdr, 'cmma-nodat-not-reset');
  rZap = raceIndex('cmma-zap-without-recheck') + 1;
  rLate = raceIndex('cmma-unused-after-freelist') + 1;
  rNodat = raceIndex('cmma-nodat-not-reset') + 1;
  migrationInit();
}

/** The fix of cmma-nodat-not-reset is off (migration.ts's reset reads it). */
export function nodatResetUnfixed(): boolean {
  return uNodatKept;
}
/** The fix of cmma-essa-vs-migration is off (migration.ts's start reads it). */
export function essaUnlockedUnfixed(): boolean {
  return uEssaUnlocked;
}

/** The model clock of latencies: the global step (sim) or wall-clock ms (threads; never a sim decision). */
export function cmmaNow(): number {
  return modelNow(cmmaSim); // sim: the step (below 2^30 in any run the model makes)
}

/** The last valid operation code: 6, or 7 with facility 147. */
function maxOrc(): number {
  return CV.a[CM_NODAT_FACILITY] !== 0 ? ORC_SET_STABLE_NODAT : ORC_SET_STABLE_IF_RESIDENT;
}

/** Make the frame's content resident (caller holds the frame lock): z -> zero page, p -> page-in. */
function makeResident(pfn: number, w: number): number {
  const c = w & ESSA_CSTATE_MASK;
  const base = pfn * PAGE_INTS;
  if (c === ESSA_CSTATE_ZERO) { V.frame.fill(0, base, base + PAGE_INTS); CNT[C.zero_fills]++; residentAdd(1); return ACC_ZERO_FILL; }
  if (c === ESSA_CSTATE_PRESERVED) {
    V.frame.set(V.swap.subarray(base, base + PAGE_INTS), base);
    CNT[C.host_pageins]++;
    if ((V.page[pfn * PAGE_WORDS + PG_FLAGS] & PG_writeback) !== 0) CNT[C.double_paging]++; // guest writeback reads what the host paged out
    residentAdd(1);
    return ACC_PAGE_IN;
  }
  return ACC_OK;
}

/**
 * pgste_perform_essa (frame lock held, taken here): the new PGSTE of `pfn` for `orc`;
 * `track`: migration mode, set cmma_d. Returns the ESSA result (old usage | content, 0x20
 * no-dat) | 0x100 when the gfn goes on the block reuse list (unused and not resident).
 */
function performEssa(pfn: number, orc: number, track: boolean): number {
  const w = frameLock(pfn);
  const s = w & HS_STATE_MASK;
  const c = s & ESSA_CSTATE_MASK;
  let res = s | ((w & CM_HS_NODAT) !== 0 ? ESSA_NODAT_BIT : 0);
  // nodatGen 0 with no-dat set: the reset visited this frame (under its lock) and kept a
  // no-dat the guest set before it. Judged per frame: while a reset walks the frames, one it
  // has not reached yet still holds its no-dat legitimately (a threads run with the fix on
  // reported exactly that when the check compared with the reset generation).
  if ((w & CM_HS_NODAT) !== 0 && CV.nodatGen[pfn] === 0) {
    frameUnlock(pfn, w);
    report(V, O.invalid_state, pfn, ME, STEPS, `ESSA ${orc} on gfn ${pfn} reports no-dat, but the guest has not set no-dat on it since the last CMMA reset (a reset must clear no-dat, C5)`, rNodat);
    return res;
  }
  let nw = w;
  if (orc === ORC_SET_STABLE || orc === ORC_SET_STABLE_NODAT || orc === ORC_SET_STABLE_IF_RESIDENT) {
    nw = (nw & ~ESSA_USTATE_MASK) | ESSA_USTATE_STABLE;
    if (orc === ORC_SET_STABLE_NODAT) { nw |= CM_HS_NODAT; CV.nodatGen[pfn] = Atomics.load(CV.a, CM_RESET_GEN) + 1; } else nw &= ~CM_HS_NODAT;
  } else if (orc === ORC_SET_STABLE_MAKE_RESIDENT) {
    if (makeResident(pfn, w) !== ACC_OK) nw = (nw & ~(ESSA_CSTATE_MASK | HS_CHANGE)) | ESSA_CSTATE_RESIDENT | HS_REF;
    nw = (nw & ~(ESSA_USTATE_MASK | CM_HS_NODAT)) | ESSA_USTATE_STABLE;
  } else if (orc === ORC_SET_UNUSED || orc === ORC_SET_VOLATILE || orc === ORC_SET_PVOLATILE) {
    // the modern guest sends only SET_UNUSED; volatile states are kept as the hardware would, reclaimed like stable ones
    nw = (nw & ~(ESSA_USTATE_MASK | CM_HS_NODAT)) | (orc === ORC_SET_UNUSED ? ESSA_USTATE_UNUSED : orc === ORC_SET_VOLATILE ? 0x0c : 0x08);
    if (orc === ORC_SET_UNUSED) { CV.freedAt[pfn] = cmmaNow(); if (c !== ESSA_CSTATE_RESIDENT) res |= 0x100; }
  }
  if (track && orc !== ORC_GET_STATE && (nw & CM_HS_DIRTY) === 0) { // C4: every state change in migration mode is dirty
    nw |= CM_HS_DIRTY;
    Atomics.add(CV.a, CM_DIRTY_PAGES, 1); // under the frame lock: GET's test-and-clear of the bit decrements under it too
    CCNT[CMC.dirty_set]++;
  }
  frameUnlock(pfn, nw & ~HS_LOCK);
  return res;
}

/** Set the gfn's cmma_d after the fact (frame lock), counting it if it was clean. */
function markDirty(pfn: number): void {
  const w = frameLock(pfn);
  if ((w & CM_HS_DIRTY) === 0) { Atomics.add(CV.a, CM_DIRTY_PAGES, 1); CCNT[CMC.dirty_set]++; }
  frameUnlock(pfn, w | CM_HS_DIRTY);
}

/** ptep_zap_unused for one CBRL entry (frame lock): free the swap slot of a page still unused. */
function zapEntry(pfn: number): void {
  const w = frameLock(pfn);
  const s = w & HS_STATE_MASK;
  const c = s & ESSA_CSTATE_MASK;
  if (uZapNoRecheck) {
    // unfixed: the entry is taken as a command; whatever the page is now, its content goes
    if (c === ESSA_CSTATE_ZERO) { frameUnlock(pfn, w); CCNT[CMC.cbrl_zap_skipped]++; return; }
    if (c === ESSA_CSTATE_RESIDENT) residentAdd(-1); else CNT[C.host_swap_frees]++;
    frameUnlock(pfn, (w & ~(ESSA_CSTATE_MASK | HS_CHANGE | HS_REF)) | ESSA_CSTATE_ZERO);
    CCNT[CMC.cbrl_zaps]++;
    void rZap;
    return;
  }
  if ((s & ESSA_USTATE_MASK) === ESSA_USTATE_UNUSED && c === ESSA_CSTATE_PRESERVED) { // C2: re-read under the PGSTE lock
    frameUnlock(pfn, (w & ~(ESSA_CSTATE_MASK | HS_CHANGE | HS_REF)) | ESSA_CSTATE_ZERO);
    CNT[C.host_swap_frees]++;
    CCNT[CMC.cbrl_zaps]++;
    CCNT[CMC.latency_sum] += cmmaNow() - CV.freedAt[pfn];
    CCNT[CMC.latency_pages]++;
    return;
  }
  frameUnlock(pfn, w);
  CCNT[CMC.cbrl_zap_skipped]++;
}

/** CBRL processing at the end of handle_essa: zap every entry, reset the count. */
function cbrlProcess(): void {
  const n = CV.a[vc + CMV_CBRL_N];
  for (let i = 0; i < n; i++) { sp(SP_HOST, CV.cbrl[cbrlBase + i]); zapEntry(CV.cbrl[cbrlBase + i]); }
  CV.a[vc + CMV_CBRL_N] = 0;
}

/** ESSA interpreted by the hardware (ECB2_CMMA on, a free CBRL slot). */
function hardwareEssa(pfn: number, orc: number): number {
  CCNT[CMC.essa_interpreted]++;
  const r = performEssa(pfn, orc, false);
  if ((r & 0x100) !== 0) {
    const n = CV.a[vc + CMV_CBRL_N];
    CV.cbrl[cbrlBase + n] = pfn;
    CV.a[vc + CMV_CBRL_N] = n + 1;
    CCNT[CMC.cbrl_entries]++;
  }
  return r & 0xff;
}

/**
 * handle_essa for an intercepted ESSA (no ECB2_CMMA, or the block reuse list is full):
 * outside migration, enable interpretation on this vCPU (ECB2_CMMA) and retry the
 * instruction; in migration mode, emulate it with dirty tracking; then process the CBRL.
 * With the fix the whole handler holds slots_arch_lock, as migration start, stop and GET do.
 */
function interceptEssa(pfn: number, orc: number, cbrlFull: boolean): number {
  const locked = !uEssaUnlocked;
  if (locked) spinLock(CV.a, CM_SLOTS_LOCK, ME);
  const migrating = Atomics.load(CV.a, CM_MIGRATION) !== 0;
  sp(SP_ESSA, pfn); // the handler runs on: a migration start may come here (the lock keeps it out)
  let r: number;
  if (cbrlFull) CCNT[CMC.intercepts_cbrl_full]++;
  if (!migrating) {
    cbrlProcess(); // (mmap_read_lock) the zaps take a while
    if (CV.a[vc + CMV_USES] === 0) { CV.a[vc + CMV_USES] = 1; CCNT[CMC.intercepts_first_use]++; }
    Atomics.store(CV.a, vc + CMV_INTERP, 1); // ECB2_CMMA on, from the stale read; the retried ESSA is interpreted
    if (locked) spinUnlock(CV.a, CM_SLOTS_LOCK, ME); // the static bug_on reporter (spinlock.ts)
    return hardwareEssa(pfn, orc);
  }
  if (!cbrlFull) CCNT[CMC.intercepts_migration]++;
  if (locked) r = performEssa(pfn, orc, true) & 0xff; // __do_essa: the new state and its cmma_d, one PGSTE-locked step
  else {
    // unfixed: the classic order, pgste_perform_essa, then the memslot's dirty bit, with nothing
    // keeping migration stop (or start, or GET) out of the gap
    r = performEssa(pfn, orc, false) & 0xff;
    sp(SP_ESSA, pfn);
    if (orc !== ORC_GET_STATE) markDirty(pfn);
  }
  cbrlProcess();
  if (locked) spinUnlock(CV.a, CM_SLOTS_LOCK, ME); // the static bug_on reporter (spinlock.ts)
  return r;
}

/** The ESSA instruction on this vCPU: the old state (| 0x20 no-dat), or ESSA_SPECIFICATION_EXCEPTION. */
export function cmmaEssa(pfn: number, orc: number): number {
  sp(SP_ESSA, pfn);
  CNT[C.essa_calls]++;
  if (orc < 0 || orc > maxOrc()) { CCNT[CMC.spec_exceptions]++; return ESSA_SPECIFICATION_EXCEPTION; }
  if (Atomics.load(CV.a, vc + CMV_INTERP) === 0) return interceptEssa(pfn, orc, false);
  if (CV.a[vc + CMV_CBRL_N] >= CV.a[CM_CBRL_MAX]) return interceptEssa(pfn, orc, true); // no slot left: one exit
  return hardwareEssa(pfn, orc);
}

/** arch_alloc_page: every page of the block stable (no-dat when facility 147 is there). */
function archAllocPage(pfn: number, order: number): void {
  const orc = CV.a[CM_NODAT_FACILITY] !== 0 ? ORC_SET_STABLE_NODAT : ORC_SET_STABLE;
  for (let i = 0; i < (1 << order); i++) cmmaEssa(pfn + i, orc);
}

/** arch_free_page: every page unused before the block can be allocated again (C1). */
function archFreePage(pfn: number, order: number): void {
  if (uUnusedLate) return; // unfixed: after the block reached the free lists (archFreePageDone)
  for (let i = 0; i < (1 << order); i++) cmmaEssa(pfn + i, ORC_SET_UNUSED);
}

function archFreePageDone(pfn: number, order: number): void {
  if (!uUnusedLate) return;
  void rLate;
  for (let i = 0; i < (1 << order); i++) cmmaEssa(pfn + i, ORC_SET_UNUSED); // another CPU may own it by now
}

/**
 * A guest access: resident proceeds; a dropped frame (logical zero) faults in a zero page; a
 * swapped one is paged in. Usage does not matter (KVM raises nothing for unused pages).
 * Returns with the frame lock held (hwEnd drops it).
 */
function accessBegin(pfn: number, write: boolean): number {
  sp(SP_ACCESS, pfn);
  CNT[C.frame_accesses]++;
  const w = frameLock(pfn);
  let out = ACC_OK;
  let nw = w;
  if ((w & ESSA_CSTATE_MASK) !== ESSA_CSTATE_RESIDENT) {
    out = makeResident(pfn, w);
    if (out === ACC_ZERO_FILL && (w & ESSA_USTATE_MASK) === ESSA_USTATE_UNUSED) CCNT[CMC.dropped_refaults]++;
    nw = (nw & ~(ESSA_CSTATE_MASK | (out === ACC_ZERO_FILL ? HS_CHANGE : 0))) | ESSA_CSTATE_RESIDENT;
  }
  nw |= HS_REF | HS_LOCK;
  if (write) nw |= HS_CHANGE;
  Atomics.store(V.hs, pfn, nw); // still locked: publish with the lock bit kept
  return out;
}

/** The CMMA host's guest hooks, on the ESSA host's (hwEnd, the plain machine's ptes). */
export function cmmaHooks(base: GuestHooks): GuestHooks {
  return {
    ...base,
    participantInit(): void { base.participantInit(); cmmaCpuInit(); },
    essa: (pfn: number): number => Atomics.load(V.hs, pfn) & HS_STATE_MASK, // no boundary hinting in the modern guest: arch hooks only
    essaBatch(): void { /* the modern guest issues no batched hints */ },
    batchesBoundaryHints: false, // no boundary hints to batch: high-order blocks go straight to the buddy
    accessBegin,
    archAllocPage,
    archFreePage,
    archFreePageDone,
    cpuTick: cmmaTick,
  };
}
