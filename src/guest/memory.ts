/**
 * Tasks, mappings and faults: each guest CPU runs one task whose vmas map files (shared,
 * read-only or writable). ptes live in shared memory (K_PTE) under the task's pte lock;
 * the discard path of another CPU clears them through rmap. A user access walks the pte
 * and goes through the hardware access path; a discard fault is handled and the access
 * retried, taking a normal fault that reads the page again.
 */
import { describePage } from '../core/assert.js';
import * as TRACE from '../core/trace.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const { T_COW_B, T_COW_E, T_FAULT_B, T_FAULT_E, T_MSYNC_B, T_MSYNC_E, tr } = TRACE;
import * as HISTORY from '../core/history.js';
const { H_COW, H_MAP, H_WRITE, describeHistory, hist } = HISTORY;
import * as COUNTERS from '../core/counters.js';
const { C } = COUNTERS;
import * as COVERAGE from '../core/coverage.js';
const { B_COW_SOURCE_DISCARDED, B_FAULT_HANDLED, B_FAULT_PTE_GONE, B_MAP_RECHECK_DISCARDED, covBranch } = COVERAGE;
import { CNT, ME, V } from '../core/ctx.js';
import * as HOOKS from '../core/hooks.js';
const { H } = HOOKS;
import * as HW from '../core/hw.js';
const { ACC_ADDRESSING, ACC_DISCARD_FAULT, ACC_FAULT } = HW;
import * as LAYOUT from '../core/layout.js';
const {
  ANON_PAGES, CTL_UNFIX, FILE_PAGES, NFILES, K_APTE, K_CUR_VER, K_MLOCKED, K_TRUNC_COUNT, PAGE_INTS, PAGE_WORDS,
  PG_COUNT, PG_INDEX, PG_MAPCOUNT, PG_MAPPING, PTE_AD, PTE_PFN_MASK, PTE_WRITE, VMA_END, VMA_FLAGS, VMA_START,
} = LAYOUT;
import { O, report } from '../core/oracles.js';
import * as FLAGS from '../core/page_flags.js';
const { PG_anon, PG_discarded, PG_locked } = FLAGS;
import * as SCHED from '../core/sched.js';
import { STEPS } from '../core/sched.js';
const { SP_FAULT, sp, spinWait } = SCHED;
import { alloc_pages, bug, put_page_testzero } from './page_alloc.js';
import {
  FILE_MAGIC, find_get_page, find_get_page_dirty, page_cache_read, slotOf, stampCheck, storeFileStamp, writeback_locked,
} from './filemap.js';
import {
  clearPageFlag, do_discard_fault, free_page_final, wait_on_page_locked, page_discard, page_make_stable, setPageFlag, lock_page, page_check_writable, page_make_volatile, pageFlags, unfixedIn,
} from './page_states.js';
import { page_add_file_rmap, page_remove_rmap, ptlLock, ptlUnlock, pteIdx, transfer_dirty, vmaIdx } from './rmap.js';
import { shrink_page_cache } from './vmscan.js';
import { anonTable, anon_pte_alloc, fileTable, pte_alloc, pte_free, set_pte } from './pgtable.js';

export const ACCESS_OK = 0;
export const ACCESS_FAILED = 1;   // violation reported or no memory

/** mmap a range of a file into this CPU's task. */
export function do_mmap(file: number, start: number, end: number, writable: boolean, priv = false): void {
  const vi = vmaIdx(ME, file);
  ptlLock(ME);
  pte_alloc(fileTable(ME, file)); // the vma's page table gets its frame (a host that wants table frames)
  V.k[vi + VMA_START] = start;
  V.k[vi + VMA_END] = end;
  Atomics.store(V.k, vi + VMA_FLAGS, 1 | (writable ? 2 : 0) | (priv ? 4 : 0));
  ptlUnlock(ME);
}

export function vmaMapped(file: number): boolean {
  return (Atomics.load(V.k, vmaIdx(ME, file) + VMA_FLAGS) & 1) !== 0;
}

export function vmaCovers(file: number, index: number, write: boolean): boolean {
  const vi = vmaIdx(ME, file);
  const f = V.k[vi + VMA_FLAGS];
  return (f & 1) !== 0 && (!write || (f & 2) !== 0) && index >= V.k[vi + VMA_START] && index < V.k[vi + VMA_END];
}

