/**
 * What a host page-out was worth (xenpaging_kvm.md 3.1): the machine knows what the guest
 * kernel knows, so it can tell a host write of a frame the guest did not need kept - a
 * free page, or a clean page-cache page the guest can read back from its own disk.
 * Accounting only: no host decision reads this.
 */
import { C } from './counters.js';
import { CNT, V } from './ctx.js';
import { PAGE_WORDS, PG_COUNT, PG_FLAGS, PG_MAPPING } from './layout.js';
import { PG_anon, PG_dirty, PG_writeback } from './page_flags.js';

export const WASTE_NONE = 0;
export const WASTE_FREE = 1;         // free in the guest (buddy or a per-CPU list): _count == -1
export const WASTE_CLEAN_CACHE = 2;  // a page-cache page with no dirty state anywhere (PG_dirty, writeback, change bit)

/** Classify frame `pfn` at the moment the host writes it; `changeBit` is the storage key's change bit then. */
export function frameWaste(pfn: number, changeBit: number): number {
  const b = pfn * PAGE_WORDS;
  if (V.page[b + PG_COUNT] === -1) return WASTE_FREE;
  const f = V.page[b + PG_FLAGS];
  if (V.page[b + PG_MAPPING] > 0 && (f & (PG_anon | PG_dirty | PG_writeback)) === 0 && changeBit === 0) return WASTE_CLEAN_CACHE;
  return WASTE_NONE;
}

/** Count a host page-out's waste in this participant's counters. */
export function countWaste(pfn: number, changeBit: number): void {
  const k = frameWaste(pfn, changeBit);
  if (k === WASTE_FREE) CNT[C.wasted_writes_free]++;
  else if (k === WASTE_CLEAN_CACHE) CNT[C.wasted_writes_clean_cache]++;
}
