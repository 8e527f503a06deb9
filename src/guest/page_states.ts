/**
 * Page states of the guest (mm/page-states.c of the series): page_make_volatile,
 * page_make_stable, page_check_writable, the discard fault handler with
 * get_page_if_present, page_discard, and the discard list with its grace period.
 *
 * Lock order:
 *   page lock (PG_locked)
 *     PG_state_change (bit lock; make_volatile trylocks, make_stable waits)
 *     pte lock of a task (K_PTL)
 *       mapping->tree_lock (K_TREE_LOCK)
 *         lru lock (K_LRU_LOCK), discard list lock (K_DL_LOCK)
 *           zone lock
 *             frame lock (hw.ts)
 */
import { describePage } from '../core/assert.js';
import * as TRACE from '../core/trace.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const { T_DISCARD_B, T_DISCARD_E, tr } = TRACE;
import * as HISTORY from '../core/history.js';
const { H_DISCARD, H_FREE, H_VOLATILE, hist } = HISTORY;
import * as COUNTERS from '../core/counters.js';
const { C, C_REFUSED_BASE } = COUNTERS;
import * as COVERAGE from '../core/coverage.js';
const {
  B_DISCARD_ALREADY_REMOVED, B_DISCARD_REMOVED, B_DISCARD_REUSED, B_FREE_DISCARDED_UNPARKED, B_FREE_TO_DISCARD_LIST,
  B_GRACE_ROUND_DRAINED, B_GRACE_ROUND_STARTED, B_IDLE_BLOCKER, B_IDLE_SIGNOFF, B_LIST_JOINED_ROUND,
  B_MAKE_STABLE_DISCARDED, B_PLAIN_GET_PAGE, GPIP_OK, GPIP_REFUSED, GPIP_RETRY, covBranch, covGpip,
} = COVERAGE;
import * as INJECT from '../core/inject.js';
const { I_STALL_DISCARD, I_STALL_FAULT, I_STALL_VOLATILE, injStall } = INJECT;
import { CNT, ME, V } from '../core/ctx.js';
import * as HOOKS from '../core/hooks.js';
const { H } = HOOKS;
import * as HW from '../core/hw.js';
const { ORC_GET_STATE, ORC_SET_PVOLATILE, ORC_SET_STABLE, ORC_SET_STABLE_IF_RESIDENT, ORC_SET_VOLATILE, ST_Vz } = HW;
import * as LAYOUT from '../core/layout.js';
const {
  CTL_HINTING, CTL_NCPUS, CTL_UNFIX, K_DL_GATHER, K_DL_GATHER_N, K_DL_LOCK, K_DL_MASK, K_DL_SIGNOFF, K_DL_SIGNOFF_N,
  K_MLOCKED, NIL, PAGE_WORDS, PA_EPOCH, PA_IDLE, PG_COUNT, PG_FLAGS, PG_GEN, PG_INDEX, PG_LRU_NEXT, PG_MAPCOUNT,
  PG_MAPPING, paWord,
} = LAYOUT;
import { O, report } from '../core/oracles.js';
import * as FLAGS from '../core/page_flags.js';
const {
  PG_anon, PG_discard_list, PG_referenced, PG_discarded, PG_dirty, PG_isolated, PG_locked, PG_lru, PG_mlocked,
  PG_private, PG_lazy, PG_lazy_commit, PG_reserved, PG_state_change, PG_swapcache, PG_uptodate, PG_writable,
  PG_writeback,
} = FLAGS;
import { raceBit, raceIndex } from '../core/races.js';
import * as SCHED from '../core/sched.js';
import { STEPS } from '../core/sched.js';
const { SP_EPOCH, SP_FAULT, SP_REFCOUNT, SP_STEP, sp, spinWait } = SCHED;
import * as SPINLOCK from '../core/spinlock.js';
const { spinLock, spinUnlock } = SPINLOCK;
import { free_hot_cold_page, put_page_testzero, bug } from './page_alloc.js';
import { filemapInit, lru_del, remove_from_page_cache_locked, remove_from_page_cache_nocheck } from './filemap.js';
import { page_unmap_all, page_unmap_file, rmapInit } from './rmap.js';

