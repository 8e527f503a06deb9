/**
 * The page cache and the disk. A file page's content is a pure function of (file, index,
 * version): a stamp in its first words and a check word at the end, so every read can be
 * verified. K_CUR_VER holds the latest version written to memory, K_DISK_VER the one on
 * disk (written back). Writes and truncation of a page are done by its owner CPU only
 * (index % ncpus), so versions of one page are totally ordered.
 */
import { describePage } from '../core/assert.js';
import * as HISTORY from '../core/history.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const { H_READIN, H_REMOVE, H_WRITEBACK, hist } = HISTORY;
import * as COUNTERS from '../core/counters.js';
const { C } = COUNTERS;
import * as COVERAGE from '../core/coverage.js';
const { B_LOOKUP_DISCARDED, B_REMOVE_KEEPS_DISCARDED, B_REMOVE_LOST_TO_DISCARD, covBranch } = COVERAGE;
import * as INJECT from '../core/inject.js';
const { I_STALL_VOLATILE, I_WRITEBACK_DELAY, injStall } = INJECT;
import { CNT, ME, V } from '../core/ctx.js';
import * as HOOKS from '../core/hooks.js';
const { H } = HOOKS;
import * as HW from '../core/hw.js';
const { ACC_ADDRESSING, ACC_FAULT, ORC_GET_STATE, ST_Vz, pageClearDirty } = HW;
import * as LAYOUT from '../core/layout.js';
const {
  FILE_PAGES, K_CACHE, K_TRUNC_COUNT, K_DISK_VER, K_LRU_COUNT, K_LRU_HEAD, K_LRU_LOCK, K_LRU_TAIL, K_TREE_LOCK, NIL,
  PAGE_INTS, PAGE_WORDS, PG_INDEX, PG_LRU_NEXT, PG_LRU_PREV, PG_MAPPING,
} = LAYOUT;
import { O, report } from '../core/oracles.js';
import * as FLAGS from '../core/page_flags.js';
const { PG_active, PG_discarded, PG_dirty, PG_locked, PG_lru, PG_uptodate, PG_writeback } = FLAGS;
import * as SCHED from '../core/sched.js';
import { STEPS } from '../core/sched.js';
const { SP_STEP, sp, spinWait } = SCHED;
import * as SPINLOCK from '../core/spinlock.js';
const { spinLock, spinUnlock } = SPINLOCK;
import { alloc_pages, bug, get_page, put_page_testzero } from './page_alloc.js';
const NONE = NIL;
import {
  clearPageFlag, free_page_final, lock_page, page_make_stable, page_make_volatile, pageFlags, setPageFlag,
  testSetPageFlag, unlock_page, page_discard, page_count, wait_on_page_locked, hostDiscards, unfixedIn,
} from './page_states.js';
import { page_unmap_file } from './rmap.js';

// Fix toggles of this module, read once per machine (page_states.ts pageStatesInit).
let UNFIX_DOUBLE_REMOVAL = false;
let UNFIX_UPTODATE_CLEAR_ORDER = false;
let UNFIX_VMSCAN_ISOLATION = false;
/** Per-machine setup: the fix toggles from CTL_UNFIX. */
export function filemapInit(mask: number): void {
  UNFIX_DOUBLE_REMOVAL = unfixedIn(mask, 'double-removal');
  UNFIX_UPTODATE_CLEAR_ORDER = unfixedIn(mask, 'uptodate-clear-order');
  UNFIX_VMSCAN_ISOLATION = unfixedIn(mask, 'vmscan-isolation');
}

export const FILE_MAGIC = 0x0f11_0000;

export function slotOf(file: number, index: number): number {
  return file * FILE_PAGES + index;
}

