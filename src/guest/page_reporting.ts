/**
 * Free page reporting (Linux 5.7, mm/page_reporting.c; reporting_cmma.md part A): the guest
 * tells the host which free buddy blocks of order >= page_reporting_order it may discard.
 *
 *   notify   __free_one_page (zone lock held) calls page_reporting_notify_free for a block
 *            of order >= page_reporting_order: IDLE -> REQUESTED schedules the delayed work.
 *   worker   after the delay (model time: global steps in sim mode, wall-clock ms in threads
 *            mode) the first guest CPU whose step finds the work due runs one pass, as a
 *            kworker would on that CPU: per order, under the zone lock, it isolates up to
 *            PR_CAPACITY unreported blocks off the free list, drops the lock, hands them to
 *            the host (H.reportBlocks: the host discards them), retakes the lock, puts them
 *            back with PageReported and goes on from the list head. A budget per list and a
 *            watermark gate per zone bound a pass; a pass ends with cmpxchg(ACTIVE, IDLE),
 *            and re-queues itself when a free asked again meanwhile.
 *   reuse    a PageReported block is allocated like any other (the flag is cleared when it
 *            leaves the free list, page_alloc.ts buddyClear); the host supplies a zeroed
 *            frame on the next touch (a zero fill).
 *
 * Races (core/races.ts HOST_RACE_IDS, hosts/reporting/races.ts): each toggle below undoes one
 * guard of the design.
 *
 * Lock order: zone->lock (ZONE_LOCK) -> frame lock (the host's discard takes frame locks
 * with the zone lock dropped). A leading `__` means the caller holds the zone lock.
 */
import { describePage } from '../core/assert.js';
import { CNT, ME, V } from '../core/ctx.js';
import { C } from '../core/counters.js';
import { H } from '../core/hooks.js';
import {
  CTL_HOST, CTL_MODE, FREE_HEAD, FREE_NR, HOST_REPORTING, MAX_ORDER, MAX_PARTICIPANTS, NIL, PAGE_WORDS, PG_FLAGS, PG_LRU_NEXT, PG_LRU_PREV,
  PG_PRIVATE, PR_ACTIVE, PR_CAPACITY, PR_COUNTERS, PR_COUNTER_NAMES, PR_DELAY, PR_DUE, PR_IDLE, PR_LOW_WMARK, PR_MIN_WMARK, PR_ORDER,
  PR_PENDING, PR_REQUESTED, PR_REQ_GEN, PR_SERVED_GEN, PR_STATE, ZONE_FREE_PAGES, ZONE_LOCK, geometry, reportingGeometry,
} from '../core/layout.js';
import { O, report } from '../core/oracles.js';
import { PG_buddy, PG_reported } from '../core/page_flags.js';
import { isUnfixed, raceIndex } from '../core/races.js';
import { MODEL_TIME_MASK as TIME_MASK, STEPS, modelNow } from '../core/sched.js';
import { spinLock, spinUnlock } from '../core/spinlock.js';
import { T_REPORT_B, T_REPORT_E, tr } from '../core/trace.js';
import { __free_one_page } from './page_alloc.js';

/** PAGE_REPORTING_CAPACITY: the scatterlist's entries. */
export const PAGE_REPORTING_CAPACITY = 32;

type PrCounter = (typeof PR_COUNTER_NAMES)[number];
const PC = Object.fromEntries(PR_COUNTER_NAMES.map((n, i) => [n, i])) as { readonly [K in PrCounter]: number };

let on = false;
let sim = false;
let A: Int32Array = new Int32Array(0);    // the page reporting area (core/layout.ts PR_*)
let freedAt: Int32Array = new Int32Array(0);
let PRC: Float64Array = new Float64Array(0);
let order = MAX_ORDER;                      // page_reporting_order; MAX_ORDER: reporting off
let capacity = PAGE_REPORTING_CAPACITY;
let delay = 0;
let lowWmark = 0;
let minWmark = 0;
let lostSince = -1;                         // this CPU's first sight of an unserved request with nothing pending
// Fix toggles (races.ts): true = the guard is off.
let uNoIsolation = false;    // fpr-report-without-isolation
let uFlagKept = false;       // fpr-reported-flag-not-cleared
let uStaleNext = false;      // fpr-stale-next-after-unlock
let uRotateHead = false;     // fpr-rotate-list-head
let uRequestLost = false;    // fpr-request-lost
let rNoIsolation = 0, rFlagKept = 0, rStaleNext = 0, rRotateHead = 0, rRequestLost = 0; // race index + 1
const sgPfn = new Int32Array(PAGE_REPORTING_CAPACITY);
const sgOrder = new Int32Array(PAGE_REPORTING_CAPACITY);
let sgN = 0;