let volatileOn = false;
// Fix toggles, read once per machine from CTL_UNFIX (no lookup by name on the hot paths).
let UNFIX_DISCARD_GET_PAGE = false;
let UNFIX_DISCARD_GRACE = false;
let UNFIX_DOUBLE_REMOVAL = false;
let UNFIX_GRACE_EARLY = false;
let UNFIX_GRACE_IDLE = false;
let UNFIX_LAZY_BATCH_FREED = false;
let UNFIX_STATE_CHANGE_LOCK = false;
let UNFIX_VMSCAN_ISOLATION = false;
let UNFIX_VOLATILE_RECHECK = false;
let UNFIX_WRITABLE_PVOLATILE = false;

export function pageStatesInit(): void {
  volatileOn = V.hdr[CTL_HINTING] === 2;
  const unfix = V.hdr[CTL_UNFIX];
  UNFIX_DISCARD_GET_PAGE = unfixedIn(unfix, 'discard-get-page');
  UNFIX_DISCARD_GRACE = unfixedIn(unfix, 'discard-grace');
  UNFIX_DOUBLE_REMOVAL = unfixedIn(unfix, 'double-removal');
  UNFIX_GRACE_EARLY = unfixedIn(unfix, 'grace-early');
  UNFIX_GRACE_IDLE = unfixedIn(unfix, 'grace-idle');
  UNFIX_LAZY_BATCH_FREED = unfixedIn(unfix, 'lazy-batch-freed');
  UNFIX_STATE_CHANGE_LOCK = unfixedIn(unfix, 'state-change-lock');
  UNFIX_VMSCAN_ISOLATION = unfixedIn(unfix, 'vmscan-isolation');
  UNFIX_VOLATILE_RECHECK = unfixedIn(unfix, 'volatile-recheck');
  UNFIX_WRITABLE_PVOLATILE = unfixedIn(unfix, 'writable-pvolatile');
  filemapInit(unfix);
  rmapInit(unfix);
  lazyN = 0; // a workload that wants the lazy batch sets it when it configures
  lazyLen = 0;
}

/** page_host_discards(): only with --hinting full can the host discard a page (Vz exists). */
export function hostDiscards(): boolean {
  return volatileOn;
}

/** Whether the fix of race `id` is off in a CTL_UNFIX mask (init only: a lookup by name; the one place the guest reads the mask). */
export function unfixedIn(mask: number, id: string): boolean {
  return (mask & raceBit(id)) !== 0;
}

// ------------------------------------------------------------------ flag helpers
export function pageFlags(pfn: number): number {
  return Atomics.load(V.page, pfn * PAGE_WORDS + PG_FLAGS);
}
export function setPageFlag(pfn: number, f: number): void {
  Atomics.or(V.page, pfn * PAGE_WORDS + PG_FLAGS, f); // RMW: other CPUs change other bits concurrently
}
export function clearPageFlag(pfn: number, f: number): void {
  Atomics.and(V.page, pfn * PAGE_WORDS + PG_FLAGS, ~f);
}
/** Returns true if the bit was already set. */
export function testSetPageFlag(pfn: number, f: number): boolean {
  return (Atomics.or(V.page, pfn * PAGE_WORDS + PG_FLAGS, f) & f) !== 0;
}

export function lock_page(pfn: number): void {
  let attempt = 0;
  while (testSetPageFlag(pfn, PG_locked)) spinWait(attempt++, pfn); // acquire: or is a seq-cst RMW
}
/** wait_on_page_locked: wait until whoever holds the page lock lets go (take it and drop it). */
export function wait_on_page_locked(pfn: number): void {
  lock_page(pfn);
  clearPageFlag(pfn, PG_locked);
}
export function trylock_page(pfn: number): boolean {
  return !testSetPageFlag(pfn, PG_locked);
}
/** unlock_page: most pages become volatile here (end of read I/O). */
export function unlock_page(pfn: number, offset: number): void {
  clearPageFlag(pfn, PG_locked); // release
  if (lazyN > 0 && volatileOn) queue_make_volatile(pfn);
  else page_make_volatile(pfn, offset);
}

