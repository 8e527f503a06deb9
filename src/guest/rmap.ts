/**
 * Reverse mapping for file pages: a page's ptes are found through its mapping (file)
 * and index in every task whose vma of that file covers the index (i_mmap walk).
 * page_remove_rmap carries the dirty-bit split of the seed: test dirty, make stable,
 * clear dirty, set_page_dirty, with the just-dropped mapcount as the extra reference.
 */
import { ME, V } from '../core/ctx.js';
import * as INJECT from '../core/inject.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const { I_STALL_MSYNC, injStall } = INJECT;
import * as HISTORY from '../core/history.js';
const { H_DIRTY, H_UNMAP, hist } = HISTORY;
import * as HW from '../core/hw.js';
const { pageClearDirty, pageTestDirty } = HW;
import * as LAYOUT from '../core/layout.js';
const {
  CTL_NCPUS, FILE_PAGES, K_PTE, K_PTL, K_VMA, NFILES, NVP, PAGE_WORDS, PG_INDEX, PG_MAPCOUNT, PG_MAPPING,
  PTE_PFN_MASK, VMA_END, VMA_FLAGS, VMA_START, VMA_WORDS,
} = LAYOUT;
import * as FLAGS from '../core/page_flags.js';
const { PG_anon, PG_dirty, PG_state_change, PG_writable } = FLAGS;
import * as SCHED from '../core/sched.js';
const { SP_STEP, sp } = SCHED;
import * as SPINLOCK from '../core/spinlock.js';
const { spinLock, spinUnlock } = SPINLOCK;
import { bug, put_page_testzero } from './page_alloc.js';
import { clearPageFlag, free_page_final, page_make_stable, setPageFlag, testSetPageFlag, unfixedIn } from './page_states.js';
import { set_pte } from './pgtable.js';

// Fix toggles of this module, read once per machine (page_states.ts pageStatesInit).
let UNFIX_DIRTY_IN_TRANSIT = false;
/** Per-machine setup: the fix toggles from CTL_UNFIX. */
export function rmapInit(mask: number): void {
  UNFIX_DIRTY_IN_TRANSIT = unfixedIn(mask, 'dirty-in-transit');
}

export function vmaIdx(task: number, file: number): number {
  return K_VMA + (task * NFILES + file) * VMA_WORDS;
}
export function pteIdx(task: number, file: number, index: number): number {
  return K_PTE + task * NVP + file * FILE_PAGES + index;
}
export function ptlLock(task: number): void { spinLock(V.k, K_PTL + task, ME); }
export function ptlUnlock(task: number): void { spinUnlock(V.k, K_PTL + task, ME); }

export function page_add_file_rmap(pfn: number): void {
  Atomics.add(V.page, pfn * PAGE_WORDS + PG_MAPCOUNT, 1); // RMW: concurrent map/unmap on other CPUs
}

/** set_page_dirty: PG_dirty blocks volatility by itself from here on. */
export function set_page_dirty(pfn: number): void {
  hist(pfn, H_DIRTY, 0);
  setPageFlag(pfn, PG_dirty);
}

/**
 * Move the hardware change bit to PG_dirty (msync and page_remove_rmap). With the fix:
 * page_test_dirty -> make_stable -> page_clear_dirty -> set_page_dirty. Unfixed
 * (dirty-in-transit): the old page_test_and_clear_dirty, then set_page_dirty.
 */
export function transfer_dirty(pfn: number): void {
  if (!pageTestDirty(pfn)) return;
  if (UNFIX_DIRTY_IN_TRANSIT) {
    pageClearDirty(pfn);
    sp(SP_STEP, pfn); // the window: a clean P page the host may discard
    set_page_dirty(pfn);
    return;
  }
  if (!page_make_stable(pfn)) bug(pfn, 'BUG_ON(!page_make_stable): a dirty page was discarded');
  pageClearDirty(pfn);
  sp(SP_STEP, pfn);
  injStall(I_STALL_MSYNC, pfn); // stable and clean, PG_dirty not yet set
  set_page_dirty(pfn);
}

/** page_remove_rmap: drop one mapping; the last one transfers the dirty bit. */
export function page_remove_rmap(pfn: number): void {
  const old = Atomics.sub(V.page, pfn * PAGE_WORDS + PG_MAPCOUNT, 1);
  if (old < 0) { bug(pfn, 'page_remove_rmap: _mapcount underflow'); return; }
  if (old === 0) {
    if ((Atomics.load(V.page, pfn * PAGE_WORDS) & PG_anon) !== 0) return; // anonymous: nothing to write back
    transfer_dirty(pfn);
    // Clear PG_writable only while still unmapped, under the state-change bit (trylock).
    if (!testSetPageFlag(pfn, PG_state_change)) {
      if (Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPCOUNT) === -1) clearPageFlag(pfn, PG_writable);
      clearPageFlag(pfn, PG_state_change);
    }
  }
}

/** Clear one task's pte of the page (caller holds that task's pte lock). Returns true if it was mapped there. */
function unmapOne(task: number, file: number, index: number, pfn: number): boolean {
  const vi = vmaIdx(task, file);
  if ((V.k[vi + VMA_FLAGS] & 1) === 0 || index < V.k[vi + VMA_START] || index >= V.k[vi + VMA_END]) return false;
  const pi = pteIdx(task, file, index);
  if ((Atomics.load(V.k, pi) & PTE_PFN_MASK) !== pfn + 1) return false;
  set_pte(pi, 0); // the hardware walker re-reads ptes after it holds the frame
  hist(pfn, H_UNMAP, task);
  page_remove_rmap(pfn);
  if (put_page_testzero(pfn)) { bug(pfn, 'unmap: a pte held the last reference'); free_page_final(pfn); }
  return true;
}

/** page_unmap_all / try_to_unmap: every pte of the page, each under its task's pte lock. */
export function page_unmap_all(pfn: number): void {
  const mapping = Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPPING);
  if (mapping === 0) return;
  page_unmap_file(pfn, mapping - 1, V.page[pfn * PAGE_WORDS + PG_INDEX]);
}

/** Unmap a page known to be (file, index), also after it left the page cache. */
export function page_unmap_file(pfn: number, file: number, index: number): void {
  const ncpus = V.hdr[CTL_NCPUS];
  for (let task = 0; task < ncpus; task++) {
    ptlLock(task);
    unmapOne(task, file, index, pfn);
    ptlUnlock(task);
  }
}
