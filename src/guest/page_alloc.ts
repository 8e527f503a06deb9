/**
 * The guest page allocator: buddy (orders 0..MAX_ORDER-1) under the zone lock, per-CPU
 * pagesets with hot and cold lists, bulk refill (rmqueue_bulk) and drain (free_pages_bulk).
 *
 * Hinting (2006 "boundary" variant, hinting.md 2.1 and R25): pages on pcp lists stay S;
 * page_set_stable is issued when pages leave the buddy and page_set_unused when they enter
 * it, batched into one host call per bulk move, and always while the pages are private to
 * this CPU (after unlinking on refill, before linking on drain).
 *
 * Blocks of order 1..PCP_HO_ORDERS have per-CPU lists too (Linux 5.13's high-order pcp
 * lists, up to PAGE_ALLOC_COSTLY_ORDER) when the host acts on batched boundary hints
 * (H.batchesBoundaryHints, hinting on, batched): they are the per-CPU hint batch of those
 * orders, for each order of which one pcp batch holds at least two blocks (pcpBatch >= 2^(k+1):
 * order 1 from 32 MiB, order 2 from 64 MiB, order 3 from 128 MiB with the default batch). A freed block waits there, still stable and private, and leaves for the buddy
 * with others of its order (up to a batch of pages) in one set-unused call (hinted before they
 * are linked); a refill takes as many in one set-stable call (after they are unlinked). A block reallocated before
 * its batch is flushed never met the buddy: it is taken back off this CPU's list, still stable,
 * with no hint at all, so no late hint can land on a block another CPU allocated (R25). With
 * another host, hinting off or unbatched, or an order without a list, every higher-order block
 * goes straight to and from the buddy with one hint call each, as in the series.
 *
 * Lock order:
 *   zone->lock (ZONE_LOCK)
 *     frame lock (hw.ts, leaf)
 * pcp lists: owner CPU only, no lock.
 * A leading `__` means the caller holds the zone lock.
 */
import { describePage } from '../core/assert.js';
import { H_ALLOC, describeHistory, hist } from '../core/history.js';
import { C } from '../core/counters.js';
import { CNT, ME, V } from '../core/ctx.js';
import { DEFAULT_HOOKS, H } from '../core/hooks.js';
import { DBG_BUDDY_DOUBLE, DBG_HANG, DBG_SKIP_SET_STABLE, plant } from '../core/debug.js';
import { ORC_SET_STABLE, ORC_SET_UNUSED } from '../core/hw.js';
import * as LAYOUT from '../core/layout.js';
import { O, report } from '../core/oracles.js';
import * as FLAGS from '../core/page_flags.js';
import { page_reporting_check_alloc, page_reporting_notify_free, pageReportingInit, reportingClearMask, reportingOrder } from './page_reporting.js';
import { SP_REFCOUNT, STEPS, sp } from '../core/sched.js';
import { spinLock, spinUnlock } from '../core/spinlock.js';

// The layout offsets and flag bits as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell (with a hole
// check) at every use, which on the order-0 pcp paths cost about a fifth of an alloc/free
// pair (bench pcp_alloc_free_pairs_per_cpu).
const {
  CTL_BATCH, CTL_DEBUG, CTL_HINTING, CTL_PCP_BATCH, CTL_PCP_HIGH, FREE_HEAD, FREE_NR, MAX_ORDER, NIL,
  PAGE_WORDS, PA_INTS, PCP_BASE, PCP_COUNT, PCP_HEAD, PCP_HO_BASE, PCP_HO_ORDERS, PCP_STRIDE, PCP_TAIL, PG_COUNT, PG_FLAGS, PG_GEN,
  PG_LRU_NEXT, PG_LRU_PREV, PG_MAPCOUNT, PG_MAPPING, PG_OWNER, PG_PRIVATE, ZONE_FREE_PAGES, ZONE_LOCK,
} = LAYOUT;
const { PAGE_FLAGS_CHECK_AT_FREE, PAGE_FLAGS_CHECK_AT_PREP, PG_buddy, PG_pcp } = FLAGS;

export const HINTING_OFF = 0;
export const HINTING_UNUSED = 1;
export const HINTING_FULL = 2;

