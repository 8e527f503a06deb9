/**
 * End-of-run oracles, run by the main thread after every CPU has stopped: buddy
 * consistency (lists, alignment, flags, counts, host state of free pages) and the leak
 * oracle (every frame is free in the buddy, on a pcp list of any order, or held by a task).
 */
import { hostOf } from '../hosts/index.js';
import { describePage } from '../core/assert.js';
import { ESSA_USTATE_MASK, ESSA_USTATE_UNUSED, stateName } from '../core/hw.js';
import {
  CTL_HINTING, K_CACHE, K_DL_GATHER, K_DL_SIGNOFF, NVP, FREE_HEAD, FREE_NR, HS_STATE_MASK, MAX_ORDER, NIL, PAGE_WORDS, PA_INTS, PCP_BASE, PCP_COUNT,
  PCP_HEAD, PCP_HO_BASE, PCP_HO_ORDERS, PCP_STRIDE, PG_COUNT, PG_FLAGS, PG_LRU_NEXT, PG_MAPCOUNT, PG_PRIVATE, ZONE_FREE_PAGES, type Views,
} from '../core/layout.js';
import { O, report } from '../core/oracles.js';
import { PG_buddy, PG_pcp } from '../core/page_flags.js';

export interface Accounting { buddy: number; pcp: number; cached: number; discard_list: number; owned: number; total: number }

