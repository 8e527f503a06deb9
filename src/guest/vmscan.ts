/**
 * Guest reclaim under guest memory pressure (shrink_inactive_list + shrink_page_list):
 * isolate pages from the LRU tail, unmap them through rmap, write dirty ones back, and
 * free clean ones from the page cache.
 */
import { C } from '../core/counters.js';
import { CNT, V } from '../core/ctx.js';
import { PAGE_WORDS, PG_INDEX, PG_MAPPING } from '../core/layout.js';
import { PG_locked } from '../core/page_flags.js';
import { put_page_testzero } from './page_alloc.js';
import { isolate_lru_pages, lru_putback, remove_from_page_cache, writeback_locked } from './filemap.js';
import { clearPageFlag, free_page_final, trylock_page, unlock_page } from './page_states.js';
import { page_unmap_all } from './rmap.js';

const SWAP_CLUSTER_MAX = 32;
const isolated = new Int32Array(SWAP_CLUSTER_MAX);

export function shrink_page_cache(): void {
  const n = isolate_lru_pages(SWAP_CLUSTER_MAX, isolated);
  for (let k = 0; k < n; k++) {
    const pfn = isolated[k];
    const mapping = V.page[pfn * PAGE_WORDS + PG_MAPPING];
    if (mapping === 0 || !trylock_page(pfn)) { putback(pfn); continue; }
    page_unmap_all(pfn);
    writeback_locked(pfn, mapping - 1, V.page[pfn * PAGE_WORDS + PG_INDEX]);
    // Reclaimable: only the cache and our isolation reference are left.
    if (V.page[pfn * PAGE_WORDS + PG_MAPPING] !== 0 && remove_from_page_cache(pfn, 2)) {
      clearPageFlag(pfn, PG_locked);
      CNT[C.vmscan_reclaimed]++;
      if (put_page_testzero(pfn)) free_page_final(pfn);
      continue;
    }
    // keep: unlock_page tries make_volatile (offset 2: the cache and our isolation
    // reference), which must refuse while the page is off the LRU
    unlock_page(pfn, 2);
    putback(pfn);
  }
}

function putback(pfn: number): void {
  lru_putback(pfn);
  if (put_page_testzero(pfn)) free_page_final(pfn);
}