/** The content stamp for (file, index, version). */
export function stampCheck(file: number, index: number, ver: number): number {
  return (FILE_MAGIC ^ Math.imul(file + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ Math.imul(ver, 0xc2b2ae35)) | 0;
}

/** Store the content of (file, index, ver) into a frame; the caller is inside hwBegin/hwEnd. */
export function storeFileStamp(pfn: number, file: number, index: number, ver: number): void {
  const b = pfn * PAGE_INTS;
  V.frame[b] = FILE_MAGIC | file;
  V.frame[b + 1] = index;
  V.frame[b + 2] = ver;
  V.frame[b + PAGE_INTS - 1] = stampCheck(file, index, ver);
}

/** Kernel write of a stamp into a page the caller holds (locked or private). */
export function kernelWriteStamp(pfn: number, file: number, index: number, ver: number): boolean {
  const r = H.accessBegin(pfn, true);
  if (r >= ACC_FAULT) { kernelFault(pfn, r, 'writing file data'); return false; }
  storeFileStamp(pfn, file, index, ver);
  H.accessEnd(pfn);
  return true;
}

/** Kernel read of a page's version (writeback). Returns -1 after reporting on a fault or bad stamp. */
export function kernelReadVersion(pfn: number, file: number, index: number): number {
  const r = H.accessBegin(pfn, false);
  if (r >= ACC_FAULT) { kernelFault(pfn, r, 'reading file data for writeback'); return -1; }
  const b = pfn * PAGE_INTS;
  const ok = V.frame[b] === (FILE_MAGIC | file) && V.frame[b + 1] === index &&
    V.frame[b + PAGE_INTS - 1] === stampCheck(file, index, V.frame[b + 2]);
  const ver = V.frame[b + 2];
  H.accessEnd(pfn);
  if (!ok) {
    report(V, O.integrity, pfn, ME, STEPS, `writeback: page of file ${file} index ${index} holds no valid data; ${describePage(V, pfn)}`);
    return -1;
  }
  return ver;
}

function kernelFault(pfn: number, r: number, what: string): void {
  if (r === ACC_ADDRESSING) report(V, O.use_after_free, pfn, ME, STEPS, `addressing exception in the kernel while ${what}; ${describePage(V, pfn)}`);
  else report(V, O.bug_on, pfn, ME, STEPS, `discard fault in the kernel while ${what}: a page that must be stable was discarded; ${describePage(V, pfn)}`);
}

// ------------------------------------------------------------------ LRU
/** Link at the head of the LRU (caller holds the lru lock). */
function __lru_link(pfn: number): void {
  const head = V.k[K_LRU_HEAD];
  V.page[pfn * PAGE_WORDS + PG_LRU_NEXT] = head;
  V.page[pfn * PAGE_WORDS + PG_LRU_PREV] = NIL;
  if (head !== NIL) V.page[head * PAGE_WORDS + PG_LRU_PREV] = pfn; else V.k[K_LRU_TAIL] = pfn;
  V.k[K_LRU_HEAD] = pfn;
  V.k[K_LRU_COUNT]++;
  setPageFlag(pfn, PG_lru);
}

export function lru_add(pfn: number): void {
  spinLock(V.k, K_LRU_LOCK, ME);
  __lru_link(pfn);
  spinUnlock(V.k, K_LRU_LOCK, ME);
}

function __lru_unlink(pfn: number): void {
  const b = pfn * PAGE_WORDS;
  const next = V.page[b + PG_LRU_NEXT];
  const prev = V.page[b + PG_LRU_PREV];
  if (prev === NIL) V.k[K_LRU_HEAD] = next; else V.page[prev * PAGE_WORDS + PG_LRU_NEXT] = next;
  if (next === NIL) V.k[K_LRU_TAIL] = prev; else V.page[next * PAGE_WORDS + PG_LRU_PREV] = prev;
  V.page[b + PG_LRU_NEXT] = NIL;
  V.page[b + PG_LRU_PREV] = NIL;
  V.k[K_LRU_COUNT]--;
}

/** Take a page off the LRU if it is there (PG_lru is tested under the lru lock). */
export function lru_del(pfn: number): void {
  spinLock(V.k, K_LRU_LOCK, ME);
  if ((pageFlags(pfn) & PG_lru) !== 0) {
    clearPageFlag(pfn, PG_lru | PG_active);
    __lru_unlink(pfn);
  }
  spinUnlock(V.k, K_LRU_LOCK, ME);
}

/**
 * putback_lru_page: an isolated page goes back on the LRU only if it is still in the page
 * cache and not being discarded, checked under the lru lock (page_discard and removal set
 * PG_discarded before their lru_del). Unfixed (vmscan-isolation): the old put-back, which
 * re-adds every isolated page (a truncated one leaves the LRU again in the free path, a
 * discarded one does not).
 */
export function lru_putback(pfn: number): void {
  if (UNFIX_VMSCAN_ISOLATION) {
    if ((pageFlags(pfn) & PG_lru) === 0) lru_add(pfn);
    return;
  }
  spinLock(V.k, K_LRU_LOCK, ME);
  const f = pageFlags(pfn);
  if ((f & (PG_lru | PG_discarded)) === 0 && Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPPING) !== 0) __lru_link(pfn);
  spinUnlock(V.k, K_LRU_LOCK, ME);
}