export function page_count(pfn: number): number {
  return Atomics.load(V.page, pfn * PAGE_WORDS + PG_COUNT) + 1;
}
export function page_mapcount(pfn: number): number {
  return Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPCOUNT) + 1;
}

// ------------------------------------------------------------------ volatility
const R_BUSY = 0, R_RESERVED = 1, R_DIRTY = 2, R_WRITEBACK = 3, R_LOCKED = 4, R_ANON = 5, R_NO_MAPPING = 6,
  R_MLOCKED = 7, R_NOT_UPTODATE = 8, R_PRIVATE = 9, R_DISCARDED = 10, R_NOT_LRU = 11, R_REFS = 12;

/** The page-flag conditions of hinting.md 2.2 (all but the counts); -1 when none holds. */
function flagRefusal(pfn: number): number {
  const f = pageFlags(pfn);
  if (f & PG_reserved) return R_RESERVED;
  if (f & PG_dirty) return R_DIRTY;
  if (f & PG_writeback) return R_WRITEBACK;
  if (f & PG_locked) return R_LOCKED;
  if ((f & PG_anon) && !(f & PG_swapcache)) return R_ANON;
  const mapping = Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPPING);
  if (mapping === 0) return R_NO_MAPPING;
  if ((f & PG_mlocked) || Atomics.load(V.k, K_MLOCKED + mapping - 1) !== 0) return R_MLOCKED;
  if (!(f & PG_uptodate)) return R_NOT_UPTODATE;
  if (f & PG_private) return R_PRIVATE;
  if (f & PG_discarded) return R_DISCARDED;
  if ((!(f & PG_lru) || (f & PG_isolated)) && !UNFIX_VMSCAN_ISOLATION) return R_NOT_LRU;
  return -1;
}

/**
 * The conditions of hinting.md 2.2; returns -1 when the page may be made volatile.
 *
 * The flags are read again after the counts (R19b, `volatile-recheck`). A blocking
 * condition may be handed from a reference to a flag: msync (R19) holds an extra
 * reference across make_stable ... set_page_dirty and drops it after PG_dirty is set,
 * page_remove_rmap holds the pte's reference across the same transfer. The series reads
 * the flags (check_bits) and then the counts (check_counts): a make_volatile that reads
 * the flags before set_page_dirty and the count after the put sees neither condition and
 * makes a dirty page P with its change bit just cleared; the host discards it and the
 * write is lost (found by a threads soak with every fix on: the discard handler met a
 * dirty, writable, Vz page). Reading the flags again after the counts closes it: every
 * access is a seq-cst atomic, so a count that no longer shows the reference comes after
 * the PG_dirty store, and the second read sees it. The first read still catches the
 * other direction (a flag dropped after a reference was taken).
 */
function volatileRefusal(pfn: number, offset: number): number {
  const why = flagRefusal(pfn);
  if (why >= 0) return why;
  sp(SP_STEP, pfn); // the window between check_bits and check_counts
  injStall(I_STALL_VOLATILE, pfn); // a vCPU preempted inside it
  if (page_count(pfn) !== page_mapcount(pfn) + offset) return R_REFS;
  return UNFIX_VOLATILE_RECHECK ? -1 : flagRefusal(pfn);
}

/**
 * page_make_volatile(page, offset): best effort. `offset` counts the known references
 * besides the mappings: 1 for the page cache, 2 if the caller holds one too.
 */
export function page_make_volatile(pfn: number, offset: number): void {
  if (!volatileOn) return;
  CNT[C.make_volatile_attempts]++;
  const lock = !UNFIX_STATE_CHANGE_LOCK;
  if (lock && testSetPageFlag(pfn, PG_state_change)) { CNT[C_REFUSED_BASE + R_BUSY]++; return; }
  const why = volatileRefusal(pfn, offset);
  if (why < 0) {
    injStall(I_STALL_VOLATILE, pfn); // the window between the checks and the ESSA
    const writable = (pageFlags(pfn) & PG_writable) !== 0;
    hist(pfn, H_VOLATILE, writable ? ORC_SET_PVOLATILE : ORC_SET_VOLATILE);
    H.essa(pfn, writable ? ORC_SET_PVOLATILE : ORC_SET_VOLATILE);
    CNT[C.make_volatile_ok]++;
  } else {
    CNT[C_REFUSED_BASE + why]++;
  }
  if (lock) clearPageFlag(pfn, PG_state_change);
}