let hinting = 0;
let batched = true;
let pcpHigh = 0;
let pcpBatch = 0;
let debug = 0;
let skipArmed = false;
let pcpBase = 0;              // Int32 index of this CPU's pcp words in V.pa
let hoPcp = false;            // the high-order pcp lists are in use (see the file comment)
let hoBase = 0;               // Int32 index of this CPU's high-order pcp lists in V.pa (order k at hoBase + (k - 1) * PCP_STRIDE)
const hoBatch = new Int32Array(PCP_HO_ORDERS + 1); // blocks per refill or drain of order k: about pcpBatch pages
const hoHigh = new Int32Array(PCP_HO_ORDERS + 1);  // drain past this many blocks of order k
const hoBlocks = new Int32Array(64);               // block heads of one high-order refill or drain
const hintBuf = new Int32Array(1 << (MAX_ORDER - 1));
let archHooks = false;        // the host has s390 arch_alloc_page/arch_free_page hooks (CMMA): the fast paths call them
let drainHot = 0;             // free_hot_cold_page drains a batch past this many pages on the hot list
let drainCold = 0;            // ... and on the cold list (high / 3)
// The fast paths' views, this participant's id and counters (ctx.ts's, taken by pageAllocInit,
// which every participant that runs the allocator calls after attachHost): module-local
// bindings, so that a fast path reads no other module's live bindings.
let fpPage: Int32Array = new Int32Array(0);
let fpPa: Int32Array = new Int32Array(0);
let fpCnt: Float64Array = new Float64Array(0);
let fpMe = 0;
const PAGE_SHIFT = 31 - Math.clz32(PAGE_WORDS); // pfn << PAGE_SHIFT === pfn * PAGE_WORDS (int32 arithmetic on the fast paths)
if (1 << PAGE_SHIFT !== PAGE_WORDS) throw new Error(`page_alloc: PAGE_WORDS (${PAGE_WORDS}) must be a power of two`);
let slow0 = true;             // an order-0 pcp hit takes allocSlow: arch hooks, page reporting or a planted bug (debug) are on
const C_PCP_HITS = C.pcp_hits, C_ALLOCS = C.allocs, C_FREES = C.frees; // counter slots of the fast paths
let reportOrder = MAX_ORDER;  // free page reporting (page_reporting.ts): notify on frees of this order and up; MAX_ORDER: off
let buddyClear = PG_buddy;    // flags cleared when a block leaves a free list (__ClearPageReported with reporting)

/** Per-CPU setup (reads the machine configuration words). */
export function pageAllocInit(): void {
  hinting = V.hdr[CTL_HINTING];
  batched = V.hdr[CTL_BATCH] !== 0;
  pcpHigh = V.hdr[CTL_PCP_HIGH];
  pcpBatch = V.hdr[CTL_PCP_BATCH];
  debug = V.hdr[CTL_DEBUG];
  skipArmed = (debug & DBG_SKIP_SET_STABLE) !== 0;
  pcpBase = ME * PA_INTS + PCP_BASE;
  archHooks = H.archAllocPage !== DEFAULT_HOOKS.archAllocPage || H.archFreePage !== DEFAULT_HOOKS.archFreePage ||
    H.archFreePageDone !== DEFAULT_HOOKS.archFreePageDone;
  drainHot = Math.max(pcpHigh, pcpBatch);
  drainCold = Math.max((pcpHigh / 3) | 0, pcpBatch);
  hoPcp = hinting !== HINTING_OFF && batched && H.batchesBoundaryHints;
  hoBase = ME * PA_INTS + PCP_HO_BASE;
  for (let k = 1; k <= PCP_HO_ORDERS; k++) {
    // A refill or drain moves as many whole blocks as fit in one order-0 batch: one host call
    // per up to pcpBatch pages. An order of which a batch holds fewer than two blocks has no
    // list (0): it would gain nothing from batching and only park memory stable (pcpBatch is 1
    // up to 8 MiB, 3 at 16 MiB, 7 at 32 MiB, 15 at 64 MiB, 31 from 128 MiB).
    const fit = Math.floor(pcpBatch / (1 << k));
    hoBatch[k] = fit >= 2 ? Math.min(hoBlocks.length, fit) : 0;
    hoHigh[k] = 2 * hoBatch[k];
  }
  pageReportingInit();
  reportOrder = reportingOrder();
  buddyClear = PG_buddy | reportingClearMask();
  fpPage = V.page;
  fpPa = V.pa;
  fpCnt = CNT;
  fpMe = ME;
  // allocSlow serves an order-0 pcp hit exactly as the fast path did (allocBlock's pcp
  // branch, the hooks, reporting's check, prep_new_page of one page, the same counters).
  slow0 = debug !== 0 || archHooks || reportOrder < MAX_ORDER;
}