/** Per-participant setup (page_alloc.ts pageAllocInit): reads the machine's reporting words, if the host reports. */
export function pageReportingInit(): void {
  on = V.hdr[CTL_HOST] === HOST_REPORTING;
  order = MAX_ORDER;
  lostSince = -1;
  sgN = 0;
  if (!on) return;
  const g = reportingGeometry(V.nframes);
  const base = geometry(V.nframes, V.ncpus).hostArea;
  A = new Int32Array(V.sab, base, g.words);
  freedAt = A.subarray(g.freedAt, g.freedAt + V.nframes);
  PRC = new Float64Array(V.sab, base + g.counters * 4, MAX_PARTICIPANTS * PR_COUNTERS).subarray(ME * PR_COUNTERS, (ME + 1) * PR_COUNTERS);
  sim = V.hdr[CTL_MODE] === 1;
  order = A[PR_ORDER] === 0 ? MAX_ORDER : A[PR_ORDER] - 1; // 0 during boot's frees: nothing to report yet
  capacity = A[PR_CAPACITY];
  delay = A[PR_DELAY];
  lowWmark = A[PR_LOW_WMARK];
  minWmark = A[PR_MIN_WMARK];
  uNoIsolation = isUnfixed(V.hdr, 'fpr-report-without-isolation');
  uFlagKept = isUnfixed(V.hdr, 'fpr-reported-flag-not-cleared');
  uStaleNext = isUnfixed(V.hdr, 'fpr-stale-next-after-unlock');
  uRotateHead = isUnfixed(V.hdr, 'fpr-rotate-list-head');
  uRequestLost = isUnfixed(V.hdr, 'fpr-request-lost');
  rNoIsolation = raceIndex('fpr-report-without-isolation') + 1;
  rFlagKept = raceIndex('fpr-reported-flag-not-cleared') + 1;
  rStaleNext = raceIndex('fpr-stale-next-after-unlock') + 1;
  rRotateHead = raceIndex('fpr-rotate-list-head') + 1;
  rRequestLost = raceIndex('fpr-request-lost') + 1;
}

/** page_reporting_order for the allocator's notify test (MAX_ORDER: off). */
export function reportingOrder(): number {
  return order;
}

/** Flags besides PG_buddy cleared when a block leaves a free list: PageReported (unless fpr-reported-flag-not-cleared is unfixed). */
export function reportingClearMask(): number {
  return on && !uFlagKept ? PG_reported : 0;
}

/** The model clock: the global step (sim) or wall-clock ms (threads; never a sim decision). */
function now(): number {
  return modelNow(sim);
}

/** t has reached `due` on the wrapping 30-bit clock. */
function reached(t: number, due: number): boolean {
  return ((t - due) << 2) >= 0;
}

function schedule(): void {
  PRC[PC.requests]++;
  Atomics.store(A, PR_DUE, (now() + delay) & TIME_MASK); // before PR_PENDING: a CPU that sees pending reads this due
  Atomics.store(A, PR_PENDING, 1);
}

/**
 * page_reporting_notify_free (zone lock held): a block of order >= page_reporting_order
 * reached the buddy. Cheap: one atomic read and, unless already REQUESTED, one exchange.
 */
export function page_reporting_notify_free(pfn: number, _order: number): void {
  PRC[PC.notifies]++;
  freedAt[pfn] = now(); // zone lock: the block's head is ours until it leaves the list
  Atomics.add(A, PR_REQ_GEN, 1);
  if (Atomics.load(A, PR_STATE) === PR_REQUESTED) return;
  // xchg: exactly one notifier sees IDLE and queues the work (I5)
  if (Atomics.exchange(A, PR_STATE, PR_REQUESTED) === PR_IDLE) schedule();
}