// ------------------------------------------------------------------ lazy make_volatile (R24)
/*
 * The 2006 lazy scheme: unlock_page queues the page (without a reference: none can be
 * dropped in interrupt context) and a later commit re-checks the batch and issues one
 * batched host call. Fixed (the last lazy version): PG_lazy marks the pending set. The
 * commit claims a page only while it is still pending (one CAS on the flags word sets
 * PG_lazy_commit if PG_lazy is set: it never touches a page that left the set, which may
 * be free or someone else's by now), then holds PG_state_change from the re-check until
 * its ESSA has landed; the free path drops the page from the pending set and waits while
 * a commit owns it. Unfixed (lazy-batch-freed): the commit takes PG_state_change for the
 * re-check only and lets go before the batched ESSA, by which time the page can have been
 * truncated, freed and reallocated.
 */
let lazyN = 0;
let lazyLen = 0;
const lazyQ = new Int32Array(64);
const lazyBatch = [new Int32Array(64), new Int32Array(64)]; // [volatile, pvolatile]
const lazyGen = [new Int32Array(64), new Int32Array(64)];
const lazyCount = new Int32Array(2);
const LAZY_ORC = [ORC_SET_VOLATILE, ORC_SET_PVOLATILE];

/** Workload option lazy_volatile: commit deferred make_volatile in batches of n (0: immediate). */
export function setLazyVolatile(n: number): void {
  lazyN = Math.min(n, lazyQ.length);
  lazyLen = 0;
}

/** Fixed commit: own the page if it is still pending (CAS: PG_lazy set, no other commit). */
function lazyClaim(pfn: number): boolean {
  const idx = pfn * PAGE_WORDS + PG_FLAGS;
  for (;;) {
    const f = Atomics.load(V.page, idx);
    if ((f & PG_lazy) === 0 || (f & PG_lazy_commit) !== 0) return false;
    // seq-cst CAS: either the free path's and(~PG_lazy) came first (we fail and skip) or it
    // comes after and then sees PG_lazy_commit and waits for our release.
    if (Atomics.compareExchange(V.page, idx, f, f | PG_lazy_commit) === f) return true;
  }
}

function queue_make_volatile(pfn: number): void {
  setPageFlag(pfn, PG_lazy);
  lazyQ[lazyLen++] = pfn;
  if (lazyLen >= lazyN) commit_lazy_volatile();
}

