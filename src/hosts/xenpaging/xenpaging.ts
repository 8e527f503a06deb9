/**
 * xenpaging: the dom0 pager of the guest domain (xenpaging_kvm.md 1.6-1.7). It knows
 * nothing of guest page states: it keeps the domain's tot_pages at its target by
 * evicting victims a linear scan picks, writes them to its page file (the swap region,
 * one slot per page), and pages them back in when the ring asks.
 *
 * Default policy (policy_default.c): a cursor starting at max_pages / 2 that wraps, gfn 0
 * never paged, gfns refused at nomination marked "unconsumed" and retried after 123 full
 * scans without a victim, an MRU of 16384 recently paged-in gfns kept resident while more
 * gfns are out than it holds, at most 42 evictions per loop turn, page-back of at most
 * 64 gfns per trigger (lowest first) when tot_pages is under the target.
 *
 * Evicting one victim, in the seed's order (xp-map-first fixed): map, nominate, write the
 * slot, unmap, drain the ring (an EVICT_FAIL for the victim cancels the evict), evict.
 * Upstream's order (xp-map-first off): nominate, map, write, unmap, drain, evict.
 *
 * All pager state lives in the xenpaging area (layout.ts XP_*, xenGeometry), owned by
 * this participant; the hypercalls are in src/shared/p2m.ts, the ring in xen_ring.ts.
 */
import { C } from '../../core/counters.js';
import { CNT, ME, V } from '../../core/ctx.js';
import {
  MRU_SIZE, PAGE_SIZE, XH_FLUSH_CACHE, XH_PAGER_GONE, XH_TARGET, XH_TOT_PAGES, XP_CURSOR, XP_I_MRU, XP_NUM_PAGED_OUT,
  XP_SLOT_TOP, XP_WRAPS,
} from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import {
  E_BUSY_COUNT, E_NOMEM, E_OK, P2M_PAGED, copyFromSlot, copyToSlot, describeGfn, entryType, evict, foreignMap,
  foreignUnmap, load, nominate, p2mGet, pagerScrub, prep, resumeGfn, xpUnfixed,
} from './p2m.js';
import { raceBit } from '../../core/races.js';
import { SP_HOST, SP_SPIN, STEPS, simActive, sp } from '../../core/sched.js';
import { countWaste } from '../../core/waste.js';
import {
  MEM_EVENT_FLAG_DROP_PAGE, MEM_EVENT_FLAG_EVICT_FAIL, MEM_EVENT_FLAG_VCPU_PAUSED, drainDone, entry, flagNames,
  ringGetRequest, ringGetResponse, ringPendingRequests, ringPushResponses, ringPutResponse, unpauseVcpu,
} from './xen_ring.js';
import { XC, XCNT, XV } from './xen_views.js';

export const EVICT_PER_PASS = 42;
export const PAGEIN_BATCH = 64;
export const UNCONSUMED_RESET_SCANS = 123;
const NOT_VICTIM = 1; // policy "bitmap": paged out, in the MRU, or gfn 0
const UNCONSUMED = 2; // chosen and refused; skipped until the reset
const ENOMEM_TRIES = 1000;
/**
 * Sim mode: a page-file read or write is disk I/O, during which the others run: the
 * pager yields this many times (a paused participant, like a preempted vCPU). Threads
 * mode copies at memory speed and yields nothing.
 */
export const PAGE_FILE_IO_YIELDS = 2;

const U_ANSWER_EVICT_FAIL = raceBit('xp-answer-evict-fail');  // X3
const U_SCRUB_AFTER_EVICT = raceBit('xp-scrub-after-evict');  // X4
const U_LOAD_BEFORE_PUBLISH = raceBit('xp-load-before-publish'); // X5
const U_ANSWER_DROPS = raceBit('xp-answer-drops');            // X9
const U_MAP_FIRST = raceBit('xp-map-first');                  // X11

let lastFlushPaged = -1;
let exiting = false;
const sleepWord = new Int32Array(new SharedArrayBuffer(4)); // nobody notifies it: a bounded sleep

function x(): Int32Array { return XV.x; }

/** Per-run reset of the pager's private state (its shared state is set at boot). */
export function pagerInit(): void {
  lastFlushPaged = -1;
  exiting = false;
}