/** I2: a block leaving the allocator must not carry PageReported (fpr-reported-flag-not-cleared). */
export function page_reporting_check_alloc(pfn: number): void {
  if ((V.page[pfn * PAGE_WORDS + PG_FLAGS] & PG_reported) !== 0) {
    report(V, O.invalid_state, pfn, ME, STEPS, `alloc_pages: the allocated block still carries PageReported (the flag must be cleared when a block leaves the free list); ${describePage(V, pfn)}`, rFlagKept);
  }
}

/**
 * A guest CPU between two workload steps: run the delayed work when it is due (one CPU
 * takes it), and watch for a request nobody will serve (the leak oracle of fpr-request-lost).
 */
export function page_reporting_tick(): void {
  if (!on) return;
  if (Atomics.load(A, PR_PENDING) !== 0) {
    lostSince = -1;
    if (!reached(now(), Atomics.load(A, PR_DUE))) return;
    if (Atomics.compareExchange(A, PR_PENDING, 1, 0) !== 1) return; // another CPU took it
    page_reporting_process();
    return;
  }
  // Nothing queued: every qualifying free since the last pass began must have been served.
  // (A notifier is between its add and its exchange for a moment in threads mode: the oracle
  // waits a whole delay before it speaks.)
  if (Atomics.load(A, PR_STATE) === PR_IDLE && Atomics.load(A, PR_REQ_GEN) > Atomics.load(A, PR_SERVED_GEN)) {
    const t = now();
    if (lostSince < 0) { lostSince = t; return; }
    if (reached(t, (lostSince + 2 * delay + 1) & TIME_MASK)) {
      const n = Atomics.load(A, PR_REQ_GEN) - Atomics.load(A, PR_SERVED_GEN);
      report(V, O.leak, -1, ME, STEPS, `page reporting: ${n} qualifying free(s) since the last pass began were never served: the worker is idle and nothing is queued, so those blocks stay unreported (host memory not returned) until another free of order >= ${order}`, rRequestLost);
      lostSince = -1;
    }
  } else {
    lostSince = -1;
  }
}

function zoneLock(): void {
  if (spinLock(V.hdr, ZONE_LOCK, ME) > 0) CNT[C.zone_lock_contended]++;
}
function zoneUnlock(): void {
  spinUnlock(V.hdr, ZONE_LOCK, ME); // the static bug_on reporter (spinlock.ts)
}

/** page_reporting_process: one pass over the zone (the model has one zone). */
function page_reporting_process(): void {
  PRC[PC.passes]++;
  tr(T_REPORT_B, ME); // its own track in the trace export (the kworker), on this CPU's clock
  Atomics.store(A, PR_STATE, PR_ACTIVE);
  Atomics.store(A, PR_SERVED_GEN, Atomics.load(A, PR_REQ_GEN)); // every request so far is served by this pass
  sgN = 0;
  let err = false;
  // Zone gate: free pages above the low watermark plus one full batch of the smallest order (a racy read, as in Linux).
  if (Atomics.load(V.hdr, ZONE_FREE_PAGES) > lowWmark + (capacity << order)) {
    for (let o = order; o < MAX_ORDER && !err; o++) err = page_reporting_cycle(o);
    if (!err && sgN > 0) { // the leftover partial batch
      const ok = reportBatch();
      zoneLock();
      __page_reporting_drain(ok);
      zoneUnlock();
    }
  } else {
    PRC[PC.zone_skipped]++;
  }
  if (uRequestLost) {
    // unfixed: IDLE unconditionally; a free that asked during the pass is forgotten
    if (Atomics.exchange(A, PR_STATE, PR_IDLE) === PR_REQUESTED) PRC[PC.lost_requests]++;
  } else if (Atomics.compareExchange(A, PR_STATE, PR_ACTIVE, PR_IDLE) !== PR_ACTIVE) {
    schedule(); // REQUESTED meanwhile (a free or the budget): one more pass after the delay
  }
  tr(T_REPORT_E, PRC[PC.reported_blocks]);
}