/** Re-check the pending pages and issue their ESSAs in one batch per op (also at the end of a run). */
export function commit_lazy_volatile(): void {
  const fixed = !UNFIX_LAZY_BATCH_FREED;
  lazyCount[0] = lazyCount[1] = 0;
  for (let k = 0; k < lazyLen; k++) {
    const pfn = lazyQ[k];
    sp(SP_STEP, pfn); // one page's re-check: the earlier pages of the batch wait for their ESSA meanwhile
    if (fixed && !lazyClaim(pfn)) continue; // left the pending set (freed, or committed by another CPU)
    CNT[C.make_volatile_attempts]++;
    if (testSetPageFlag(pfn, PG_state_change)) { // acquire (seq-cst RMW)
      CNT[C_REFUSED_BASE + R_BUSY]++;
      if (fixed) clearPageFlag(pfn, PG_lazy | PG_lazy_commit);
      continue;
    }
    const why = volatileRefusal(pfn, 1); // no reference of our own: the cache's only
    if (why >= 0) {
      CNT[C_REFUSED_BASE + why]++;
      clearPageFlag(pfn, PG_lazy | PG_lazy_commit | PG_state_change);
      continue;
    }
    const w = (pageFlags(pfn) & PG_writable) !== 0 ? 1 : 0;
    lazyGen[w][lazyCount[w]] = Atomics.load(V.page, pfn * PAGE_WORDS + PG_GEN);
    lazyBatch[w][lazyCount[w]++] = pfn;
    if (!fixed) clearPageFlag(pfn, PG_lazy | PG_state_change); // the unfixed commit lets go here
  }
  for (let w = 0; w < 2; w++) {
    const n = lazyCount[w];
    H.essaBatch(lazyBatch[w], n, LAZY_ORC[w], null);
    for (let i = 0; i < n; i++) {
      const pfn = lazyBatch[w][i];
      hist(pfn, H_VOLATILE, LAZY_ORC[w]);
      CNT[C.make_volatile_ok]++;
      // Oracle: V only when every condition holds at the instant of the ESSA (same owner).
      const now = Atomics.load(V.page, pfn * PAGE_WORDS + PG_GEN);
      if (now !== lazyGen[w][i]) {
        report(V, O.protocol, pfn, ME, STEPS, `lazy make_volatile: the batched set_${w ? 'p' : ''}volatile landed on pfn ${pfn} after it was freed and reallocated (allocation generation ${lazyGen[w][i]} -> ${now}); ${describePage(V, pfn)}`, raceIndex('lazy-batch-freed') + 1);
      }
      if (fixed) clearPageFlag(pfn, PG_lazy | PG_lazy_commit | PG_state_change); // release: the ESSA has landed
    }
  }
  lazyLen = 0;
}

/**
 * page_make_stable: ORC 6 after waiting for a make_volatile in progress. Returns false
 * if the host had discarded the page (the caller must discard it). The caller already
 * holds a condition that blocks volatility (reference, page lock, dirty bit, writable).
 */
export function page_make_stable(pfn: number): boolean {
  if (!volatileOn) return true;
  CNT[C.make_stable_calls]++;
  if (!UNFIX_STATE_CHANGE_LOCK) {
    let attempt = 0;
    while ((pageFlags(pfn) & PG_state_change) !== 0) spinWait(attempt++, pfn);
  }
  const old = H.essa(pfn, ORC_SET_STABLE_IF_RESIDENT);
  if (old === ST_Vz) { CNT[C.make_stable_failed]++; covBranch(B_MAKE_STABLE_DISCARDED); return false; }
  return true;
}

/**
 * page_check_writable: before the first writable pte is installed the page becomes P
 * (or S when the checks fail); PG_writable makes every later make_volatile pick P.
 * Called under the pte lock after page_add_file_rmap; offset 1 (the cache reference).
 */
export function page_check_writable(pfn: number): void {
  if (!volatileOn || UNFIX_WRITABLE_PVOLATILE) return;
  let attempt = 0;
  while (testSetPageFlag(pfn, PG_state_change)) spinWait(attempt++, pfn);
  if (!testSetPageFlag(pfn, PG_writable)) {
    if (volatileRefusal(pfn, 1) < 0) H.essa(pfn, ORC_SET_PVOLATILE); // called with the new pte's reference counted in mapcount
    else H.essa(pfn, ORC_SET_STABLE_IF_RESIDENT); // cannot leave it V
  }
  clearPageFlag(pfn, PG_state_change);
}

/** page_discarded: ORC 0 and test for Vz. */
export function page_discarded(pfn: number): boolean {
  return H.essa(pfn, ORC_GET_STATE) === ST_Vz;
}

// ------------------------------------------------------------------ discard fault
/** get_page_if_present (seed 001): a reference only if the page is not free (_count >= 0). */
export function get_page_if_present(pfn: number): boolean {
  sp(SP_REFCOUNT, pfn);
  const idx = pfn * PAGE_WORDS + PG_COUNT;
  for (;;) {
    const old = Atomics.load(V.page, idx);
    if (old < 0) { covGpip(GPIP_REFUSED); return false; }
    if (Atomics.compareExchange(V.page, idx, old, old + 1) === old) { covGpip(GPIP_OK); return true; } // CAS: no reference on a free page
    covGpip(GPIP_RETRY);
  }
}

