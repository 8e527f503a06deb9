/**
 * kscand, the page ager of RHEL3's 2.4.21 rmap VM: it walks the active pages and, through
 * each page's reverse map, test-and-clears the accessed bit of every pte that maps it. A
 * pte in a highmem page table is reached through kmap_atomic: the CPU's fixmap pte in the
 * kernel table K is pointed at the page-table frame (two 32-bit writes with PAE; CentOS 3.8
 * skips the write when the pte already holds the value), the pte is test-and-cleared through
 * that mapping (2.4: an unconditional locked test_and_clear_bit), and kunmap_atomic clears
 * the fixmap pte again only with HIGHMEM_DEBUG (2.6's default). The walk follows the active
 * list, not virtual or physical addresses (seed 004): here, page-cache pages in a scrambled
 * order, each visited in every task that maps it.
 *
 * The test-and-clear is the host's testClearYoung hook: under --host shadow each step of it
 * is an MMU event (kmap, the fixmap pte, the walk); by default nobody sets accessed bits, and
 * the scan clears them natively.
 */
import { V } from '../core/ctx.js';
import { H } from '../core/hooks.js';
import { CTL_NCPUS, FILE_PAGES, K_CACHE, NVP, pteWordOf } from '../core/layout.js';
import { fileTable } from './pgtable.js';
import { ptlLock, ptlUnlock } from './rmap.js';

export interface KscandConfig {
  /** ptes test-and-cleared per pass. */
  batch: number;
  /** fixmap pte writes per kmap_atomic: 1, or 2 with PAE. */
  halves: number;
  /** kunmap_atomic clears the fixmap pte (HIGHMEM_DEBUG). */
  unmapClear: boolean;
  /** kmap_atomic skips the write when the fixmap pte already holds the value (CentOS 3.8). */
  skipSame: boolean;
}

const SCATTER = 389; // odd: visits every page-cache slot once per NVP steps, out of address order

export class Kscand {
  private cursor = 0;
  private readonly ncpus: number;
  constructor(private readonly cfg: KscandConfig) {
    this.ncpus = V.hdr[CTL_NCPUS];
  }

  /** One pass: up to cfg.batch ptes of cached pages. Returns how many were young. */
  scan(): number {
    let scanned = 0;
    let young = 0;
    for (let tries = 0; tries < 8 * this.cfg.batch && scanned < this.cfg.batch; tries++) {
      const slot = Math.imul(this.cursor++, SCATTER) & (NVP - 1);
      if (Atomics.load(V.k, K_CACHE + slot) === 0) continue; // not cached: not on the active list
      const file = (slot / FILE_PAGES) | 0;
      const index = slot - file * FILE_PAGES;
      for (let t = 0; t < this.ncpus && scanned < this.cfg.batch; t++) {
        const r = this.referenced(t, file, index);
        if (r >= 0) { scanned++; young += r; }
      }
    }
    return young;
  }

  /** page_referenced_one: test-and-clear task t's pte of (file, index); -1 if it maps nothing. */
  private referenced(t: number, file: number, index: number): number {
    const table = fileTable(t, file);
    const pi = pteWordOf(table, index);
    ptlLock(t);
    let r = -1;
    if (Atomics.load(V.k, pi) !== 0) {
      r = H.testClearYoung(table, index, pi, this.cfg.halves, this.cfg.skipSame, this.cfg.unmapClear);
    }
    ptlUnlock(t);
    return r;
  }
}