/** The report call, zone lock dropped: the host discards the blocks (H.reportBlocks). */
function reportBatch(): boolean {
  PRC[PC.report_calls]++;
  PRC[PC.reported_blocks] += sgN;
  for (let i = 0; i < sgN; i++) PRC[PC.reported_pages] += 1 << sgOrder[i];
  return H.reportBlocks(sgPfn, sgOrder, sgN);
}

function isBuddy(pfn: number, o: number): boolean {
  const b = pfn * PAGE_WORDS;
  return (V.page[b + PG_FLAGS] & PG_buddy) !== 0 && V.page[b + PG_PRIVATE] === o;
}

/** __isolate_free_page: take the block off its free list, unless the min watermark forbids it. 0 refused, 1 taken, -1 corrupt. */
function __isolate_free_page(pfn: number, o: number): number {
  if (V.hdr[ZONE_FREE_PAGES] - (1 << o) < minWmark) { PRC[PC.isolate_refused]++; return 0; }
  if (!isBuddy(pfn, o)) { // VM_BUG_ON_PAGE(!PageBuddy): a list pointer that no longer names a free block
    report(V, O.buddy, pfn, ME, STEPS, `__isolate_free_page: the order-${o} list entry is not a free block of that order (a list pointer kept across the unlocked report call); ${describePage(V, pfn)}`, rStaleNext);
    return -1;
  }
  PRC[PC.isolations]++;
  if (uNoIsolation) return 1; // unfixed: handed to the host while still on the free list (allocatable)
  const p = V.page;
  const b = pfn * PAGE_WORDS;
  const next = p[b + PG_LRU_NEXT];
  const prev = p[b + PG_LRU_PREV];
  if (prev === NIL) V.hdr[FREE_HEAD + o] = next; else p[prev * PAGE_WORDS + PG_LRU_NEXT] = next;
  if (next !== NIL) p[next * PAGE_WORDS + PG_LRU_PREV] = prev;
  p[b + PG_LRU_NEXT] = NIL;
  p[b + PG_LRU_PREV] = NIL;
  V.hdr[FREE_NR + o]--;
  V.hdr[ZONE_FREE_PAGES] -= 1 << o;
  p[b + PG_FLAGS] &= ~(PG_buddy | PG_reported);
  p[b + PG_PRIVATE] = 0;
  return 1;
}

/** __page_reporting_drain: put the batch back (merging as __free_one_page does); mark what came back whole. */
function __page_reporting_drain(reported: boolean): void {
  for (let i = 0; i < sgN; i++) {
    const pfn = sgPfn[i];
    const o = sgOrder[i];
    if (!uNoIsolation) {
      __free_one_page(pfn, o, false); // FPI_SKIP_REPORT_NOTIFY (put back at the head: nothing relies on FPI_TO_TAIL, I6)
      PRC[PC.putbacks]++;
    }
    if (reported && isBuddy(pfn, o)) V.page[pfn * PAGE_WORDS + PG_FLAGS] |= PG_reported;
    else if (reported) PRC[PC.merged_on_putback]++;
  }
  sgN = 0;
}

/** list_rotate_to_front(page, list): `pfn` becomes the first entry; the entries before it go to the tail. */
function __rotate_to_front(o: number, pfn: number): void {
  const p = V.page;
  const head = V.hdr[FREE_HEAD + o];
  if (pfn === head) return;
  let tail = pfn;
  for (let n = 0; p[tail * PAGE_WORDS + PG_LRU_NEXT] !== NIL && n < V.nframes; n++) tail = p[tail * PAGE_WORDS + PG_LRU_NEXT];
  const before = p[pfn * PAGE_WORDS + PG_LRU_PREV];
  p[before * PAGE_WORDS + PG_LRU_NEXT] = NIL;
  p[pfn * PAGE_WORDS + PG_LRU_PREV] = NIL;
  p[tail * PAGE_WORDS + PG_LRU_NEXT] = head;
  p[head * PAGE_WORDS + PG_LRU_PREV] = tail;
  V.hdr[FREE_HEAD + o] = pfn;
}

/**
 * list_rotate_to_front(&head->lru, list) with `next` the list head itself (fpr-rotate-list-head
 * unfixed): list_move_tail of the head onto itself unlinks it and relinks the old last entry
 * to the first, which leaves the entries in a ring. CONFIG_DEBUG_LIST's check of the list
 * (a bounded walk that must end and whose back links agree) reports it.
 */