// ------------------------------------------------------------------ policy
/** policy_choose_victim: the next gfn after the cursor that is neither out, in the MRU, nor refused. -1 none. */
function choose(): number {
  const w = x();
  const pol = XV.g.policy;
  const n = V.nframes;
  let cur = w[XP_CURSOR];
  for (let i = 0; i < n; i++) {
    cur = cur + 1 >= n ? 0 : cur + 1;
    const f = w[pol + cur];
    if ((f & (NOT_VICTIM | UNCONSUMED)) !== 0) continue;
    w[pol + cur] = f | UNCONSUMED;
    w[XP_CURSOR] = cur;
    return cur;
  }
  w[XP_CURSOR] = cur;
  if (++w[XP_WRAPS] > UNCONSUMED_RESET_SCANS) { // refused gfns get another chance
    for (let g = 0; g < n; g++) w[pol + g] &= ~UNCONSUMED;
    w[XP_WRAPS] = 0;
  }
  return -1;
}

function notifyPagedOut(g: number): void {
  const w = x();
  w[XV.g.policy + g] = (w[XV.g.policy + g] | NOT_VICTIM) & ~UNCONSUMED;
  w[XP_WRAPS] = 0;
}

/** policy_notify_paged_in: the MRU slot's old gfn becomes a candidate again; `mru`: keep this one resident for a while. */
function notifyPagedIn(g: number, mru: boolean): void {
  const w = x();
  const i = w[XP_I_MRU] & (MRU_SIZE - 1);
  const old = w[XV.g.mru + i];
  if (old >= 0) w[XV.g.policy + old] &= ~NOT_VICTIM;
  if (mru) w[XV.g.mru + i] = g;
  else { w[XV.g.policy + g] &= ~NOT_VICTIM; w[XV.g.mru + i] = -1; }
  w[XP_I_MRU] = w[XP_I_MRU] + 1;
}

function notifyDropped(g: number): void {
  x()[XV.g.policy + g] &= ~NOT_VICTIM;
}

// ------------------------------------------------------------------ page file
function pageFileIo(slot: number): void {
  if (!simActive()) return;
  for (let i = 0; i < PAGE_FILE_IO_YIELDS; i++) sp(SP_SPIN, slot);
}

function popSlot(): number {
  const w = x();
  const top = w[XP_SLOT_TOP];
  if (top === 0) return -1;
  w[XP_SLOT_TOP] = top - 1;
  return w[XV.g.slotStack + top - 1];
}

function pushSlot(s: number): void {
  const w = x();
  w[XV.g.slotStack + w[XP_SLOT_TOP]] = s;
  w[XP_SLOT_TOP]++;
}

/** The gfn leaves the page file (paged in or dropped). */
function forget(g: number, slot: number): void {
  const w = x();
  w[XV.g.gfnToSlot + g] = -1;
  w[XV.g.slotToGfn + slot] = -1;
  w[XP_NUM_PAGED_OUT]--;
  pushSlot(slot);
}

/**
 * Page gfn g in from `slot`: load (4.2: Xen copies the buffer, then publishes), or with
 * xp-load-before-publish off the older prep (publishes a fresh frame), map read-write,
 * copy, unmap, resume. Retries ENOMEM. Returns false if g cannot be loaded (dropped, or
 * with onlyPaged a populate in flight).
 */