/** Isolate up to n pages from the LRU tail into out[] (each with a reference). */
export function isolate_lru_pages(n: number, out: Int32Array): number {
  spinLock(V.k, K_LRU_LOCK, ME);
  let got = 0;
  let pfn = V.k[K_LRU_TAIL];
  while (pfn !== NIL && got < n) {
    const prev = V.page[pfn * PAGE_WORDS + PG_LRU_PREV];
    if ((pageFlags(pfn) & PG_active) !== 0) {
      clearPageFlag(pfn, PG_active); // second chance: rotate to the head
      __lru_unlink(pfn);
      const head = V.k[K_LRU_HEAD];
      V.page[pfn * PAGE_WORDS + PG_LRU_NEXT] = head;
      if (head !== NIL) V.page[head * PAGE_WORDS + PG_LRU_PREV] = pfn; else V.k[K_LRU_TAIL] = pfn;
      V.k[K_LRU_HEAD] = pfn;
      V.k[K_LRU_COUNT]++;
    } else if (page_count(pfn) > 0) {
      get_page(pfn);
      clearPageFlag(pfn, PG_lru);
      __lru_unlink(pfn);
      out[got++] = pfn;
    }
    pfn = prev;
  }
  spinUnlock(V.k, K_LRU_LOCK, ME);
  return got;
}

// ------------------------------------------------------------------ page cache
function treeLock(file: number): void { spinLock(V.k, K_TREE_LOCK + file, ME); }
function treeUnlock(file: number): void { spinUnlock(V.k, K_TREE_LOCK + file, ME); }

/** find_get_page without stabilisation (minor faults: find_get_page_nodiscard). */
export function find_get_page_nodiscard(file: number, index: number): number {
  treeLock(file);
  const p = V.k[K_CACHE + slotOf(file, index)] - 1;
  if (p !== NONE) get_page(p); // the cache reference keeps it alive under the tree lock
  treeUnlock(file);
  return p;
}

/** find_get_page: a stable page or NIL; a discarded page found here is discarded and the lookup retried. */
export function find_get_page(file: number, index: number): number {
  for (let tries = 0; tries < 16; tries++) {
    const p = find_get_page_nodiscard(file, index);
    if (p === NONE) return NONE;
    if (page_make_stable(p)) return p;
    covBranch(B_LOOKUP_DISCARDED);
    page_discard(p); // consumes our reference
  }
  bug(-1, `find_get_page: file ${file} index ${index} discarded 16 times in a row`);
  return NONE;
}

/**
 * The dirty-tagged lookup of msync's writeback (find_get_pages_tag, PAGECACHE_TAG_DIRTY):
 * NIL unless the cached page is dirty, else the page stabilised like find_get_page's (a
 * dirty page is stable already: PG_dirty blocks volatility; a Vz one is discarded and the
 * lookup retried). A clean page is neither stabilised nor touched.
 */
export function find_get_page_dirty(file: number, index: number): number {
  for (let tries = 0; tries < 16; tries++) {
    const p = find_get_page_nodiscard(file, index);
    if (p === NONE) return NONE;
    if ((pageFlags(p) & PG_dirty) === 0) {
      if (put_page_testzero(p)) free_page_final(p);
      return NONE;
    }
    if (page_make_stable(p)) return p;
    covBranch(B_LOOKUP_DISCARDED);
    page_discard(p); // consumes our reference
  }
  bug(-1, `find_get_page_dirty: file ${file} index ${index} discarded 16 times in a row`);
  return NONE;
}

/** add_to_page_cache: the page is new, locked, and holds our reference; the cache takes one more. */
function add_to_page_cache(pfn: number, file: number, index: number): boolean {
  treeLock(file);
  const slot = K_CACHE + slotOf(file, index);
  if (V.k[slot] !== 0) { treeUnlock(file); return false; }
  get_page(pfn);
  V.page[pfn * PAGE_WORDS + PG_MAPPING] = file + 1;
  V.page[pfn * PAGE_WORDS + PG_INDEX] = index;
  Atomics.store(V.k, slot, pfn + 1);
  treeUnlock(file);
  return true;
}

/**
 * __remove_from_page_cache with the PG_discarded interlock: the page was looked up by
 * the caller under its page lock (truncate, vmscan). Drops the cache reference.
 * Returns false if the discard path owns the removal.
 */
export function remove_from_page_cache(pfn: number, expectCount: number): boolean {
  if (UNFIX_DOUBLE_REMOVAL) { // no interlock with page_discard
    if (!remove_from_page_cache_locked(pfn, expectCount)) return false;
    lru_del(pfn);
    return true;
  }
  if (testSetPageFlag(pfn, PG_discarded)) { covBranch(B_REMOVE_LOST_TO_DISCARD); return false; } // page_discard is removing it
  if (!remove_from_page_cache_locked(pfn, expectCount)) { clearPageFlag(pfn, PG_discarded); return false; }
  lru_del(pfn);
  // Keep PG_discarded only if the host discarded the page: then it is parked when freed,
  // since another CPU may be between its discard fault and get_page_if_present.
  if (!hostDiscards() || H.essa(pfn, ORC_GET_STATE) !== ST_Vz) clearPageFlag(pfn, PG_discarded); // no ORC 0 when nothing is volatile
  else covBranch(B_REMOVE_KEEPS_DISCARDED);
  return true;
}