/**
 * The discard fault handler: program check 0x1a carrying only the pfn. Entered
 * "disabled": no quiescent point until it holds its reference.
 */
export function do_discard_fault(pfn: number): void {
  tr(T_DISCARD_B, pfn);
  __do_discard_fault(pfn);
  tr(T_DISCARD_E, pfn);
}

function __do_discard_fault(pfn: number): void {
  sp(SP_FAULT, pfn);
  injStall(I_STALL_FAULT, pfn); // a vCPU preempted before it holds a reference
  if (UNFIX_DISCARD_GET_PAGE) {
    covBranch(B_PLAIN_GET_PAGE);
    const old = Atomics.add(V.page, pfn * PAGE_WORDS + PG_COUNT, 1); // plain get_page
    if (old < 0) {
      report(V, O.refcount, pfn, ME, STEPS, `discard fault: get_page took a reference on a free page (_count was ${old}); ${describePage(V, pfn)}`, raceIndex('discard-get-page') + 1);
      return;
    }
  } else if (!get_page_if_present(pfn)) {
    CNT[C.get_page_if_present_refused]++;
    return;
  }
  injStall(I_STALL_DISCARD, pfn); // holding the reference, not yet the page lock
  page_discard(pfn);
}

/** page_discard: consumes the caller's reference. */
export function page_discard(pfn: number): void {
  // The handler found the page's mapping through its struct page when it took the reference.
  const mapping = Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPPING);
  const index = V.page[pfn * PAGE_WORDS + PG_INDEX];
  lock_page(pfn);
  if (!page_discarded(pfn)) {
    // The frame is not Vz: it was freed and reused after the fault (free vs. discard).
    covBranch(B_DISCARD_REUSED);
    report(V, O.bug_on, pfn, ME, STEPS, `page_discard: frame is not discarded by the host, it was reused after the discard fault; ${describePage(V, pfn)}`);
    clearPageFlag(pfn, PG_locked);
    return;
  }
  const f = pageFlags(pfn);
  if (f & (PG_writeback | PG_dirty | PG_private)) bug(pfn, 'page_discard: discarded page is dirty, under writeback or private');
  if (UNFIX_DOUBLE_REMOVAL) {
    // No PG_discarded interlock: whoever held the page lock before us (truncate, another
    // discard fault) may have removed the page already; we delete it and drop the cache
    // reference again.
    if (mapping !== 0) {
      CNT[C.pages_discarded]++;
      hist(pfn, H_DISCARD, 0);
      page_unmap_file(pfn, mapping - 1, index);
      lru_del(pfn);
      remove_from_page_cache_nocheck(pfn, mapping - 1, index);
    }
    clearPageFlag(pfn, PG_locked);
    if (put_page_testzero(pfn)) free_page_final(pfn);
    return;
  }
  if (testSetPageFlag(pfn, PG_discarded) || Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPPING) === 0) {
    // someone else removed it, or is removing it, from the page cache
    covBranch(B_DISCARD_ALREADY_REMOVED);
    clearPageFlag(pfn, PG_locked);
    if (put_page_testzero(pfn)) free_page_final(pfn);
    return;
  }
  CNT[C.pages_discarded]++;
  covBranch(B_DISCARD_REMOVED);
  hist(pfn, H_DISCARD, 0);
  page_unmap_all(pfn);
  if (page_mapcount(pfn) !== 0) bug(pfn, 'page_discard: still mapped after unmapping every pte');
  lru_del(pfn);
  remove_from_page_cache_locked(pfn); // drops the cache reference
  clearPageFlag(pfn, PG_locked);
  if (put_page_testzero(pfn)) free_page_final(pfn);
}