function pageIn(g: number, slot: number, onlyPaged: boolean): boolean {
  const prepPath = xpUnfixed(U_LOAD_BEFORE_PUBLISH);
  if (onlyPaged && entryType(p2mGet(g)) !== P2M_PAGED) return false;
  if (!prepPath) pageFileIo(slot); // read the slot into the buffer load hands to Xen
  for (let i = 0; ; i++) {
    const r = prepPath ? (onlyPaged && entryType(p2mGet(g)) !== P2M_PAGED ? -1 : prep(g)) : load(g, slot, onlyPaged);
    if (r === E_OK) break;
    if (r !== E_NOMEM) return false;
    XCNT[XC.load_enomem_retries]++;
    if (i === ENOMEM_TRIES) report(V, O.liveness, g, ME, STEPS, `pager: no machine frame to page gfn ${g} back in after ${ENOMEM_TRIES} tries; ${describeGfn(g)}`);
    if (i >= ENOMEM_TRIES) return false;
    if (simActive()) sp(SP_SPIN, g); else Atomics.wait(sleepWord, 0, 0, 1); // "sleep 1 s and retry", scaled to 1 ms
  }
  if (prepPath) {
    const m = foreignMap(g, false); // paging_in with a frame is mappable: the window of X5
    if (m >= 0) {
      pageFileIo(slot); // the read from the page file straight into the published frame
      copyFromSlot(g, m, slot);
      foreignUnmap(g, m);
    }
    resumeGfn(g, 0);
  }
  if (exiting) XCNT[XC.pager_exit_loads]++;
  else { CNT[C.host_pageins]++; XCNT[XC.pager_loads]++; }
  return true;
}

// ------------------------------------------------------------------ the ring
/** Answer a request and have Xen resume it at once (one resume call per response, as the pager did until 2012). */
function respond(flags: number, vcpu: number, g: number, p2mt: number): void {
  ringPutResponse(flags, vcpu, g, p2mt);
  ringPushResponses();
  resume();
}

/** Handle the request in `entry`; true if it is an EVICT_FAIL for `victim`. */
function handleRequest(victim: number): boolean {
  const flags = entry[0], vcpu = entry[1], g = entry[2], p2mt = entry[3];
  if (g < 0 || g >= V.nframes) {
    report(V, O.protocol, -1, ME, STEPS, `pager: garbage in the ring: a request for gfn ${g} (${flagNames(flags)}, vcpu ${vcpu})`);
    return false;
  }
  sp(SP_HOST, g);
  const slot = x()[XV.g.gfnToSlot + g];
  if ((flags & MEM_EVENT_FLAG_DROP_PAGE) !== 0) {
    if (slot >= 0) { notifyDropped(g); forget(g, slot); }
    if (!xpUnfixed(U_ANSWER_DROPS)) respond(flags, vcpu, g, p2mt); // unfixed X9: drops were one-way
  } else if (slot >= 0) {
    if (pageIn(g, slot, false)) {
      forget(g, slot);
      notifyPagedIn(g, x()[XP_NUM_PAGED_OUT] > MRU_SIZE);
    } // else dropped meanwhile: its DROP_PAGE request follows and frees the slot
    respond(flags, vcpu, g, p2mt);
  } else if ((flags & MEM_EVENT_FLAG_VCPU_PAUSED) !== 0 || !xpUnfixed(U_ANSWER_EVICT_FAIL)) {
    respond(flags, vcpu, g, p2mt); // nothing to load (evict failed or never happened); unfixed X3: only paused vCPUs were answered
  }
  return g === victim && (flags & MEM_EVENT_FLAG_EVICT_FAIL) !== 0;
}

/** Xen's resume for every published response (the pager's kick): publish ram_rw where due, unpause vCPUs. */
function resume(): void {
  while (ringGetResponse()) {
    const flags = entry[0], vcpu = entry[1], g = entry[2];
    resumeGfn(g, flags);
    if ((flags & MEM_EVENT_FLAG_VCPU_PAUSED) !== 0) unpauseVcpu(vcpu);
  }
}

/** Consume every pending request and answer it. True if an EVICT_FAIL for `victim` came by. */
export function drain(victim: number): boolean {
  let failed = false;
  while (ringGetRequest()) if (handleRequest(victim)) failed = true;
  drainDone();
  return failed;
}

// ------------------------------------------------------------------ eviction
function wroteSlot(g: number, change: number): void {
  CNT[C.host_pageouts]++;
  CNT[C.host_swap_bytes_written] += PAGE_SIZE;
  XCNT[XC.pager_slot_writes]++;
  countWaste(g, change);
}