/** Linux zone_batchsize(): about 1/1024 of the zone, at most 32, rounded to 2^n - 1. */
export function defaultPcpBatch(nframes: number): number {
  const b = Math.min(32, Math.max(1, Math.floor(nframes / 1024)));
  const fls = 32 - Math.clz32(b + (b >> 1));
  return Math.max(1, (1 << (fls - 1)) - 1);
}

export function bug(pfn: number, msg: string): void {
  report(V, O.bug_on, pfn, ME, STEPS, `${msg}; ${describePage(V, pfn)}${pfn >= 0 ? `;${describeHistory(V, pfn)}` : ''}`);
}

function zoneLock(): void {
  if (spinLock(V.hdr, ZONE_LOCK, ME) > 0) CNT[C.zone_lock_contended]++;
}
function zoneUnlock(): void {
  spinUnlock(V.hdr, ZONE_LOCK, ME);
}

// ------------------------------------------------------------------ hints
function hintRange(pfn: number, n: number, orc: number): void {
  if (hinting === HINTING_OFF) return;
  if (batched) {
    for (let i = 0; i < n; i++) hintBuf[i] = pfn + i;
    H.essaBatch(hintBuf, n, orc, null);
  } else {
    for (let i = 0; i < n; i++) H.essa(pfn + i, orc);
  }
}

/** page_set_stable for the n pfns in hintBuf[0..n). */
function hintBuffer(n: number, orc: number): void {
  if (hinting === HINTING_OFF || n === 0) return;
  if (batched) H.essaBatch(hintBuf, n, orc, null);
  else for (let i = 0; i < n; i++) H.essa(hintBuf[i], orc);
}

// ------------------------------------------------------------------ buddy (zone lock held)
function listAdd(headIdx: number, pfn: number): void {
  const p = V.page;
  const head = V.hdr[headIdx];
  p[pfn * PAGE_WORDS + PG_LRU_NEXT] = head;
  p[pfn * PAGE_WORDS + PG_LRU_PREV] = NIL;
  if (head !== NIL) p[head * PAGE_WORDS + PG_LRU_PREV] = pfn;
  V.hdr[headIdx] = pfn;
}

function listDel(headIdx: number, pfn: number): void {
  const p = V.page;
  const b = pfn * PAGE_WORDS;
  const next = p[b + PG_LRU_NEXT];
  const prev = p[b + PG_LRU_PREV];
  if (prev === NIL) V.hdr[headIdx] = next;
  else p[prev * PAGE_WORDS + PG_LRU_NEXT] = next;
  if (next !== NIL) p[next * PAGE_WORDS + PG_LRU_PREV] = prev;
  p[b + PG_LRU_NEXT] = NIL;
  p[b + PG_LRU_PREV] = NIL;
}

function pageIsBuddy(pfn: number, order: number): boolean {
  const b = pfn * PAGE_WORDS;
  return (V.page[b + PG_FLAGS] & PG_buddy) !== 0 && V.page[b + PG_PRIVATE] === order;
}

/**
 * __free_one_page: merge with free buddies and link the block. Returns false on a double free.
 * `notify` false: page reporting's put-back (FPI_SKIP_REPORT_NOTIFY).
 */
