/**
 * VM_BUG_ON_PAGE-style helpers: describe a page's full state (struct page and host
 * state word) for violation messages and `dump page`.
 */
import {
  HS_CHANGE, HS_LOCK, HS_REF, HS_STATE_MASK, PAGE_WORDS, PG_COUNT, PG_FLAGS, PG_GEN, PG_INDEX,
  PG_LRU_NEXT, PG_LRU_PREV, PG_MAPCOUNT, PG_MAPPING, PG_OWNER, PG_PRIVATE, type Views,
} from './layout.js';
import { flagString } from './page_flags.js';
import { stateName } from './hw.js';

export function describePage(v: Views, pfn: number): string {
  if (pfn < 0 || pfn >= v.nframes) return `pfn ${pfn} (out of range)`;
  const b = pfn * PAGE_WORDS;
  const p = v.page;
  const hs = Atomics.load(v.hs, pfn);
  const hsBits = [(hs & HS_CHANGE) ? 'C' : '', (hs & HS_REF) ? 'R' : '', (hs & HS_LOCK) ? 'L' : ''].join('');
  return `pfn ${pfn}: flags=${flagString(p[b + PG_FLAGS])} _count=${p[b + PG_COUNT]} _mapcount=${p[b + PG_MAPCOUNT]}` +
    ` mapping=${p[b + PG_MAPPING]} index=${p[b + PG_INDEX]} private=${p[b + PG_PRIVATE]}` +
    ` lru=${p[b + PG_LRU_PREV]}<>${p[b + PG_LRU_NEXT]} gen=${p[b + PG_GEN]} owner=${p[b + PG_OWNER]}` +
    ` host=${stateName(hs & HS_STATE_MASK)}${hsBits ? '(' + hsBits + ')' : ''}`;
}

export interface PageDump {
  pfn: number; flags: string; count: number; mapcount: number; mapping: number; index: number;
  private: number; gen: number; owner: number; host_state: string; change: boolean; ref: boolean;
}

export function dumpPage(v: Views, pfn: number): PageDump {
  const b = pfn * PAGE_WORDS;
  const p = v.page;
  const hs = Atomics.load(v.hs, pfn);
  return {
    pfn, flags: flagString(p[b + PG_FLAGS]), count: p[b + PG_COUNT], mapcount: p[b + PG_MAPCOUNT],
    mapping: p[b + PG_MAPPING], index: p[b + PG_INDEX], private: p[b + PG_PRIVATE], gen: p[b + PG_GEN],
    owner: p[b + PG_OWNER], host_state: stateName(hs & HS_STATE_MASK), change: (hs & HS_CHANGE) !== 0,
    ref: (hs & HS_REF) !== 0,
  };
}