/** page_cache_release of a pte's reference: try make_volatile first (offset 2), then put. */
function page_cache_release(pfn: number): void {
  page_make_volatile(pfn, 2);
  if (put_page_testzero(pfn)) free_page_final(pfn);
}

/*
 * The minor-fault optimisation (hinting.md 2.10; v2, v5-v7), on by default: faults map
 * cache pages without stabilising them (find_get_page_nodiscard; the first access of a
 * discarded one takes the discard fault), a pte's reference is dropped at unmap without a
 * make_volatile attempt (the page is as volatile as it was when mapped: V, or P while it
 * was writable), and msync writes back the dirty pages it finds (the tagged lookup of
 * filemap_fdatawrite) instead of looking up and stabilising every page of the range. The
 * price is R12 (discard-vs-map): the fault rechecks PG_discarded under the pte lock.
 * Workload option minor_fault_opt=0 is the older model: every unmap releases with
 * make_volatile and msync stabilises (and then re-volatilises) every cached page of its
 * range; it stays so that the ESSA traffic of the two can be compared.
 */
let minorFaultOpt = true;

/** Workload option minor_fault_opt (1: the optimisation, the default; 0: the older model). */
export function setMinorFaultOpt(on: boolean): void {
  minorFaultOpt = on;
}

/** Drop an unmapped pte's reference: without make_volatile under the minor-fault optimisation. */
function pte_page_release(pfn: number): void {
  if (!minorFaultOpt) page_make_volatile(pfn, 2);
  if (put_page_testzero(pfn)) free_page_final(pfn);
}

/** munmap the whole vma of a file: zap every pte. */
export function do_munmap(file: number): void {
  const vi = vmaIdx(ME, file);
  ptlLock(ME);
  const start = V.k[vi + VMA_START];
  const end = V.k[vi + VMA_END];
  for (let i = start; i < end; i++) {
    const pi = pteIdx(ME, file, i);
    const pte = Atomics.load(V.k, pi);
    if (pte === 0) continue;
    const pfn = (pte & PTE_PFN_MASK) - 1;
    set_pte(pi, 0);
    page_remove_rmap(pfn);
    pte_page_release(pfn);
  }
  pte_free(fileTable(ME, file)); // free_pgtables: the host only forgets the frame
  const wasLocked = (V.k[vi + VMA_FLAGS] & VMA_MLOCKED) !== 0;
  Atomics.store(V.k, vi + VMA_FLAGS, 0);
  ptlUnlock(ME);
  if (wasLocked) Atomics.sub(V.k, K_MLOCKED + file, 1); // after the ptes are gone: pages may become volatile again at release
  CNT[C.munmaps]++;
}

const VMA_MLOCKED = 8; // VM_LOCKED on this task's vma of the file

/**
 * mlock this task's vma of a file. The blocking condition comes first (mapping->mlocked,
 * here a count of mlocked vmas: make_volatile refuses every page of the file while it is
 * not 0), then every cached page of the range is made stable (make_pages_present); a page
 * the host discarded meanwhile goes through the discard path and the next access reads it
 * in again (v7). The refusals show as make_volatile_refused_mlocked.
 */
export function do_mlock(file: number): void {
  const vi = vmaIdx(ME, file);
  const flags = V.k[vi + VMA_FLAGS];
  if ((flags & 1) === 0 || (flags & VMA_MLOCKED) !== 0) return;
  Atomics.store(V.k, vi + VMA_FLAGS, flags | VMA_MLOCKED);
  Atomics.add(V.k, K_MLOCKED + file, 1); // seq-cst RMW: a make_volatile that checks after this refuses
  for (let i = V.k[vi + VMA_START]; i < V.k[vi + VMA_END]; i++) {
    const pfn = find_get_page(file, i); // make_stable, or discard and return NONE
    if (pfn < 0) continue;
    if (put_page_testzero(pfn)) free_page_final(pfn);
  }
}