export function __free_one_page(pfn: number, order: number, notify = true): boolean {
  const p = V.page;
  if ((p[pfn * PAGE_WORDS + PG_FLAGS] & PG_buddy) !== 0) {
    report(V, O.buddy, pfn, ME, STEPS, `__free_one_page: double free (page already in the buddy at order ${p[pfn * PAGE_WORDS + PG_PRIVATE]}); ${describePage(V, pfn)}`);
    return false;
  }
  V.hdr[ZONE_FREE_PAGES] += 1 << order;
  while (order < MAX_ORDER - 1) {
    const buddy = pfn ^ (1 << order);
    if (buddy >= V.nframes || !pageIsBuddy(buddy, order)) break;
    listDel(FREE_HEAD + order, buddy);
    V.hdr[FREE_NR + order]--;
    p[buddy * PAGE_WORDS + PG_FLAGS] &= ~buddyClear; // zone lock held; no other CPU touches a buddy page's flags
    p[buddy * PAGE_WORDS + PG_PRIVATE] = 0;
    pfn = pfn < buddy ? pfn : buddy;
    order++;
  }
  p[pfn * PAGE_WORDS + PG_FLAGS] |= PG_buddy;
  p[pfn * PAGE_WORDS + PG_PRIVATE] = order;
  listAdd(FREE_HEAD + order, pfn);
  V.hdr[FREE_NR + order]++;
  if (order >= reportOrder && notify) page_reporting_notify_free(pfn, order);
  return true;
}

/** __rmqueue: take a block of `order`, splitting a larger one. Returns pfn or NIL. */
export function __rmqueue(order: number): number {
  const p = V.page;
  for (let o = order; o < MAX_ORDER; o++) {
    const pfn = V.hdr[FREE_HEAD + o];
    if (pfn === NIL) continue;
    listDel(FREE_HEAD + o, pfn);
    V.hdr[FREE_NR + o]--;
    p[pfn * PAGE_WORDS + PG_FLAGS] &= ~buddyClear;
    p[pfn * PAGE_WORDS + PG_PRIVATE] = 0;
    while (o > order) { // expand(): give back the upper halves
      o--;
      const half = pfn + (1 << o);
      p[half * PAGE_WORDS + PG_FLAGS] |= PG_buddy;
      p[half * PAGE_WORDS + PG_PRIVATE] = o;
      listAdd(FREE_HEAD + o, half);
      V.hdr[FREE_NR + o]++;
    }
    V.hdr[ZONE_FREE_PAGES] -= 1 << order;
    return pfn;
  }
  return NIL;
}

// ------------------------------------------------------------------ pcp lists (owner only)
/** Link `pfn` into the pcp list at V.pa[base..] (an order-0 list or a high-order one). */
function pcpAdd(base: number, pfn: number, tail: boolean): void {
  const p = V.page;
  const pa = V.pa;
  const b = pfn * PAGE_WORDS;
  p[b + PG_FLAGS] |= PG_pcp; // the page is private to this CPU while it is on a pcp list
  if (tail) {
    const t = pa[base + PCP_TAIL];
    p[b + PG_LRU_PREV] = t;
    p[b + PG_LRU_NEXT] = NIL;
    if (t === NIL) pa[base + PCP_HEAD] = pfn; else p[t * PAGE_WORDS + PG_LRU_NEXT] = pfn;
    pa[base + PCP_TAIL] = pfn;
  } else {
    const h = pa[base + PCP_HEAD];
    p[b + PG_LRU_NEXT] = h;
    p[b + PG_LRU_PREV] = NIL;
    if (h === NIL) pa[base + PCP_TAIL] = pfn; else p[h * PAGE_WORDS + PG_LRU_PREV] = pfn;
    pa[base + PCP_HEAD] = pfn;
  }
  pa[base + PCP_COUNT]++;
}

/** Unlink the head (or tail) of the pcp list at V.pa[base..]; NIL when empty. */
function pcpTake(base: number, fromTail: boolean): number {
  const p = V.page;
  const pa = V.pa;
  const pfn = fromTail ? pa[base + PCP_TAIL] : pa[base + PCP_HEAD];
  if (pfn === NIL) return NIL;
  const b = pfn * PAGE_WORDS;
  const next = p[b + PG_LRU_NEXT];
  const prev = p[b + PG_LRU_PREV];
  if (prev === NIL) pa[base + PCP_HEAD] = next; else p[prev * PAGE_WORDS + PG_LRU_NEXT] = next;
  if (next === NIL) pa[base + PCP_TAIL] = prev; else p[next * PAGE_WORDS + PG_LRU_PREV] = prev;
  p[b + PG_LRU_NEXT] = NIL;
  p[b + PG_LRU_PREV] = NIL;
  p[b + PG_FLAGS] &= ~PG_pcp;
  pa[base + PCP_COUNT]--;
  return pfn;
}