/** The last reference is gone: discarded pages go to the discard list, others to the pcp list. */
export function free_page_final(pfn: number): void {
  CNT[C.frees]++;
  hist(pfn, H_FREE, 0);
  clearPageFlag(pfn, PG_uptodate | PG_writable | PG_referenced | PG_dirty | PG_anon);
  if ((pageFlags(pfn) & PG_lazy) !== 0 && !UNFIX_LAZY_BATCH_FREED &&
    (Atomics.and(V.page, pfn * PAGE_WORDS + PG_FLAGS, ~PG_lazy) & PG_lazy) !== 0) {
    // Drop it from the pending lazy set, then wait out a commit that claimed it first (the
    // and is a seq-cst RMW: a commit's later claim CAS finds PG_lazy clear and skips).
    let attempt = 0;
    while ((pageFlags(pfn) & PG_lazy_commit) !== 0) spinWait(attempt++, pfn);
  }
  // __page_cache_release: a page still on the LRU leaves it here; a discarded one left it in page_discard.
  if ((pageFlags(pfn) & (PG_lru | PG_discarded)) === PG_lru) lru_del(pfn);
  if ((pageFlags(pfn) & PG_discarded) !== 0 && !UNFIX_DISCARD_GRACE) {
    covBranch(B_FREE_TO_DISCARD_LIST);
    discard_list_add(pfn);
    return;
  }
  if ((pageFlags(pfn) & PG_discarded) !== 0) covBranch(B_FREE_DISCARDED_UNPARKED);
  clearPageFlag(pfn, PG_discarded);
  free_to_pcp(pfn);
}

/**
 * pcp lists hold stable pages (boundary hinting): a page cache page that may be V/P/Vz is
 * set stable before it joins them (ORC 1 is right: its content is garbage now; Vz -> Sz).
 */
function free_to_pcp(pfn: number): void {
  if (volatileOn) H.essa(pfn, ORC_SET_STABLE);
  free_hot_cold_page(pfn, true);
}

// ------------------------------------------------------------------ discard list
function dlLock(): void { spinLock(V.k, K_DL_LOCK, ME); }
function dlUnlock(): void { spinUnlock(V.k, K_DL_LOCK, ME); }

function allCpusMask(): number {
  const n = V.hdr[CTL_NCPUS];
  let m = 0;
  for (let c = 0; c < n; c++) {
    const idle = Atomics.load(V.pa, paWord(c, PA_IDLE)) !== 0;
    if (c !== ME && !(idle && !UNFIX_GRACE_IDLE)) m |= 1 << c;
  }
  return m;
}

/**
 * After a round's mask is published: sign off for every CPU of it that is idle by now. A CPU
 * that went idle between allCpusMask's look at its PA_IDLE and the mask store would otherwise
 * hold the round until it wakes (its own sign-off read the old mask). Seq-cst: either its
 * PA_IDLE store is seen here, or it comes after this load and its own sign-off's load of the
 * mask sees the new mask and clears its bit. As RCU reports quiescent states for idle CPUs.
 */
function signOffIdle(): void {
  if (UNFIX_GRACE_IDLE) return;
  const idle = idleIn(Atomics.load(V.k, K_DL_MASK));
  if (idle !== 0) Atomics.and(V.k, K_DL_MASK, ~idle); // seq-cst RMW
}

/** The CPUs of `mask` that are idle now (PA_IDLE, atomic loads). */
function idleIn(mask: number): number {
  let idle = 0;
  for (let c = 0; c < V.hdr[CTL_NCPUS]; c++) if ((mask & (1 << c)) !== 0 && Atomics.load(V.pa, paWord(c, PA_IDLE)) !== 0) idle |= 1 << c;
  return idle;
}