/**
 * Unlink from the tree and drop the cache reference (the "nocheck" delete). With
 * expectCount >= 0 (vmscan's remove_mapping) the page is only removed if page_count is
 * exactly that under the tree lock, so no lookup can take a reference meanwhile.
 */
export function remove_from_page_cache_locked(pfn: number, expectCount = -1): boolean {
  const mapping = V.page[pfn * PAGE_WORDS + PG_MAPPING];
  if (mapping === 0) { bug(pfn, 'remove_from_page_cache: page has no mapping'); return false; }
  const file = mapping - 1;
  const index = V.page[pfn * PAGE_WORDS + PG_INDEX];
  treeLock(file);
  // __remove_mapping: under the tree lock no lookup can take a new reference, and a page
  // redirtied since the caller's writeback (mapped, written, unmapped meanwhile) stays.
  if (expectCount >= 0 && (page_count(pfn) !== expectCount || (pageFlags(pfn) & PG_dirty) !== 0)) { treeUnlock(file); return false; }
  const slot = K_CACHE + slotOf(file, index);
  hist(pfn, H_REMOVE, index);
  if (V.k[slot] === pfn + 1) Atomics.store(V.k, slot, 0);
  else bug(pfn, `remove_from_page_cache: slot of file ${file} index ${index} holds pfn ${V.k[slot] - 1}`);
  Atomics.store(V.page, pfn * PAGE_WORDS + PG_MAPPING, 0);
  treeUnlock(file);
  if (put_page_testzero(pfn)) { bug(pfn, 'remove_from_page_cache: the cache held the last reference'); free_page_final(pfn); }
  return true;
}

/**
 * The pre-interlock delete (double-removal unfixed): the entry at (file, index) goes if it
 * is still this page, and the cache reference is dropped whether or not it still existed.
 */
export function remove_from_page_cache_nocheck(pfn: number, file: number, index: number): void {
  treeLock(file);
  const slot = K_CACHE + slotOf(file, index);
  hist(pfn, H_REMOVE, index);
  if (V.k[slot] === pfn + 1) Atomics.store(V.k, slot, 0);
  Atomics.store(V.page, pfn * PAGE_WORDS + PG_MAPPING, 0);
  treeUnlock(file);
  if (put_page_testzero(pfn)) free_page_final(pfn);
}

/**
 * SetPageUptodate on s390: the read-in is not a modification, so the storage key's change
 * bit is cleared, and only then is the page marked uptodate (R34, `uptodate-clear-order`).
 * The page is in the cache and locked but not uptodate: nobody maps or reads it until the
 * flag is set. The s390 SetPageUptodate of the era set the flag first and cleared the
 * change bit after (test_and_set_bit, then page_clear_dirty): another CPU's lookup finds
 * the page uptodate in between, maps it writable and writes, and the clear wipes out the
 * only record of that write; the page is later dropped as clean (vmscan, or a host discard
 * of a clean P page) and the write is lost (found by a threads soak with every fix on; the
 * page history showed read_in, the other CPU's map and write, then a clean drop).
 */
function SetPageUptodate(pfn: number): void {
  if (UNFIX_UPTODATE_CLEAR_ORDER) {
    setPageFlag(pfn, PG_uptodate);
    sp(SP_STEP, pfn); // the window: uptodate, change bit not yet cleared
    injStall(I_STALL_VOLATILE, pfn);
    pageClearDirty(pfn);
    return;
  }
  pageClearDirty(pfn); // RMW under the frame lock, before the flag's seq-cst or: a mapper that sees PG_uptodate writes after it
  setPageFlag(pfn, PG_uptodate);
}

/**
 * Read a page into the cache (page_cache_read + wait): returns it with a reference, or
 * NIL when memory is short even after reclaim.
 */