/**
 * The hot end of a pcp list (pcpTake(base, false) for a list known non-empty, specialised:
 * the order-0 fast path). Same words, same order as pcpTake.
 */
function pcpPop(pa: Int32Array, base: number): number {
  const p = fpPage;
  const pfn = pa[base + PCP_HEAD];
  const b = pfn << PAGE_SHIFT; // int32 arithmetic: no overflow check (pfn < 2^27)
  const next = p[b + PG_LRU_NEXT];
  pa[base + PCP_HEAD] = next;
  if (next === NIL) pa[base + PCP_TAIL] = NIL; else p[(next << PAGE_SHIFT) + PG_LRU_PREV] = NIL;
  p[b + PG_LRU_NEXT] = NIL; // (PG_LRU_PREV of a head is NIL already)
  p[b + PG_FLAGS] &= ~PG_pcp;
  pa[base + PCP_COUNT]--;
  return pfn;
}

/** pcpAdd(base, pfn, false) specialised: link at the head (the order-0 free fast path). */
function pcpPush(pa: Int32Array, base: number, pfn: number): void {
  const p = fpPage;
  const b = pfn << PAGE_SHIFT;
  p[b + PG_FLAGS] |= PG_pcp; // the page is private to this CPU while it is on a pcp list
  const h = pa[base + PCP_HEAD];
  p[b + PG_LRU_NEXT] = h;
  p[b + PG_LRU_PREV] = NIL;
  if (h === NIL) pa[base + PCP_TAIL] = pfn; else p[(h << PAGE_SHIFT) + PG_LRU_PREV] = pfn;
  pa[base + PCP_HEAD] = pfn;
  pa[base + PCP_COUNT]++;
}

/** rmqueue_bulk: move up to `count` order-0 pages from the buddy to the pcp list at `base`. */
function rmqueue_bulk(base: number, count: number): number {
  CNT[C.pcp_refills]++;
  zoneLock();
  let n = 0;
  while (n < count) {
    const pfn = __rmqueue(0);
    if (pfn === NIL) break;
    hintBuf[n++] = pfn;
  }
  zoneUnlock();
  CNT[C.buddy_allocs] += n;
  // The pages are private to this CPU now: hint them stable in one host call.
  if (skipArmed && n > 1) {
    // planted bug: the first page (the next one handed out) is not made stable
    skipArmed = false;
    plant(V, hintBuf[0]);
    const first = hintBuf[0];
    hintBuf[0] = hintBuf[n - 1];
    hintBuffer(n - 1, ORC_SET_STABLE);
    hintBuf[n - 1] = hintBuf[0];
    hintBuf[0] = first;
  } else {
    hintBuffer(n, ORC_SET_STABLE);
  }
  for (let i = 0; i < n; i++) pcpAdd(base, hintBuf[i], true);
  return n;
}

/** free_pages_bulk: give `count` pages from the cold end of the pcp list at `base` back to the buddy. */
function free_pages_bulk(base: number, count: number): void {
  CNT[C.pcp_drains]++;
  let n = 0;
  while (n < count) {
    const pfn = pcpTake(base, true);
    if (pfn === NIL) break;
    hintBuf[n++] = pfn;
  }
  // Still private: hint unused before any other CPU can allocate them from the buddy.
  hintBuffer(n, ORC_SET_UNUSED);
  zoneLock();
  for (let i = 0; i < n; i++) __free_one_page(hintBuf[i], 0);
  if ((debug & DBG_BUDDY_DOUBLE) !== 0 && n > 0) { debug &= ~DBG_BUDDY_DOUBLE; plant(V, hintBuf[0]); __free_one_page(hintBuf[0], 0); }
  zoneUnlock();
  CNT[C.buddy_frees] += n;
}

/**
 * The high-order refill: up to hoBatch[order] blocks of `order` from the buddy to this CPU's
 * list at `base`, hinted stable in one host call once they are private (unlinked).
 */