/** Park a freed discarded page until every CPU has been once in enabled code. */
export function discard_list_add(pfn: number): void {
  dlLock();
  setPageFlag(pfn, PG_discard_list);
  // The page's grace period starts now: it waits in the gather list for the *next* round.
  // Unfixed (grace-early): it joins the round already in progress, whose CPUs may have
  // signed off before the page was listed.
  const early = UNFIX_GRACE_EARLY && Atomics.load(V.k, K_DL_MASK) !== 0;
  if (early) covBranch(B_LIST_JOINED_ROUND);
  const head = early ? K_DL_SIGNOFF : K_DL_GATHER;
  V.page[pfn * PAGE_WORDS + PG_LRU_NEXT] = V.k[head];
  V.k[head] = pfn;
  V.k[head + 1]++; // K_DL_GATHER_N / K_DL_SIGNOFF_N follow their heads
  CNT[C.discard_list_adds]++;
  const len = V.k[K_DL_GATHER_N] + V.k[K_DL_SIGNOFF_N];
  if (len > CNT[C.discard_list_max]) CNT[C.discard_list_max] = len;
  // A stalled (preempted) vCPU delays grace periods legitimately; an *idle* CPU that the
  // sign-off round waits for never signs off: that is the bug (grace-idle).
  let idleBlocker = -1;
  if (len > Math.max(32, V.nframes >> 5) && UNFIX_GRACE_IDLE) {
    const idle = idleIn(Atomics.load(V.k, K_DL_MASK));
    if (idle !== 0) idleBlocker = 31 - Math.clz32(idle); // the highest one, as before
  }
  // Fixed: an idle CPU the round waits for is only ever in transit (it published PA_IDLE and
  // is about to sign off, or it went idle just as the round started: signOffIdle closes
  // that), so the oracle is for the unfixed race only (it fired as a false alarm in a 10^8-op
  // threads soak: a CPU between its PA_IDLE store and its sign-off).
  dlUnlock();
  if (idleBlocker >= 0) {
    covBranch(B_IDLE_BLOCKER);
    report(V, O.liveness, pfn, ME, STEPS, `discard list holds ${len} pages and the sign-off round waits for cpu ${idleBlocker}, which is idle: the grace period cannot complete`);
  }
}

/**
 * A quiescent point of this CPU (it is in enabled code between steps; idle CPUs call it
 * when they go idle). Clears the CPU's bit in the sign-off mask; the CPU that clears the
 * last bit frees the sign-off list and starts the next round with the gather list.
 */
export function cpu_quiescent(epoch: number): void {
  sp(SP_EPOCH, epoch);
  Atomics.store(V.pa, paWord(ME, PA_EPOCH), epoch); // read by diagnostics
  const bit = 1 << ME;
  const m = Atomics.load(V.k, K_DL_MASK);
  if ((m & bit) !== 0) Atomics.and(V.k, K_DL_MASK, ~bit); // seq-cst RMW: the round sees our sign-off
  if (Atomics.load(V.k, K_DL_MASK) !== 0) return;
  if (V.k[K_DL_SIGNOFF_N] === 0 && V.k[K_DL_GATHER_N] === 0) return; // plain peek; rechecked under the lock
  dlLock();
  if (Atomics.load(V.k, K_DL_MASK) !== 0) { dlUnlock(); return; }
  let list = V.k[K_DL_SIGNOFF];
  V.k[K_DL_SIGNOFF] = V.k[K_DL_GATHER];
  V.k[K_DL_SIGNOFF_N] = V.k[K_DL_GATHER_N];
  V.k[K_DL_GATHER] = NIL;
  V.k[K_DL_GATHER_N] = 0;
  if (V.k[K_DL_SIGNOFF_N] > 0) { covBranch(B_GRACE_ROUND_STARTED); Atomics.store(V.k, K_DL_MASK, allCpusMask()); signOffIdle(); }
  dlUnlock();
  if (list !== NIL) { CNT[C.grace_periods]++; covBranch(B_GRACE_ROUND_DRAINED); }
  while (list !== NIL) {
    const next = V.page[list * PAGE_WORDS + PG_LRU_NEXT];
    V.page[list * PAGE_WORDS + PG_LRU_NEXT] = NIL;
    clearPageFlag(list, PG_discard_list | PG_discarded); // before free: the allocator treats it as bad
    CNT[C.discard_list_drained]++;
    free_to_pcp(list);
    list = next;
  }
}

/** The CPU goes idle (enabled wait) or comes back. */
export function cpu_set_idle(idle: boolean, epoch: number): void {
  Atomics.store(V.pa, paWord(ME, PA_IDLE), idle ? 1 : 0);
  if (idle && !UNFIX_GRACE_IDLE) { covBranch(B_IDLE_SIGNOFF); cpu_quiescent(epoch); }
}