/** Evict one victim (xenpaging_evict_page). Returns true if it went out. */
function evictVictim(g: number): boolean {
  sp(SP_HOST, g);
  const mapFirst = !xpUnfixed(U_MAP_FIRST);
  let m = -1;
  if (mapFirst) {
    m = foreignMap(g, false);
    if (m < 0) return false;
    if (nominate(g) !== E_OK) { foreignUnmap(g, m); return false; }
  } else {
    if (nominate(g) !== E_OK) return false;
    m = foreignMap(g, false); // paging_out is mappable in upstream's order
    if (m < 0) return false;  // populated meanwhile: the eviction is off
  }
  const slot = popSlot();
  if (slot < 0) { foreignUnmap(g, m); report(V, O.bug_on, g, ME, STEPS, 'pager: page file full'); return false; }
  sp(SP_HOST, g);
  const change = copyToSlot(g, m, slot);
  pageFileIo(slot); // write_page: the others run meanwhile
  wroteSlot(g, change);
  if (xpUnfixed(U_SCRUB_AFTER_EVICT)) pagerScrub(g, m);
  foreignUnmap(g, m);
  if (drain(g)) { // early "do not evict": the write was wasted, the evict call is saved
    XCNT[XC.wasted_writes_failed_evict]++;
    pushSlot(slot);
    return false;
  }
  const r = evict(g);
  if (r !== E_OK) {
    XCNT[XC.wasted_writes_failed_evict]++;
    pushSlot(slot);
    if (r === E_BUSY_COUNT) {
      report(V, O.protocol, g, ME, STEPS, `pager: page-file write of gfn ${g} wasted: its frame gained a reference after ` +
        `nomination, so evict found an extra user (${describeGfn(g)}); with the gfn mapped before nomination every paging-state ` +
        'gfn refuses mappers and only populate, announced by EVICT_FAIL, can cancel an eviction');
    }
    return false;
  }
  const w = x();
  w[XV.g.gfnToSlot + g] = slot;
  w[XV.g.slotToGfn + slot] = g;
  w[XP_NUM_PAGED_OUT]++;
  notifyPagedOut(g);
  return true;
}

/** Nothing to evict: ask qemu to drop its map cache if the paged count moved since last time. */
function maybeFlush(): void {
  const n = x()[XP_NUM_PAGED_OUT];
  if (n === lastFlushPaged) return;
  lastFlushPaged = n;
  Atomics.store(x(), XH_FLUSH_CACHE, 1); // dom0 loads it and drops its map cache
  XCNT[XC.mapcache_flushes]++;
}

/** Page back up to k gfns, lowest first (only plain paged ones; `all` at exit). Returns how many. */
function pageBack(k: number, all: boolean): number {
  const w = x();
  let done = 0;
  for (let g = 0; g < V.nframes && done < k && w[XP_NUM_PAGED_OUT] > 0; g++) {
    const slot = w[XV.g.gfnToSlot + g];
    if (slot < 0) continue;
    if (pageIn(g, slot, !all)) { forget(g, slot); notifyPagedIn(g, false); done++; }
  }
  return done;
}

/** One turn of the pager's main loop. Returns the work done (0: nothing to do). */
export function pagerPass(): number {
  XCNT[XC.pager_passes]++;
  drain(-1);
  const w = x();
  const n = Atomics.load(w, XH_TOT_PAGES); // a statistic others add to: a snapshot is enough to decide this pass
  const target = w[XH_TARGET];
  let work = 0;
  if (n > target) {
    const k = Math.min(n - target, EVICT_PER_PASS);
    for (let i = 0; i < k; i++) {
      const g = choose();
      if (g < 0) { maybeFlush(); break; }
      evictVictim(g);
      work++;
    }
  } else if (n < target && w[XP_NUM_PAGED_OUT] > 0) {
    work += pageBack(Math.min(target - n, PAGEIN_BATCH), false);
  }
  return work;
}

/** Anything waiting for the pager right now (no scheduling point)? */
export function pagerHasWork(): boolean {
  return ringPendingRequests();
}

/** SIGTERM: page everything back in (batches of 64), answer what is pending, and go. */
export function pagerExit(): void {
  const w = x();
  exiting = true;
  for (let round = 0; round < 4 * V.nframes && w[XP_NUM_PAGED_OUT] > 0; round++) {
    drain(-1);
    if (pageBack(PAGEIN_BATCH, true) === 0 && !ringPendingRequests()) break;
  }
  drain(-1);
  Atomics.store(w, XH_PAGER_GONE, 1); // waiters stop waiting for us
  drainDone();
}