function rmqueue_bulk_ho(order: number, base: number): number {
  CNT[C.pcp_refills]++;
  const want = hoBatch[order];
  zoneLock();
  let nb = 0;
  while (nb < want) {
    const pfn = __rmqueue(order);
    if (pfn === NIL) break;
    hoBlocks[nb++] = pfn;
  }
  zoneUnlock();
  CNT[C.buddy_allocs] += nb;
  const size = 1 << order;
  let n = 0;
  for (let j = 0; j < nb; j++) for (let i = 0; i < size; i++) hintBuf[n++] = hoBlocks[j] + i;
  hintBuffer(n, ORC_SET_STABLE);
  const p = V.page;
  for (let j = 0; j < nb; j++) {
    pcpAdd(base, hoBlocks[j], true);
    p[hoBlocks[j] * PAGE_WORDS + PG_PRIVATE] = order; // owner only while listed: the block's order
  }
  return nb;
}

/**
 * The high-order drain: `count` blocks from the cold end of the list at `base` to the buddy,
 * hinted unused in one host call while they are still private (before they are linked).
 */
function free_pages_bulk_ho(order: number, base: number, count: number): void {
  CNT[C.pcp_drains]++;
  const p = V.page;
  const size = 1 << order;
  let nb = 0;
  let n = 0;
  while (nb < count) {
    const pfn = pcpTake(base, true);
    if (pfn === NIL) break;
    p[pfn * PAGE_WORDS + PG_PRIVATE] = 0;
    hoBlocks[nb++] = pfn;
    for (let i = 0; i < size; i++) hintBuf[n++] = pfn + i;
  }
  hintBuffer(n, ORC_SET_UNUSED);
  zoneLock();
  for (let j = 0; j < nb; j++) __free_one_page(hoBlocks[j], order);
  zoneUnlock();
  CNT[C.buddy_frees] += nb;
}

/** Give every block on this CPU's high-order lists back to the buddy; false when they were empty. */
function drain_ho_pages(): boolean {
  let any = false;
  for (let k = 1; k <= PCP_HO_ORDERS; k++) {
    const base = hoBase + (k - 1) * PCP_STRIDE;
    while (V.pa[base + PCP_COUNT] > 0) { any = true; free_pages_bulk_ho(k, base, Math.max(1, hoBatch[k])); }
  }
  return any;
}

// ------------------------------------------------------------------ allocation
/** prep_new_page: bad-page checks, then the page gets its first reference. */
function prep_new_page(pfn: number, order: number): boolean {
  const p = V.page;
  for (let i = 0; i < (1 << order); i++) {
    const b = (pfn + i) * PAGE_WORDS;
    if ((p[b + PG_FLAGS] & PAGE_FLAGS_CHECK_AT_PREP) !== 0 || p[b + PG_MAPCOUNT] !== -1 || p[b + PG_COUNT] !== -1) {
      report(V, O.refcount, pfn + i, ME, STEPS, `prep_new_page: allocating a page that is in use; ${describePage(V, pfn + i)}`);
      return false;
    }
  }
  const b = pfn * PAGE_WORDS;
  hist(pfn, H_ALLOC, order);
  p[b + PG_GEN]++;
  p[b + PG_OWNER] = ME;
  p[b + PG_MAPPING] = 0;
  // _count -1 -> 0 (page_count 1). Atomic: a racing get_page_if_present reads it.
  Atomics.store(p, b + PG_COUNT, 0);
  return true;
}

/** The bad-page report of prep_new_page, out of line: the fast paths stay small enough to inline. */
function badPrep(pfn: number): false {
  report(V, O.refcount, pfn, ME, STEPS, `prep_new_page: allocating a page that is in use; ${describePage(V, pfn)}`);
  return false;
}

/** prep_new_page for one page (the order-0 fast path): the same checks and stores, no loop. */
function prep_new_page0(pfn: number): boolean {
  const p = fpPage;
  const b = pfn << PAGE_SHIFT;
  if ((p[b + PG_FLAGS] & PAGE_FLAGS_CHECK_AT_PREP) !== 0 || p[b + PG_MAPCOUNT] !== -1 || p[b + PG_COUNT] !== -1) return badPrep(pfn);
  hist(pfn, H_ALLOC, 0);
  p[b + PG_GEN]++;
  p[b + PG_OWNER] = fpMe;
  p[b + PG_MAPPING] = 0;
  // _count -1 -> 0 (page_count 1). Atomic (seq-cst store): a racing get_page_if_present's
  // CAS reads it, after the stores above.
  Atomics.store(p, b + PG_COUNT, 0);
  return true;
}