export function endOfRunChecks(v: Views, owned: number[][], who: number): Accounting | null {
  const n = v.nframes;
  const mark = new Uint8Array(n);
  const hinting = v.hdr[CTL_HINTING] !== 0 && hostOf(v).auditsHostStates; // e.g. xenpaging ignores ESSA: no host states to check
  const acc: Accounting = { buddy: 0, pcp: 0, cached: 0, discard_list: 0, owned: 0, total: n };
  const bad = (oracle: number, pfn: number, msg: string): null => {
    report(v, oracle, pfn, who, 0, `${msg}; ${describePage(v, pfn)}`);
    return null;
  };
  for (let order = 0; order < MAX_ORDER; order++) {
    let blocks = 0;
    for (let pfn = v.hdr[FREE_HEAD + order]; pfn !== NIL; pfn = v.page[pfn * PAGE_WORDS + PG_LRU_NEXT]) {
      if (++blocks > n) return bad(O.buddy, pfn, `free list of order ${order} loops`);
      const b = pfn * PAGE_WORDS;
      if ((pfn & ((1 << order) - 1)) !== 0) return bad(O.buddy, pfn, `order-${order} block not aligned`);
      if ((v.page[b + PG_FLAGS] & PG_buddy) === 0 || v.page[b + PG_PRIVATE] !== order) {
        return bad(O.buddy, pfn, `block on the order-${order} free list without PG_buddy/order`);
      }
      for (let k = 0; k < (1 << order); k++) {
        const p = pfn + k;
        if (mark[p]) return bad(O.buddy, p, 'frame on two free lists');
        mark[p] = 1;
        acc.buddy++;
        if (v.page[p * PAGE_WORDS + PG_COUNT] !== -1 || v.page[p * PAGE_WORDS + PG_MAPCOUNT] !== -1) {
          return bad(O.refcount, p, 'free page in the buddy with references or mappings');
        }
        const s = Atomics.load(v.hs, p) & HS_STATE_MASK;
        if (hinting && (s & ESSA_USTATE_MASK) !== ESSA_USTATE_UNUSED) {
          return bad(O.buddy, p, `free page in the buddy is ${stateName(s)}, not unused`);
        }
      }
    }
    if (blocks !== v.hdr[FREE_NR + order]) {
      return bad(O.buddy, v.hdr[FREE_HEAD + order], `nr_free[${order}] is ${v.hdr[FREE_NR + order]} but the list has ${blocks} blocks`);
    }
  }
  if (acc.buddy !== v.hdr[ZONE_FREE_PAGES]) {
    return bad(O.buddy, 0, `zone free pages ${v.hdr[ZONE_FREE_PAGES]} but the free lists hold ${acc.buddy}`);
  }
  for (let cpu = 0; cpu < v.ncpus; cpu++) {
    for (let list = 0; list < 2; list++) {
      const base = cpu * PA_INTS + PCP_BASE + list * PCP_STRIDE;
      let len = 0;
      for (let pfn = v.pa[base + PCP_HEAD]; pfn !== NIL; pfn = v.page[pfn * PAGE_WORDS + PG_LRU_NEXT]) {
        if (++len > n) return bad(O.buddy, pfn, `pcp list of cpu ${cpu} loops`);
        if (mark[pfn]) return bad(O.buddy, pfn, `frame both free and on cpu ${cpu}'s pcp list`);
        if ((v.page[pfn * PAGE_WORDS + PG_FLAGS] & PG_pcp) === 0 || v.page[pfn * PAGE_WORDS + PG_COUNT] !== -1) {
          return bad(O.buddy, pfn, `page on cpu ${cpu}'s pcp list is not a free pcp page`);
        }
        mark[pfn] = 2;
        acc.pcp++;
      }
      if (len !== v.pa[base + PCP_COUNT]) return bad(O.buddy, 0, `cpu ${cpu} pcp count ${v.pa[base + PCP_COUNT]} but the list has ${len}`);
    }
    for (let order = 1; order <= PCP_HO_ORDERS; order++) { // the high-order lists: blocks of 2^order free pages
      const base = cpu * PA_INTS + PCP_HO_BASE + (order - 1) * PCP_STRIDE;
      let len = 0;
      for (let pfn = v.pa[base + PCP_HEAD]; pfn !== NIL; pfn = v.page[pfn * PAGE_WORDS + PG_LRU_NEXT]) {
        if (++len > n) return bad(O.buddy, pfn, `order-${order} pcp list of cpu ${cpu} loops`);
        if ((pfn & ((1 << order) - 1)) !== 0) return bad(O.buddy, pfn, `order-${order} block on cpu ${cpu}'s pcp list not aligned`);
        if ((v.page[pfn * PAGE_WORDS + PG_FLAGS] & PG_pcp) === 0 || v.page[pfn * PAGE_WORDS + PG_PRIVATE] !== order) {
          return bad(O.buddy, pfn, `block on cpu ${cpu}'s order-${order} pcp list without PG_pcp/order`);
        }
        for (let k = 0; k < (1 << order); k++) {
          const p = pfn + k;
          if (mark[p]) return bad(O.buddy, p, `frame both free and on cpu ${cpu}'s order-${order} pcp list`);
          if (v.page[p * PAGE_WORDS + PG_COUNT] !== -1 || v.page[p * PAGE_WORDS + PG_MAPCOUNT] !== -1) {
            return bad(O.buddy, p, `page on cpu ${cpu}'s order-${order} pcp list is not free`);
          }
          mark[p] = 2;
          acc.pcp++;
        }
      }
      if (len !== v.pa[base + PCP_COUNT]) return bad(O.buddy, 0, `cpu ${cpu} order-${order} pcp count ${v.pa[base + PCP_COUNT]} but the list has ${len}`);
    }
  }
  for (let s = 0; s < NVP; s++) {
    const pfn = v.k[K_CACHE + s] - 1;
    if (pfn < 0) continue;
    if (mark[pfn]) return bad(O.buddy, pfn, 'page cache page is also free');
    if (v.page[pfn * PAGE_WORDS + PG_COUNT] < 0) return bad(O.refcount, pfn, 'page cache page has no reference');
    mark[pfn] = 4;
    acc.cached++;
  }
  for (const head of [K_DL_GATHER, K_DL_SIGNOFF]) {
    let len = 0;
    for (let pfn = v.k[head]; pfn !== NIL; pfn = v.page[pfn * PAGE_WORDS + PG_LRU_NEXT]) {
      if (++len > n) return bad(O.buddy, pfn, 'discard list loops');
      if (mark[pfn]) return bad(O.buddy, pfn, 'page on the discard list is also free or cached');
      mark[pfn] = 5;
      acc.discard_list++;
    }
  }
  for (const list of owned) {
    for (const pfn of list) {
      if (mark[pfn]) return bad(O.buddy, pfn, 'frame both free and held by a task');
      mark[pfn] = 3;
      acc.owned++;
    }
  }
  for (let pfn = 0; pfn < n; pfn++) {
    if (!mark[pfn]) return bad(O.leak, pfn, 'frame is neither free, on a pcp list, cached, on the discard list, nor held by any task');
  }
  return acc;
}

/** Histogram of host states (the state mix), by name. */
export function stateMix(v: Views): Record<string, number> {
  const out: Record<string, number> = {};
  for (let pfn = 0; pfn < v.nframes; pfn++) {
    const name = stateName(Atomics.load(v.hs, pfn) & HS_STATE_MASK);
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}
