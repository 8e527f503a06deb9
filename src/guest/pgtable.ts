/**
 * Page tables of the guest: the one entry point for pte stores (set_pte) and, with the
 * shadow host, the page-table frames. With the ESSA and Xen hosts a task's ptes are words
 * of the kernel area and nothing else; with --host shadow every table also occupies a guest
 * frame from the buddy (pte_alloc_one at mmap or first anonymous fault, pte_free at munmap),
 * which the host shadows and write-protects, and every pte store goes through the MMU
 * (shadow.ts), which emulates it while the frame is write-protected.
 *
 * Table ids (layout.ts, shadow area): task t's table of file f is t * NFILES + f, its
 * anonymous table T_ANON0 + t. A table's frame is registered and dropped under the task's
 * pte lock (the anonymous table by its owner CPU, the only one that touches it).
 */
import { ME, SHADOW, V } from '../core/ctx.js';
import { NFILES, PAGE_WORDS, PG_INDEX, SH_TABLE_GFN, T_ANON0 } from '../core/layout.js';
import { shPteWrite } from '../hosts/shadow/shadow.js';
import { SC, SCNT, SV } from '../hosts/shadow/shadow_views.js';
import { __free_pages, alloc_pages } from './page_alloc.js';

/** Store a pte (the guest holds the task's pte lock): the one mode test of the default path. */
export function set_pte(pi: number, val: number): void {
  if (SHADOW) shPteWrite(pi, val); else Atomics.store(V.k, pi, val);
}

export function fileTable(task: number, file: number): number {
  return task * NFILES + file;
}

export function anonTable(task: number): number {
  return T_ANON0 + task;
}

/** pte_alloc_one (--host shadow): give `table` a frame unless it has one. */
export function pte_alloc(table: number): void {
  if (Atomics.load(SV.s, SH_TABLE_GFN + table) !== 0) return;
  const pfn = alloc_pages(0, false);
  if (pfn < 0) { SCNT[SC.pgtable_alloc_failures]++; return; } // the table stays frameless: the MMU cannot shadow it
  V.page[pfn * PAGE_WORDS + PG_INDEX] = table;
  // Both words before the first pte store: the MMU finds the frame through SH_TABLE_GFN.
  Atomics.store(SV.gfnTable, pfn, table + 1);
  Atomics.store(SV.s, SH_TABLE_GFN + table, pfn + 1);
  SCNT[SC.pgtable_allocs]++;
}

/**
 * pte_free (--host shadow): the table is empty; its frame goes back to the allocator. The
 * host is not told: a shadow page it still keeps for the frame stays until flooded,
 * unshadowed by a user write, or recycled (K5).
 */
export function pte_free(table: number): void {
  const pfn = Atomics.load(SV.s, SH_TABLE_GFN + table) - 1;
  if (pfn < 0) return;
  Atomics.store(SV.s, SH_TABLE_GFN + table, 0);
  Atomics.store(SV.gfnTable, pfn, 0);
  __free_pages(pfn, 0);
  SCNT[SC.pgtable_frees]++;
}

/** This CPU's own anonymous table (--host shadow), allocated at its first anonymous fault. */
export function anon_pte_alloc(): void {
  if (SHADOW) pte_alloc(anonTable(ME));
}