/**
 * alloc_pages(order): returns the first pfn of a block, or NIL. `cold` picks the cold list.
 * The order-0 pcp hit is kept small (one list unlink, then prep) so that it inlines into its
 * callers; everything else (a refill, the buddy, the arch hooks, page reporting, a planted
 * bug) is in allocSlow, which does the same for an order-0 hit (allocBlock's pcp branch).
 */
export function alloc_pages(order: number, cold: boolean): number {
  if (order !== 0 || slow0) return allocSlow(order, cold);
  const pa = fpPa;
  const base = cold ? pcpBase + PCP_STRIDE : pcpBase;
  if (pa[base + PCP_COUNT] === 0) return allocSlow(0, cold);
  const pfn = cold ? pcpTake(base, true) : pcpPop(pa, base);
  const cnt = fpCnt;
  cnt[C_PCP_HITS]++;
  if (!prep_new_page0(pfn)) return NIL;
  cnt[C_ALLOCS]++;
  return pfn;
}

function allocSlow(order: number, cold: boolean): number {
  if ((debug & DBG_HANG) !== 0 && ME === 0) { zoneLock(); for (;;) { /* planted hang: never unlocks */ } }
  let pfn = allocBlock(order, cold);
  // Out of memory with blocks parked on this CPU's high-order lists: give them back (as Linux
  // drains the pcp lists before it gives up) and try once more.
  if (pfn === NIL && hoPcp && drain_ho_pages()) pfn = allocBlock(order, cold);
  if (pfn === NIL) { CNT[C.alloc_failures]++; return NIL; }
  H.archAllocPage(pfn, order);
  if (reportOrder < MAX_ORDER) page_reporting_check_alloc(pfn);
  if (!prep_new_page(pfn, order)) return NIL;
  CNT[C.allocs]++;
  return pfn;
}

/** Take a block of `order` from a pcp list (refilled when empty) or the buddy, made stable; NIL when there is none. */
function allocBlock(order: number, cold: boolean): number {
  let pfn: number;
  if (order === 0) {
    const base = pcpBase + (cold ? PCP_STRIDE : 0);
    if (V.pa[base + PCP_COUNT] === 0) rmqueue_bulk(base, pcpBatch);
    pfn = pcpTake(base, cold);
    if (pfn !== NIL) CNT[C.pcp_hits]++;
  } else if (hoPcp && order <= PCP_HO_ORDERS && hoBatch[order] > 0) {
    const base = hoBase + (order - 1) * PCP_STRIDE;
    if (V.pa[base + PCP_COUNT] === 0) rmqueue_bulk_ho(order, base);
    pfn = pcpTake(base, false);
    if (pfn !== NIL) { V.page[pfn * PAGE_WORDS + PG_PRIVATE] = 0; CNT[C.pcp_hits]++; }
  } else {
    zoneLock();
    pfn = __rmqueue(order);
    zoneUnlock();
    if (pfn !== NIL) {
      CNT[C.buddy_allocs]++;
      hintRange(pfn, 1 << order, ORC_SET_STABLE);
    }
  }
  return pfn;
}

/** free_pages_check: a page being freed must not be mapped or carry state flags. */
function free_pages_check(pfn: number): boolean {
  const p = fpPage;
  const b = pfn << PAGE_SHIFT;
  if (p[b + PG_MAPCOUNT] !== -1 || (p[b + PG_FLAGS] & PAGE_FLAGS_CHECK_AT_FREE) !== 0) return badFree(pfn);
  return true;
}

/** free_pages_check's report, out of line (see badPrep). */
function badFree(pfn: number): false {
  const b = pfn * PAGE_WORDS;
  const f = V.page[b + PG_FLAGS];
  report(V, O.buddy, pfn, ME, STEPS, `free_pages_check: freeing a page that is ${(f & PG_buddy) ? 'already free' : V.page[b + PG_MAPCOUNT] !== -1 ? 'mapped' : 'in use'}; ${describePage(V, pfn)}`);
  return false;
}