function __rotate_head_onto_itself(o: number): void {
  const p = V.page;
  const head = V.hdr[FREE_HEAD + o];
  if (head === NIL) return;
  let tail = head;
  for (let n = 0; p[tail * PAGE_WORDS + PG_LRU_NEXT] !== NIL && n < V.nframes; n++) tail = p[tail * PAGE_WORDS + PG_LRU_NEXT];
  p[tail * PAGE_WORDS + PG_LRU_NEXT] = head;
  p[head * PAGE_WORDS + PG_LRU_PREV] = tail;
  __list_debug_check(o);
}

/** CONFIG_DEBUG_LIST for a free list: it ends within nr_free entries and every back link agrees. */
function __list_debug_check(o: number): boolean {
  const p = V.page;
  let prev = NIL;
  let n = 0;
  for (let pfn = V.hdr[FREE_HEAD + o]; pfn !== NIL; pfn = p[pfn * PAGE_WORDS + PG_LRU_NEXT]) {
    if (p[pfn * PAGE_WORDS + PG_LRU_PREV] !== prev || ++n > V.hdr[FREE_NR + o]) {
      report(V, O.buddy, pfn, ME, STEPS, `list corruption: the order-${o} free list ${n > V.hdr[FREE_NR + o] ? `runs past its ${V.hdr[FREE_NR + o]} entries (a ring)` : `has a back link to ${p[pfn * PAGE_WORDS + PG_LRU_PREV]}, not ${prev}`} after the reporting worker rotated it; ${describePage(V, pfn)}`, rRotateHead);
      return false;
    }
    prev = pfn;
  }
  return true;
}

/** page_reporting_cycle: one free list. Returns true on an error that ends the pass. */
function page_reporting_cycle(o: number): boolean {
  if (V.hdr[FREE_HEAD + o] === NIL) return false; // list_empty without the lock (racy, as in Linux)
  zoneLock();
  const p = V.page;
  let budget = Math.ceil(V.hdr[FREE_NR + o] / (capacity * 16));
  let page = V.hdr[FREE_HEAD + o];
  let next = NIL;
  let err = false;
  let visited = 0;
  while (page !== NIL) {
    next = p[page * PAGE_WORDS + PG_LRU_NEXT]; // list_for_each_entry_safe
    if (++visited > 2 * V.nframes) { __list_debug_check(o); err = true; break; }
    PRC[PC.nodes_visited]++;
    if ((p[page * PAGE_WORDS + PG_FLAGS] & PG_reported) !== 0) { PRC[PC.skipped_reported]++; page = next; continue; }
    if (budget < 0) {
      Atomics.store(A, PR_STATE, PR_REQUESTED); // more to do: one more pass later
      PRC[PC.budget_exhausted]++;
      next = page;
      break;
    }
    if (sgN < capacity) {
      const r = __isolate_free_page(page, o);
      if (r <= 0) { next = r < 0 ? NIL : page; err = r < 0; break; }
      sgPfn[sgN] = page;
      sgOrder[sgN] = o;
      sgN++;
      page = next;
      continue;
    }
    // The batch is full: this page goes to the front so the walk resumes here; report unlocked.
    if (page !== V.hdr[FREE_HEAD + o]) __rotate_to_front(o, page);
    zoneUnlock();
    const ok = reportBatch();
    budget--;
    zoneLock();
    __page_reporting_drain(ok);
    // "the old next isn't valid since we dropped the lock" (I4); unfixed: keep it
    next = uStaleNext ? next : V.hdr[FREE_HEAD + o];
    if (!ok) { err = true; break; }
    page = next;
  }
  // Rotate any leftover pages to the head of the free list; `next` may be the list head (NIL here).
  if (!err) {
    if (next !== NIL) { if (next !== V.hdr[FREE_HEAD + o] && isBuddy(next, o)) __rotate_to_front(o, next); }
    else if (uRotateHead && page === NIL && V.hdr[FREE_HEAD + o] !== NIL) __rotate_head_onto_itself(o);
  }
  zoneUnlock();
  return err;
}