/** A page fault on (file, index): map the cache page, reading it in if needed. */
function handle_mm_fault(file: number, index: number, write: boolean): boolean {
  tr(T_FAULT_B, (file << 16) | index);
  const ok = __handle_mm_fault(file, index, write);
  tr(T_FAULT_E, ok ? 1 : 0);
  return ok;
}

function __handle_mm_fault(file: number, index: number, write: boolean): boolean {
  sp(SP_FAULT, index);
  CNT[C.faults]++;
  // mapping->truncate_count before the lookup; odd while a truncation runs: wait for it
  let seq = Atomics.load(V.k, K_TRUNC_COUNT + file);
  for (let attempt = 0; (seq & 1) !== 0; attempt++) {
    spinWait(attempt, K_TRUNC_COUNT + file);
    seq = Atomics.load(V.k, K_TRUNC_COUNT + file);
  }
  const pfn = page_cache_read(file, index, shrink_page_cache);
  if (pfn < 0) return false;
  ptlLock(ME);
  const pi = pteIdx(ME, file, index);
  const cur = Atomics.load(V.k, pi);
  if (!vmaCovers(file, index, write)) { ptlUnlock(ME); page_cache_release(pfn); return false; }
  const gone = Atomics.load(V.k, K_TRUNC_COUNT + file) !== seq || // truncated meanwhile
    Atomics.load(V.page, pfn * PAGE_WORDS + PG_MAPPING) !== file + 1;
  if (gone || (!UNFIX_DISCARD_VS_MAP && (pageFlags(pfn) & PG_discarded) !== 0)) {
    if ((pageFlags(pfn) & PG_discarded) !== 0) covBranch(B_MAP_RECHECK_DISCARDED);
    ptlUnlock(ME); // being removed or discarded: wait for that to finish, then retry
    wait_on_page_locked(pfn);
    if (put_page_testzero(pfn)) free_page_final(pfn);
    return true;
  }
  if (cur !== 0) {
    if ((cur & PTE_PFN_MASK) === pfn + 1) {
      if (write) { page_check_writable(pfn); set_pte(pi, cur | PTE_WRITE); }
      ptlUnlock(ME);
      if (put_page_testzero(pfn)) free_page_final(pfn);
      return true;
    }
    // a stale pte to another page: replace it
    const old = (cur & PTE_PFN_MASK) - 1;
    set_pte(pi, 0);
    page_remove_rmap(old);
    pte_page_release(old);
  }
  page_add_file_rmap(pfn);
  hist(pfn, H_MAP, (ME << 16) | (write ? 1 : 0));
  // After the mapcount went up: a concurrent last page_remove_rmap can no longer clear
  // PG_writable underneath this writable pte.
  if (write) page_check_writable(pfn);
  set_pte(pi, (pfn + 1) | (write ? PTE_WRITE : 0)); // our reference becomes the pte's
  ptlUnlock(ME);
  return true;
}

const MAX_REFAULTS = 256;
const lastWritePfn = new Int32Array(NFILES * FILE_PAGES); // diagnostics: the frame this CPU last wrote each file page into

/** Per-machine state of this CPU's memory code (a reused worker starts afresh). */
export function memoryInit(): void {
  lastWritePfn.fill(0);
  minorFaultOpt = true; // a workload that wants the older model sets it when it configures
  const mask = V.hdr[CTL_UNFIX];
  UNFIX_DISCARD_VS_MAP = unfixedIn(mask, 'discard-vs-map');
  UNFIX_MSYNC_REVOLATILE = unfixedIn(mask, 'msync-revolatile');
}
// Fix toggles of this module, read once per machine (memoryInit).
let UNFIX_DISCARD_VS_MAP = false;
let UNFIX_MSYNC_REVOLATILE = false;

/**
 * A user access through this task's mapping. Reads check the stamp; `minVer` is the
 * version this CPU wrote last (read-your-writes). Writes store version `writeVer`.
 * Returns the version read (or written), or -1.
 */