/** free_hot_cold_page: an order-0 page goes to this CPU's pcp list (drain past `high`). */
export function free_hot_cold_page(pfn: number, cold: boolean): void {
  if (archHooks) { freeHooked(pfn, cold); return; }
  if (!free_pages_check(pfn)) return;
  const pa = fpPa;
  const base = cold ? pcpBase + PCP_STRIDE : pcpBase;
  if (cold) pcpAdd(base, pfn, true); else pcpPush(pa, base, pfn);
  if (pa[base + PCP_COUNT] > (cold ? drainCold : drainHot)) free_pages_bulk(base, pcpBatch);
}

/** free_hot_cold_page with the host's arch hooks (CMMA), out of line: the same steps between the two hooks. */
function freeHooked(pfn: number, cold: boolean): void {
  if (!free_pages_check(pfn)) return;
  H.archFreePage(pfn, 0);
  const base = cold ? pcpBase + PCP_STRIDE : pcpBase;
  pcpAdd(base, pfn, cold);
  if (V.pa[base + PCP_COUNT] > (cold ? drainCold : drainHot)) free_pages_bulk(base, pcpBatch);
  H.archFreePageDone(pfn, 0);
}

/** __free_pages_ok: a higher-order block goes straight to the buddy. */
function __free_pages_ok(pfn: number, order: number): void {
  for (let i = 0; i < (1 << order); i++) if (!free_pages_check(pfn + i)) return;
  H.archFreePage(pfn, order);
  if (hoPcp && order <= PCP_HO_ORDERS && hoBatch[order] > 0) {
    // This CPU's high-order list: the block stays stable and private until a drain hints it
    // unused with others of its order and links them.
    const base = hoBase + (order - 1) * PCP_STRIDE;
    pcpAdd(base, pfn, false);
    V.page[pfn * PAGE_WORDS + PG_PRIVATE] = order; // owner only while listed
    if (V.pa[base + PCP_COUNT] > hoHigh[order]) free_pages_bulk_ho(order, base, hoBatch[order]);
    H.archFreePageDone(pfn, order);
    return;
  }
  hintRange(pfn, 1 << order, ORC_SET_UNUSED); // private until linked
  zoneLock();
  __free_one_page(pfn, order);
  zoneUnlock();
  CNT[C.buddy_frees]++;
  H.archFreePageDone(pfn, order);
}

/**
 * put_page_testzero with the seeds' bias: _count -1 is free; the last put takes 0 -> -1.
 * Returns true when the caller dropped the last reference.
 */
export function put_page_testzero(pfn: number): boolean {
  sp(SP_REFCOUNT, pfn);
  // Atomics.sub is a full RMW: the final put observes every earlier put.
  const old = Atomics.sub(fpPage, (pfn << PAGE_SHIFT) + PG_COUNT, 1);
  if (old <= -1) return badPut(pfn, old);
  return old === 0;
}

/** put_page_testzero's underflow report, out of line (see badPrep). */
function badPut(pfn: number, old: number): false {
  report(V, O.refcount, pfn, ME, STEPS, `put_page: _count underflow (${old} -> ${old - 1}): a free page was released again; ${describePage(V, pfn)}`);
  return false;
}

export function get_page(pfn: number): void {
  sp(SP_REFCOUNT, pfn);
  const old = Atomics.add(V.page, pfn * PAGE_WORDS + PG_COUNT, 1);
  if (old < 0) report(V, O.refcount, pfn, ME, STEPS, `get_page on a free page (_count was ${old}); ${describePage(V, pfn)}`);
}

/** __free_pages(pfn, order): drop a reference; the last one frees the block. */
export function __free_pages(pfn: number, order: number, cold = false): void {
  if (!put_page_testzero(pfn)) return;
  fpCnt[C_FREES]++;
  if (order === 0) free_hot_cold_page(pfn, cold);
  else __free_pages_ok(pfn, order);
}

/** Give every page on this CPU's pcp lists back to the buddy (drain_local_pages). */
export function drain_local_pages(): void {
  for (let list = 0; list < 2; list++) {
    const base = pcpBase + list * PCP_STRIDE;
    while (V.pa[base + PCP_COUNT] > 0) free_pages_bulk(base, pcpBatch);
  }
  if (hoPcp) drain_ho_pages();
}
