/**
 * Page tables of the guest: the one entry point for pte stores (set_pte) and, with the
 * shadow host, the page-table frames. With the ESSA and Xen hosts a task's ptes are words
 * of the kernel area and nothing else; with --host shadow every table also occupies a guest
 * frame from the buddy (pte_alloc_one at mmap or first anonymous fault, pte_free at munmap),
 * which the host shadows and write-protects, and every pte store goes through the MMU
 * (the host's setPte hook), which emulates it while the frame is write-protected.
 *
 * Table ids (layout.ts, shadow area): task t's table of file f is t * NFILES + f, its
 * anonymous table T_ANON0 + t. A table's frame is registered and dropped under the task's
 * pte lock (the anonymous table by its owner CPU, the only one that touches it).
 */
import { ME, V } from '../core/ctx.js';
import * as HOOKS from '../core/hooks.js';
const { H } = HOOKS;
import * as LAYOUT from '../core/layout.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const { NFILES, PAGE_WORDS, PG_INDEX, T_ANON0 } = LAYOUT;
import { __free_pages, alloc_pages } from './page_alloc.js';

/** Store a pte (the guest holds the task's pte lock): the host's setPte hook. */
export function set_pte(pi: number, val: number): void {
  H.setPte(pi, val);
}

export function fileTable(task: number, file: number): number {
  return task * NFILES + file;
}

export function anonTable(task: number): number {
  return T_ANON0 + task;
}

/** pte_alloc_one (a host that wants table frames): give `table` a frame unless it has one. */
export function pte_alloc(table: number): void {
  if (!H.wantsTableFrames) return;
  if (H.tableFrame(table) >= 0) return;
  const pfn = alloc_pages(0, false);
  if (pfn < 0) { H.tableFrameAllocFailed(); return; } // the table stays frameless: the MMU cannot shadow it
  V.page[pfn * PAGE_WORDS + PG_INDEX] = table;
  H.tableFrameAttach(table, pfn); // before the first pte store: the MMU finds the frame through it
}

/**
 * pte_free (a host that wants table frames): the table is empty; its frame goes back to the
 * allocator. The host is only asked to forget the frame: under --host shadow a shadow page
 * it still keeps for the frame stays until flooded, unshadowed by a user write, or recycled (K5).
 */
export function pte_free(table: number): void {
  if (!H.wantsTableFrames) return;
  const pfn = H.tableFrameDetach(table);
  if (pfn < 0) return;
  __free_pages(pfn, 0);
}

/** This CPU's own anonymous table, allocated at its first anonymous fault. */
export function anon_pte_alloc(): void {
  pte_alloc(anonTable(ME));
}