export function page_cache_read(file: number, index: number, reclaim: () => void): number {
  for (let tries = 0; tries < 4; tries++) {
    const found = find_get_page_nodiscard(file, index);
    if (found !== NONE) {
      // wait_on_page_locked: another CPU may still be reading it in (PG_locked, !PG_uptodate)
      if ((pageFlags(found) & PG_uptodate) === 0) wait_on_page_locked(found);
      if ((pageFlags(found) & PG_uptodate) !== 0) return found;
      if (put_page_testzero(found)) free_page_final(found);
      continue;
    }
    let pfn = alloc_pages(0, false);
    if (pfn === NONE) { reclaim(); pfn = alloc_pages(0, false); }
    if (pfn === NONE) return NONE;
    setPageFlag(pfn, PG_locked);
    if (!add_to_page_cache(pfn, file, index)) {
      clearPageFlag(pfn, PG_locked);
      if (put_page_testzero(pfn)) free_page_final(pfn);
      continue; // raced with another reader: use theirs
    }
    CNT[C.page_cache_reads]++;
    const ver = Atomics.load(V.k, K_DISK_VER + slotOf(file, index));
    hist(pfn, H_READIN, ver);
    if (!kernelWriteStamp(pfn, file, index, ver)) return NONE;
    SetPageUptodate(pfn);
    lru_add(pfn);
    unlock_page(pfn, 2); // end of read I/O: cache + our reference
    return pfn;
  }
  return NONE;
}

/**
 * Write a dirty locked page back: clear_page_dirty_for_io, writeback, end_page_writeback
 * (where the page may become volatile again). Caller holds the page lock and a reference.
 */
export function writeback_locked(pfn: number, file: number, index: number): void {
  if ((pageFlags(pfn) & PG_dirty) === 0) return;
  clearPageFlag(pfn, PG_dirty);
  setPageFlag(pfn, PG_writeback);
  injStall(I_WRITEBACK_DELAY, pfn); // a slow disk: the page stays locked and under writeback
  const ver = kernelReadVersion(pfn, file, index);
  if (ver >= 0) {
    // The disk keeps the newest version: a truncation (which stores its newer version
    // before it waits for our page lock) must not be overwritten by this older data.
    const slot = K_DISK_VER + slotOf(file, index);
    for (let cur = Atomics.load(V.k, slot); ver > cur;) {
      const seen = Atomics.compareExchange(V.k, slot, cur, ver); // CAS: an atomic max
      if (seen === cur) break;
      cur = seen;
    }
    hist(pfn, H_WRITEBACK, ver);
    CNT[C.writebacks]++;
  }
  clearPageFlag(pfn, PG_writeback);
  page_make_volatile(pfn, 3); // end of writeback: cache + caller's reference, page locked -> refused while locked
}

/**
 * The writer side of truncate_count: one truncation of a file at a time, as i_mutex
 * serialises truncate in Linux. Each CPU truncates the indices it owns, so two CPUs may
 * truncate one file at once; with a plain increment the second made the count even again
 * while the first was still unmapping, a fault that read the even count mapped the page
 * behind the first one's unmap pass, and the first removed it from the cache under the
 * new pte (threads soak: "256 faults in a row on one access", a Vz page mapped and in no
 * cache). The CAS from even to odd is the lock (seq-cst: acquire); the increment in
 * truncate_count_end makes it even again (release: the removal is visible first).
 */
function truncate_count_begin(file: number): void {
  const w = K_TRUNC_COUNT + file;
  for (let attempt = 0; ; attempt++) {
    const c = Atomics.load(V.k, w);
    if ((c & 1) === 0 && Atomics.compareExchange(V.k, w, c, c + 1) === c) return;
    spinWait(attempt, w);
  }
}

/** Truncate one page (owner CPU): unmap it everywhere, drop it from the cache, new disk version. */
export function truncate_page(file: number, index: number, newVer: number): void {
  // The new disk content first (i_size): a read-in that starts after our lookup sees it,
  // one that started before is found in the cache and removed below.
  Atomics.store(V.k, K_DISK_VER + slotOf(file, index), newVer);
  const pfn = find_get_page_nodiscard(file, index);
  if (pfn !== NONE) {
    lock_page(pfn);
    if (V.page[pfn * PAGE_WORDS + PG_MAPPING] === file + 1 && V.k[K_CACHE + slotOf(file, index)] === pfn + 1) {
      // truncate_count is a sequence count: odd while a truncation is in progress. A fault
      // retries if it started during one or if the count moved before its pte went in.
      truncate_count_begin(file);
      page_unmap_file(pfn, file, index);
      remove_from_page_cache(pfn, -1);
      Atomics.add(V.k, K_TRUNC_COUNT + file, 1); // truncate_count_end: even again (seq-cst RMW: release)
      clearPageFlag(pfn, PG_dirty); // cancel_dirty_page: truncated data is dropped
    }
    clearPageFlag(pfn, PG_locked);
    if (put_page_testzero(pfn)) free_page_final(pfn);
  }
  CNT[C.truncates]++;
}