export function user_access(file: number, index: number, write: boolean, writeVer: number, minVer: number): number {
  let lastPfn = -1; // diagnostics for the MAX_REFAULTS report: the frame the last attempt met
  let lastWhy = 0;
  for (let attempt = 0; attempt < MAX_REFAULTS; attempt++) {
    if (attempt >= 8) spinWait(attempt * 8); // another CPU is mid-discard or mid-removal: let it run
    const pi = pteIdx(ME, file, index);
    const pte = H.translate(pi, write); // the MMU's translation (shadow: TLB, sptes or an exit)
    if (pte !== 0) lastPfn = (pte & PTE_PFN_MASK) - 1;
    if (pte === 0 || (write && (pte & PTE_WRITE) === 0)) {
      lastWhy = pte === 0 ? 1 : 2;
      if (write && vmaPrivate(file)) { if (!do_cow_fault(file, index)) return -1; continue; }
      if (!handle_mm_fault(file, index, write && !vmaPrivate(file))) return -1;
      continue;
    }
    const pfn = (pte & PTE_PFN_MASK) - 1;
    const r = H.accessBegin(pfn, write);
    lastWhy = 3 + r;
    if (r === ACC_DISCARD_FAULT) {
      // The hardware raises the discard fault only through a valid translation: if the
      // pte went away meanwhile, the access walks the new one instead.
      if (((Atomics.load(V.k, pi) ^ pte) & ~PTE_AD) === 0) { covBranch(B_FAULT_HANDLED); do_discard_fault(pfn); } else covBranch(B_FAULT_PTE_GONE);
      CNT[C.discard_refaults]++;
      continue;
    }
    if (r === ACC_ADDRESSING) {
      if (((Atomics.load(V.k, pi) ^ pte) & ~PTE_AD) !== 0) continue; // the translation changed meanwhile: walk it again
      report(V, O.use_after_free, pfn, ME, STEPS, `addressing exception: user access to file ${file} index ${index} hit an unused page; ${describePage(V, pfn)}`);
      return -1;
    }
    if (r >= ACC_FAULT) return -1;
    if (((Atomics.load(V.k, pi) ^ pte) & ~PTE_AD) !== 0) { H.accessEnd(pfn); continue; } // unmapped meanwhile (A/D bits aside): walk again
    const b = pfn * PAGE_INTS;
    if (write) {
      hist(pfn, H_WRITE, writeVer);
      lastWritePfn[slotOf(file, index)] = pfn;
      storeFileStamp(pfn, file, index, writeVer);
      H.accessEnd(pfn);
      return writeVer;
    }
    const ok = V.frame[b] === (FILE_MAGIC | file) && V.frame[b + 1] === index &&
      V.frame[b + PAGE_INTS - 1] === stampCheck(file, index, V.frame[b + 2]);
    const ver = V.frame[b + 2];
    if ((ver & PRIVATE_VER) !== 0 || minVer >= PRIVATE_VER) { // a private copy: exactly what this task wrote
      H.accessEnd(pfn);
      CNT[C.file_reads_checked]++;
      if (!ok || ver !== minVer) {
        report(V, O.integrity, pfn, ME, STEPS, `private copy of file ${file} index ${index}: read ${ok ? `version ${ver & ~PRIVATE_VER}${ver & PRIVATE_VER ? ' (private)' : ' (the file page)'}` : 'garbage'}, expected private version ${minVer & ~PRIVATE_VER}; ${describePage(V, pfn)}`);
        return -1;
      }
      return ver;
    }
    const found = `${(V.frame[b] >>> 0).toString(16)}/${V.frame[b + 1]}/${ver}`;
    H.accessEnd(pfn);
    CNT[C.file_reads_checked]++;
    const cur = Atomics.load(V.k, K_CUR_VER + slotOf(file, index));
    if (!ok || ver < minVer || ver > cur) {
      report(V, O.integrity, pfn, ME, STEPS, `file ${file} index ${index}: read ${ok ? `version ${ver}` : `garbage ${found}`}, expected a version in ${minVer}..${cur}${ok && ver < minVer ? ' (a write was lost)' : ''}; ${describePage(V, pfn)};${describeHistory(V, pfn)}${ok && ver < minVer ? `; this CPU's last write went to pfn ${lastWritePfn[slotOf(file, index)]}:${describeHistory(V, lastWritePfn[slotOf(file, index)])}` : ''}`);
      return -1;
    }
    return ver;
  }
  const why = ['', 'no pte: page fault', 'read-only pte: write fault', 'access ok but the pte changed meanwhile', 'zero fill but the pte changed meanwhile', 'page-in but the pte changed meanwhile', 'discard fault', 'addressing exception, the pte changed meanwhile'][lastWhy] ?? String(lastWhy);
  report(V, O.bug_on, lastPfn, ME, STEPS, `file ${file} index ${index}: ${MAX_REFAULTS} faults in a row on one ${write ? 'write' : 'read'} (a mapped page that is in no cache?); last attempt: ${why}${lastPfn >= 0 ? `; pfn ${lastPfn}: ${describePage(V, lastPfn)};${describeHistory(V, lastPfn)}` : ''}`);
  return -1;
}

/** msync(MS_SYNC) of this task's whole vma of a file: dirty transfer, then writeback. */
export function do_msync(file: number): void {
  tr(T_MSYNC_B, file);
  __do_msync(file);
  tr(T_MSYNC_E, file);
}

function __do_msync(file: number): void {
  CNT[C.msyncs]++;
  const vi = vmaIdx(ME, file);
  ptlLock(ME);
  const start = V.k[vi + VMA_START];
  const end = V.k[vi + VMA_END];
  for (let i = start; i < end; i++) {
    const pte = Atomics.load(V.k, pteIdx(ME, file, i));
    if (pte === 0) continue;
    const pfn = (pte & PTE_PFN_MASK) - 1;
    // The extra reference keeps make_volatile away between make_stable and set_page_dirty.
    const extra = !UNFIX_MSYNC_REVOLATILE;
    if (extra) Atomics.add(V.page, pfn * PAGE_WORDS + PG_COUNT, 1); // get_page
    transfer_dirty(pfn);
    if (extra && put_page_testzero(pfn)) bug(pfn, 'msync: dropped the last reference');
  }
  ptlUnlock(ME);
  for (let i = start; i < end; i++) {
    const pfn = minorFaultOpt ? find_get_page_dirty(file, i) : find_get_page(file, i);
    if (pfn < 0) continue;
    lock_page(pfn);
    writeback_locked(pfn, file, i);
    clearPageFlag(pfn, PG_locked); // unlock without make_volatile: the release below tries it
    page_cache_release(pfn);
  }
}

// ------------------------------------------------------------------ private mappings and anonymous memory

export const PRIVATE_VER = 0x4000_0000; // versions of private (COW) copies carry this bit

export function vmaPrivate(file: number): boolean {
  return (Atomics.load(V.k, vmaIdx(ME, file) + VMA_FLAGS) & 4) !== 0;
}

/** Copy a page's first stamp words and check word (a kernel copy, each side under its frame lock). */
function copy_page(dst: number, src: number): boolean {
  const r = H.accessBegin(src, false);
  if (r >= ACC_FAULT) { report(V, O.bug_on, src, ME, STEPS, `copy_page: source not accessible (${r}); ${describePage(V, src)}`); return false; }
  const s = src * PAGE_INTS;
  const a = V.frame[s], b1 = V.frame[s + 1], c = V.frame[s + 2], d = V.frame[s + PAGE_INTS - 1];
  H.accessEnd(src);
  const w = H.accessBegin(dst, true);
  if (w >= ACC_FAULT) { report(V, O.use_after_free, dst, ME, STEPS, `copy_page: new page not accessible (${w}); ${describePage(V, dst)}`); return false; }
  const t = dst * PAGE_INTS;
  V.frame[t] = a; V.frame[t + 1] = b1; V.frame[t + 2] = c; V.frame[t + PAGE_INTS - 1] = d;
  H.accessEnd(dst);
  return true;
}

/** A fresh anonymous page (do_anonymous_page / the COW copy target), with our reference. */
function alloc_anon_page(index: number): number {
  let pfn = alloc_pages(0, false);
  if (pfn < 0) { shrink_page_cache(); pfn = alloc_pages(0, false); }
  if (pfn < 0) return -1;
  setPageFlag(pfn, PG_anon);
  V.page[pfn * PAGE_WORDS + PG_INDEX] = index;
  return pfn;
}

/**
 * Write fault in a private file mapping: copy on write. The source is the page cache
 * page, made stable first (the early COW of do_no_page); the copy is an anonymous page
 * mapped writable in this task only.
 */
function do_cow_fault(file: number, index: number): boolean {
  tr(T_COW_B, (file << 16) | index);
  const ok = __do_cow_fault(file, index);
  tr(T_COW_E, ok ? 1 : 0);
  return ok;
}

function __do_cow_fault(file: number, index: number): boolean {
  CNT[C.cow_faults]++;
  let src = -1;
  for (let tries = 0; tries < 16 && src < 0; tries++) {
    const p = page_cache_read(file, index, shrink_page_cache);
    if (p < 0) return false;
    if (page_make_stable(p)) src = p; else { covBranch(B_COW_SOURCE_DISCARDED); page_discard(p); }
  }
  if (src < 0) return false;
  const pfn = alloc_anon_page(index);
  if (pfn < 0) { page_cache_release(src); return false; }
  const ok = copy_page(pfn, src);
  page_cache_release(src);
  if (!ok) return false;
  ptlLock(ME);
  const pi = pteIdx(ME, file, index);
  const cur = Atomics.load(V.k, pi);
  if (cur !== 0) {
    const old = (cur & PTE_PFN_MASK) - 1;
    set_pte(pi, 0);
    page_remove_rmap(old);
    pte_page_release(old);
  }
  Atomics.add(V.page, pfn * PAGE_WORDS + PG_MAPCOUNT, 1); // page_add_anon_rmap
  hist(pfn, H_COW, src);
  set_pte(pi, (pfn + 1) | PTE_WRITE);
  ptlUnlock(ME);
  return true;
}

export { do_cow_fault };

/** Anonymous memory of this task: `vpage` in 0..ANON_PAGES. Returns the stamp read or written, or -1. */
export function anon_access(vpage: number, write: boolean, stamp: number): number {
  const pi = K_APTE + ME * ANON_PAGES + vpage;
  let pte = H.translate(pi, write); // only this task maps its anonymous pages
  if (pte === 0) {
    if (!write) return 0; // never touched: reads as zero without a page (the zero page)
    CNT[C.faults]++;
    const pfn = alloc_anon_page(vpage);
    if (pfn < 0) return -1;
    Atomics.add(V.page, pfn * PAGE_WORDS + PG_MAPCOUNT, 1);
    anon_pte_alloc();
    pte = (pfn + 1) | PTE_WRITE;
    set_pte(pi, pte);
    pte = H.translate(pi, write); // the retried access (a plain load reads back the pte just stored)
  }
  const pfn = (pte & PTE_PFN_MASK) - 1;
  const r = H.accessBegin(pfn, write);
  if (r >= ACC_FAULT) {
    report(V, r === ACC_ADDRESSING ? O.use_after_free : O.bug_on, pfn, ME, STEPS, `anonymous page ${vpage} of cpu ${ME}: ${r === ACC_ADDRESSING ? 'addressing exception' : 'discard fault'}; ${describePage(V, pfn)}`);
    return -1;
  }
  const b = pfn * PAGE_INTS;
  let out = stamp;
  if (write) { V.frame[b] = ANON_MAGIC | ME; V.frame[b + 1] = vpage; V.frame[b + 2] = stamp; }
  else {
    out = V.frame[b] === (ANON_MAGIC | ME) && V.frame[b + 1] === vpage ? V.frame[b + 2] : -2;
  }
  H.accessEnd(pfn);
  return out;
}
const ANON_MAGIC = 0xa0a0_0000;

/** munmap of the whole anonymous region: every page goes back. */
export function anon_unmap_all(): void {
  for (let v = 0; v < ANON_PAGES; v++) {
    const pi = K_APTE + ME * ANON_PAGES + v;
    const pte = Atomics.load(V.k, pi);
    if (pte === 0) continue;
    const pfn = (pte & PTE_PFN_MASK) - 1;
    set_pte(pi, 0);
    Atomics.sub(V.page, pfn * PAGE_WORDS + PG_MAPCOUNT, 1);
    if (put_page_testzero(pfn)) free_page_final(pfn);
  }
  pte_free(anonTable(ME));
}
