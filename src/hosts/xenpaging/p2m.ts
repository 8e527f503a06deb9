/**
 * Xen paging, hypervisor side (xenpaging_kvm.md 1.2-1.5): the p2m of the guest domain,
 * its machine frames with their reference counts, and the operations on them -
 * nominate, evict, populate, load (and the older prep), resume, guest_remove_page and
 * populate_physmap - plus the guest access path that hw.ts takes when CTL_HOST is
 * HOST_XENPAGING. This is hypervisor code: it runs on whichever participant enters it
 * (a guest vCPU faulting, dom0 mapping, the pager's hypercalls).
 *
 * The pager knows nothing of guest page states: ESSA is a no-op here (xpEssaIgnored).
 *
 * p2m entry (one word per gfn, XP2M_BASE): type (bits 0-3) | aux (bits 4-7) | mfn << 8,
 * mfn MFN_NONE = none. aux is model bookkeeping: for an invalid ("dropped") entry, the
 * paging type it was dropped from (D1-D3 of 1.3). Types use the 4.2 values.
 *
 * Machine frames (mfn records, MFN_WORDS each): count = references (the allocation
 * reference while PGC_allocated is set, plus every mapping and temporary reference);
 * m2p = the gfn it backs. A frame's content lives at its gfn in the frames region while
 * it backs that gfn; a frame no p2m entry names any more (an orphan, still referenced)
 * has no reachable content - a write through a mapping of it is lost.
 *
 * Lock order:
 *   p2m entry lock of one gfn (HS_LOCK of its host state word: hw.ts frameLock)
 *     ring lock (xen_ring.ts)
 *     heap lock (XH_HEAP_LOCK): the machine-frame free list
 * One entry lock at a time. Entry words are written only under their entry lock and
 * stored with Atomics.store, so lock-free readers (audits, diagnostics) see whole words.
 */
import { C } from '../../core/counters.js';
import { CNT, ME, V } from '../../core/ctx.js';
import { ACC_ADDRESSING, ACC_OK, ACC_PAGE_IN, frameLock, frameUnlock } from '../../core/hw.js';
import {
  CTL_UNFIX, HS_CHANGE, HS_LOCK, HS_REF, MF_COUNT, MF_FLAGS, MF_M2P, MF_NEXT, MFN_WORDS, NIL, PAGE_INTS, PAGE_WORDS, PG_FLAGS,
  PGC_ALLOCATED, XH_FREE_COUNT, XH_FREE_HEAD, XH_HEAP_LOCK, XH_PAGED_PAGES, XH_TOT_PAGES, type Views,
} from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import { PG_writeback } from '../../core/page_flags.js';
import { raceBit } from '../../core/races.js';
import { SP_ACCESS, SP_HOST, STEPS, setSpinCheck, sp } from '../../core/sched.js';
import { spinLock, spinUnlock } from '../../core/spinlock.js';
import {
  E_BUSY, MEM_EVENT_FLAG_EVICT_FAIL, MEM_EVENT_FLAG_FOREIGN, MEM_EVENT_FLAG_VCPU_PAUSED, kickPager, pauseSelf,
  ringCancel, ringClaim, ringDom0, ringPut, spinOnPagingIn, waitUnpaused, MEM_EVENT_FLAG_DROP_PAGE, checkAbandon,
} from './xen_ring.js';
import { XC, XCNT, XV, XenViews } from './xen_views.js';

export const P2M_RAM_RW = 0;
export const P2M_INVALID = 1;
export const P2M_RAM_LOGDIRTY = 2;   // named for completeness; log-dirty mode is not modelled
export const P2M_PAGING_OUT = 9;
export const P2M_PAGED = 10;
export const P2M_PAGING_IN = 11;
export const P2M_NAMES: Record<number, string> = {
  0: 'ram_rw', 1: 'invalid', 2: 'ram_logdirty', 9: 'paging_out', 10: 'paged', 11: 'paging_in',
};
export const MFN_NONE = 0xffffff;
export const SCRUB_WORD = 0xc2c2c2c2 | 0; // Xen's debug scrub pattern: content of a frame after evict

export const E_OK = 0;
export const E_NOENT = -2;
export const E_NOMEM = -12;
export const E_INVAL = -22;
export const E_BUSY_COUNT = -1016; // evict refused on the reference count (distinguished for the X11 oracle)
export { E_BUSY };

// Fix toggles (races.ts): bit set in CTL_UNFIX = the fix is off.
const U_EVICT_RECOUNT = raceBit('xp-evict-recount');            // X1
const U_POPULATE_PAGING_OUT = raceBit('xp-populate-paging-out'); // X2
const U_ONLY_FROM_PAGED = raceBit('xp-populate-only-from-paged'); // X6
const U_MAP_FIRST = raceBit('xp-map-first');                     // X11

export function xpUnfixed(bit: number): boolean {
  return (V.hdr[CTL_UNFIX] & bit) !== 0;
}

export function entryWord(type: number, mfn: number, aux = 0): number {
  return type | (aux << 4) | (mfn << 8);
}
export function entryType(e: number): number { return e & 0xf; }
export function entryAux(e: number): number { return (e >>> 4) & 0xf; }
export function entryMfn(e: number): number { return e >>> 8; }

export function p2mGet(g: number): number {
  return Atomics.load(XV.x, XV.g.p2m + g); // whole word; under the entry lock it is current (the lock's CAS orders it), outside it may be stale
}
/** Entry lock of g held. Release: readers that load the word see it whole. */
function p2mSet(g: number, type: number, mfn: number, aux = 0): void {
  Atomics.store(XV.x, XV.g.p2m + g, entryWord(type, mfn, aux));
}

function mf(m: number): number { return XV.g.mfn + m * MFN_WORDS; }
// Frame words are read with Atomics.load: exact under the entry lock of the gfn the frame backs
// (every change to a backing frame's count or flags happens under it, or is a mapper's get/put
// that nominate and evict re-read under that lock); diagnostics elsewhere tolerate staleness.
export function mfnCount(m: number): number { return Atomics.load(XV.x, mf(m) + MF_COUNT); }
export function mfnAllocated(m: number): boolean { return (Atomics.load(XV.x, mf(m) + MF_FLAGS) & PGC_ALLOCATED) !== 0; }
export function mfnM2p(m: number): number { return Atomics.load(XV.x, mf(m) + MF_M2P); }

/** "gfn 7: paging_in, frame 7 (count 1, allocated, m2p 7)" */
export function describeGfn(g: number): string {
  if (g < 0 || g >= V.nframes) return `gfn ${g} (out of range)`;
  const e = p2mGet(g);
  const m = entryMfn(e);
  const frame = m === MFN_NONE ? 'no frame' : `frame ${m} (count ${mfnCount(m)}, ${mfnAllocated(m) ? 'allocated' : 'not allocated'}, m2p ${mfnM2p(m)})`;
  return `gfn ${g}: p2m ${P2M_NAMES[entryType(e)] ?? `type ${entryType(e)}`}, ${frame}`;
}

/** replay --story: a gfn's p2m type and its frame's count, in one word (type | frame present << 4 | count + 1 << 8). */
export const XEN_STORY_WORD = {
  read(g: number): number {
    const e = p2mGet(g);
    const m = entryMfn(e);
    return entryType(e) | (m === MFN_NONE ? 0 : 0x10 | (Math.max(0, Math.min(mfnCount(m) + 1, 0xffff)) << 8));
  },
  name(w: number): string {
    const t = w & 0xf;
    return `p2m ${P2M_NAMES[t] ?? `type ${t}`}${w & 0x10 ? ` (frame count ${(w >>> 8) - 1})` : ''}`;
  },
};

function heapLock(): void { spinLock(XV.x, XH_HEAP_LOCK, ME); }
function heapUnlock(): void {
  spinUnlock(XV.x, XH_HEAP_LOCK, ME, (msg) => report(V, O.bug_on, -1, ME, STEPS, `xen heap: ${msg}`));
}

/** alloc_domheap_page for gfn g: count 1 (the allocation reference), PGC_allocated, m2p g. -1 = ENOMEM. */
function allocMfn(g: number): number {
  const x = XV.x;
  heapLock();
  const m = x[XH_FREE_HEAD];
  if (m === NIL) { heapUnlock(); return -1; }
  x[XH_FREE_HEAD] = x[mf(m) + MF_NEXT];
  x[XH_FREE_COUNT]--;
  heapUnlock();
  const b = mf(m);
  // The frame came off the free list under the heap lock (its release ordered the freer's stores): nobody else holds it.
  if (Atomics.load(x, b + MF_COUNT) !== 0) {
    report(V, O.refcount, g, ME, STEPS, `alloc_domheap_page: free frame ${m} has ${Atomics.load(x, b + MF_COUNT)} references`);
  }
  const old = Atomics.load(x, b + MF_M2P);
  if (old !== -1) {
    // O-m2p: a free frame has no m2p entry (X13's invariant).
    report(V, O.invalid_state, g, ME, STEPS, `alloc_domheap_page: free frame ${m} still names gfn ${old} in the m2p (stale m2p entry)`);
  }
  Atomics.store(x, b + MF_COUNT, 1);          // published to others by the entry lock's release when the caller attaches it
  Atomics.store(x, b + MF_FLAGS, PGC_ALLOCATED);
  Atomics.store(x, b + MF_M2P, g);
  Atomics.add(x, XH_TOT_PAGES, 1);            // a statistic: any participant adds, the pager and main load
  return m;
}

function freeMfn(m: number): void {
  const x = XV.x;
  const b = mf(m);
  // The last reference is gone: these stores precede the heap lock's release that hands the frame to its next allocator.
  Atomics.store(x, b + MF_FLAGS, 0);
  Atomics.store(x, b + MF_M2P, -1); // the m2p entry goes with the frame (4515d7bd13)
  heapLock();
  x[b + MF_NEXT] = x[XH_FREE_HEAD];
  x[XH_FREE_HEAD] = m;
  x[XH_FREE_COUNT]++;
  heapUnlock();
}

/** get_page on a frame known to be live (count > 0 under the entry lock). */
export function getPage(m: number): void {
  Atomics.add(XV.x, mf(m) + MF_COUNT, 1); // seq-cst add: nominate/evict read the count under the same entry lock
}

/** put_page: the last reference frees the frame. */
export function putPage(m: number, g: number): void {
  const c = Atomics.sub(XV.x, mf(m) + MF_COUNT, 1) - 1; // seq-cst RMW: exactly one putter sees the count reach 0 and frees
  if (c < 0) {
    Atomics.add(XV.x, mf(m) + MF_COUNT, 1); // undo, keep the evidence for the report
    report(V, O.refcount, g, ME, STEPS, `put_page: frame ${m} (of gfn ${g}) dropped below zero references`);
    return;
  }
  if (c === 0) freeMfn(m);
}

/** Drop the owner's allocation reference (test-and-clear PGC_allocated, then put_page). */
function dropAllocation(m: number, g: number): void {
  const was = Atomics.and(XV.x, mf(m) + MF_FLAGS, ~PGC_ALLOCATED); // test-and-clear: exactly one dropper wins
  if ((was & PGC_ALLOCATED) === 0) return;
  Atomics.sub(XV.x, XH_TOT_PAGES, 1); // statistic
  putPage(m, g);
}

/**
 * O-type-frame and O-orphan after an operation on g (entry lock held): the entry's type
 * and frame agree, and the frame the entry named before (`oldMfn`) is not left owned by
 * the domain with no entry naming it.
 */
function audit(g: number, oldMfn: number, op: string): void {
  const e = p2mGet(g);
  const t = entryType(e);
  const m = entryMfn(e);
  let bad = '';
  if (m !== MFN_NONE) {
    if (t === P2M_PAGED || t === P2M_INVALID) bad = `${P2M_NAMES[t]} with a frame`;
    else if (mfnCount(m) < 1 || !mfnAllocated(m)) bad = `${P2M_NAMES[t]} names frame ${m}, which is not an allocated, referenced frame`;
    else if (mfnM2p(m) !== g) bad = `frame ${m}'s m2p names gfn ${mfnM2p(m)}, not ${g}`;
  } else if (t === P2M_RAM_RW || t === P2M_PAGING_OUT) {
    bad = `${P2M_NAMES[t]} with no frame`;
  }
  if (bad) report(V, O.invalid_state, g, ME, STEPS, `p2m after ${op}: ${bad}; ${describeGfn(g)}`);
  if (oldMfn !== MFN_NONE && oldMfn !== m && mfnAllocated(oldMfn) && mfnM2p(oldMfn) === g) {
    report(V, O.leak, g, ME, STEPS, `p2m after ${op}: frame ${oldMfn} left gfn ${g}'s entry but is still allocated to the domain ` +
      `(count ${mfnCount(oldMfn)}, m2p ${g}) and no p2m entry names it: leaked; ${describeGfn(g)}`);
  }
}

// ------------------------------------------------------------------ populate
export const POP_POSTED = 0;  // request put (a guest vCPU is now paused)
export const POP_RACED = 1;   // the entry changed before we held its lock: look again
export const POP_EBUSY = 2;   // foreign caller: no ring slot (retry the whole operation)

/**
 * p2m_mem_paging_populate: a guest vCPU (guest) or a foreign caller touched a paged or
 * nominated gfn. Claims a ring slot first (a vCPU may sleep for one), then under the
 * entry lock turns paged -> paging_in, paging_out -> paging_in keeping the frame (with
 * EVICT_FAIL), pauses the vCPU and puts the request.
 */
export function populate(g: number, guest: boolean): number {
  const claimed = ringClaim(guest, g);
  if (claimed < 0) return POP_EBUSY;
  const w = frameLock(g);
  const e = p2mGet(g);
  const t = entryType(e);
  const m = entryMfn(e);
  let flags = guest ? MEM_EVENT_FLAG_VCPU_PAUSED : MEM_EVENT_FLAG_FOREIGN;
  if (t === P2M_PAGED) {
    p2mSet(g, P2M_PAGING_IN, MFN_NONE);
  } else if (t === P2M_PAGING_OUT) {
    // Fixed (2d1f750000): the eviction is cancelled here and the pager told so. Unfixed
    // (X2): the type stays paging_out and only a vCPU's pause is announced.
    if (!xpUnfixed(U_POPULATE_PAGING_OUT)) { p2mSet(g, P2M_PAGING_IN, m); flags |= MEM_EVENT_FLAG_EVICT_FAIL; }
  } else if (t === P2M_PAGING_IN && xpUnfixed(U_ONLY_FROM_PAGED)) {
    // Unfixed (X6): the 2009 populate rewrote any paging type to "paging_in_start" with a
    // placeholder frame, dropping a frame a page-in already attached.
    p2mSet(g, P2M_PAGING_IN, MFN_NONE);
  } else {
    frameUnlock(g, w);
    ringCancel(claimed, guest);
    return POP_RACED;
  }
  if (guest) pauseSelf(g);
  // A new page-in episode of g (a vCPU spinning on paging_in tells one episode from the next by it).
  Atomics.add(XV.x, XV.g.popGen + g, 1);
  ringPut(flags, guest ? ME : -1, g, t, claimed, guest);
  XCNT[guest ? XC.populate_guest : XC.populate_foreign]++;
  audit(g, m, `populate by ${guest ? `vCPU ${ME}` : 'a foreign caller'}`);
  frameUnlock(g, w);
  kickPager();
  return POP_POSTED;
}

// ------------------------------------------------------------------ the guest access path
let doorbell = 0;

/** Per-run reset of this participant's p2m-side state (the participantInit hook, from hwInit; a reused worker starts fresh). */
export function xpInit(): void {
  doorbell = 0;
  setSpinCheck(ME < V.ncpus ? checkAbandon : null);
}

function stillPagingIn(g: number): boolean {
  return entryType(p2mGet(g)) === P2M_PAGING_IN;
}

/**
 * hwBegin under xenpaging: the access needs g to be ram_rw (EPT rwx). Paged and
 * nominated gfns are populated and the vCPU pauses until the pager has loaded the page;
 * a gfn already being paged in is a spurious fault, re-entered until it is published
 * (X16). On success the entry lock is held (hwEnd drops it), so the access completes
 * whole before the pager can nominate or evict the gfn. The storage key's reference and
 * change bits are kept as on the ESSA path (the guest's dirty tracking uses them).
 */
export function xpAccessBegin(g: number, write: boolean): number {
  sp(SP_ACCESS, g);
  CNT[C.frame_accesses]++;
  if ((++doorbell & 15) === 0) ringDom0(); // guest I/O keeps the backends busy
  let outcome = ACC_OK;
  for (;;) {
    const w = frameLock(g);
    const e = p2mGet(g);
    const t = entryType(e);
    if (t === P2M_RAM_RW) {
      if (entryMfn(e) === MFN_NONE) {
        frameUnlock(g, w);
        report(V, O.invalid_state, g, ME, STEPS, `vCPU ${ME} ${write ? 'wrote' : 'read'} gfn ${g}, published ram_rw with no frame behind it: the guest runs on an unbacked gfn; ${describeGfn(g)}`);
        return ACC_ADDRESSING;
      }
      Atomics.store(V.hs, g, w | HS_REF | HS_LOCK | (write ? HS_CHANGE : 0)); // still locked: publish R/C with the lock bit kept
      return outcome;
    }
    frameUnlock(g, w);
    if (t === P2M_INVALID) return ACC_ADDRESSING; // a gfn the guest gave back (ballooned): the caller reports it
    checkAbandon(); // a populate/unpause livelock after a violation must not keep the run alive
    outcome = ACC_PAGE_IN;
    if (t === P2M_PAGED || t === P2M_PAGING_OUT || (t === P2M_PAGING_IN && xpUnfixed(U_ONLY_FROM_PAGED))) {
      if ((V.page[g * PAGE_WORDS + PG_FLAGS] & PG_writeback) !== 0) CNT[C.double_paging]++; // the guest writes out what the host paged out
      if (populate(g, true) === POP_POSTED) waitUnpaused(g, describeGfn);
      continue;
    }
    spinOnPagingIn(g, stillPagingIn, describeGfn);
  }
}

/** ESSA under xenpaging: the hypervisor keeps no guest page states; the old state reads as stable resident (Sr = 0). */
export function xpEssaIgnored(n: number): number {
  XCNT[XC.essa_ignored] += n;
  return 0;
}

// ------------------------------------------------------------------ foreign mappings
/**
 * Map gfn g for a foreign domain (dom0's backends and qemu, or the pager): returns the
 * frame (a reference is taken) or E_NOENT (paged or being paged in: a populate was
 * posted when needed; retry), E_BUSY (no ring slot; retry), E_INVAL (not RAM).
 * With the seed's order (xp-map-first fixed) a nominated gfn refuses every mapper: the
 * foreign access populates it instead, cancelling the eviction with EVICT_FAIL.
 * `mayPopulate` false: the pager's own mapping never pages anything in.
 */
export function foreignMap(g: number, mayPopulate: boolean): number {
  sp(SP_HOST, g);
  const w = frameLock(g);
  const e = p2mGet(g);
  const t = entryType(e);
  const m = entryMfn(e);
  if (m !== MFN_NONE && (t === P2M_RAM_RW || t === P2M_PAGING_IN || (t === P2M_PAGING_OUT && xpUnfixed(U_MAP_FIRST)))) {
    getPage(m);
    frameUnlock(g, w);
    XCNT[XC.foreign_maps]++;
    return m;
  }
  frameUnlock(g, w);
  if (t === P2M_INVALID) return E_INVAL;
  if (!mayPopulate || t === P2M_PAGING_IN) { XCNT[XC.foreign_enoent_retries]++; return E_NOENT; }
  const r = populate(g, false);
  if (r === POP_EBUSY) { XCNT[XC.foreign_ebusy]++; return E_BUSY; }
  XCNT[XC.foreign_enoent_retries]++;
  return E_NOENT;
}

export function foreignUnmap(g: number, m: number): void {
  putPage(m, g);
}

/** Does frame m still back gfn g (entry lock held)? Otherwise a mapping of m reaches an orphan. */
export function backs(g: number, m: number): boolean {
  return entryMfn(p2mGet(g)) === m;
}

// ------------------------------------------------------------------ the pager's hypercalls
/**
 * p2m_mem_paging_nominate: ram_rw -> paging_out. The frame must have exactly the
 * allocation reference plus, in the seed's order (map first), the pager's mapping;
 * upstream's order (xp-map-first off) expects the allocation reference alone.
 */
export function nominate(g: number): number {
  sp(SP_HOST, g); // a hypercall: others may run before and after it
  const w = frameLock(g);
  const e = p2mGet(g);
  const m = entryMfn(e);
  const want = xpUnfixed(U_MAP_FIRST) ? 1 : 2;
  if (entryType(e) !== P2M_RAM_RW || m === MFN_NONE || mfnCount(m) !== want || !mfnAllocated(m)) {
    frameUnlock(g, w);
    XCNT[XC.nominate_ebusy]++;
    return E_BUSY;
  }
  p2mSet(g, P2M_PAGING_OUT, m);
  audit(g, m, 'nominate');
  frameUnlock(g, w);
  XCNT[XC.nominate_ok]++;
  return E_OK;
}

/**
 * p2m_mem_paging_evict: paging_out -> paged, the frame scrubbed and freed. Takes its own
 * reference and needs exactly two (the guest's and its own). Unfixed X1: no recount;
 * unfixed X2: any type but paged or paging_in is accepted.
 */
export function evict(g: number): number {
  sp(SP_HOST, g);
  const w = frameLock(g);
  const e = p2mGet(g);
  const t = entryType(e);
  const m = entryMfn(e);
  const typeOk = xpUnfixed(U_POPULATE_PAGING_OUT) ? (t !== P2M_PAGED && t !== P2M_PAGING_IN && t !== P2M_INVALID) : t === P2M_PAGING_OUT;
  if (!typeOk || m === MFN_NONE) { frameUnlock(g, w); XCNT[XC.evict_ebusy]++; return E_BUSY; }
  getPage(m);
  if (!xpUnfixed(U_EVICT_RECOUNT) && (mfnCount(m) !== 2 || !mfnAllocated(m))) {
    putPage(m, g);
    frameUnlock(g, w);
    XCNT[XC.evict_ebusy]++;
    return E_BUSY_COUNT;
  }
  dropAllocation(m, g);
  p2mSet(g, P2M_PAGED, MFN_NONE);
  Atomics.add(XV.x, XH_PAGED_PAGES, 1); // statistic (paged_pages), changed with the entry under its lock; audited at the end
  V.frame.fill(SCRUB_WORD, g * PAGE_INTS, (g + 1) * PAGE_INTS); // Xen scrubs after evict (62530296c7)
  putPage(m, g); // our reference: the frame is freed unless someone else still holds it
  audit(g, m, 'evict');
  frameUnlock(g, w);
  XCNT[XC.evict_ok]++;
  return E_OK;
}

/**
 * The pager's copy of gfn g through its mapping of frame m into page-file slot `slot`
 * (the entry lock makes the copy whole). Returns the classification of what was written
 * (waste.ts) computed by the caller from the same moment.
 */
export function copyToSlot(g: number, m: number, slot: number): number {
  const w = frameLock(g);
  const base = slot * PAGE_INTS;
  if (backs(g, m)) V.swap.set(V.frame.subarray(g * PAGE_INTS, (g + 1) * PAGE_INTS), base);
  else V.swap.fill(SCRUB_WORD, base, base + PAGE_INTS); // an orphan's content is not reachable through g
  const change = w & HS_CHANGE;
  frameUnlock(g, w);
  return change;
}

/** X4 unfixed: the 2011 pager cleared the page through its mapping after writing it out. */
export function pagerScrub(g: number, m: number): void {
  const w = frameLock(g);
  if (backs(g, m)) V.frame.fill(0, g * PAGE_INTS, (g + 1) * PAGE_INTS);
  frameUnlock(g, w);
}

/**
 * load (4.2): the page-in of a paged (or populated, frameless) gfn: a new frame, the
 * slot copied in, then published ram_rw. `onlyPaged`: refuse a gfn with a populate in
 * flight (the pager's own page-back leaves those to their request).
 */
export function load(g: number, slot: number, onlyPaged: boolean): number {
  sp(SP_HOST, g);
  const w = frameLock(g);
  const e = p2mGet(g);
  const t = entryType(e);
  if ((t !== P2M_PAGED && (onlyPaged || t !== P2M_PAGING_IN)) || entryMfn(e) !== MFN_NONE) { frameUnlock(g, w); return E_INVAL; }
  const m = allocMfn(g);
  if (m < 0) { frameUnlock(g, w); return E_NOMEM; }
  V.frame.set(V.swap.subarray(slot * PAGE_INTS, (slot + 1) * PAGE_INTS), g * PAGE_INTS); // filled before it is published
  p2mSet(g, P2M_RAM_RW, m);
  Atomics.sub(XV.x, XH_PAGED_PAGES, 1); // statistic, with the entry
  audit(g, MFN_NONE, 'load');
  frameUnlock(g, w);
  return E_OK;
}

/**
 * prep (before Dec 2011, X5 unfixed): a fresh zeroed frame attached as paging_in - from
 * here the gfn is mappable, before the pager has copied the slot into it.
 */
export function prep(g: number): number {
  sp(SP_HOST, g);
  const w = frameLock(g);
  const e = p2mGet(g);
  const t = entryType(e);
  if (t !== P2M_PAGED && t !== P2M_PAGING_IN) { frameUnlock(g, w); return E_INVAL; }
  if (entryMfn(e) !== MFN_NONE) { frameUnlock(g, w); return E_OK; } // a frame remains: no allocation
  const m = allocMfn(g);
  if (m < 0) { frameUnlock(g, w); return E_NOMEM; }
  V.frame.fill(0, g * PAGE_INTS, (g + 1) * PAGE_INTS);
  p2mSet(g, P2M_PAGING_IN, m);
  Atomics.sub(XV.x, XH_PAGED_PAGES, 1); // statistic, with the entry
  audit(g, MFN_NONE, 'prep');
  frameUnlock(g, w);
  return E_OK;
}

/** The pager's write of the slot through its read-write mapping (the prep path). */
export function copyFromSlot(g: number, m: number, slot: number): void {
  const w = frameLock(g);
  if (backs(g, m)) V.frame.set(V.swap.subarray(slot * PAGE_INTS, (slot + 1) * PAGE_INTS), g * PAGE_INTS);
  frameUnlock(g, w);
}

/**
 * resume for one response (Xen, in the pager's context): a gfn still paging_in with a
 * frame becomes ram_rw (6b54b24f37). Unfixed X2: the 2009 resume set ram_rw whatever
 * the entry held, frame or not.
 */
export function resumeGfn(g: number, flags: number): void {
  if ((flags & MEM_EVENT_FLAG_DROP_PAGE) !== 0 || g < 0 || g >= V.nframes) return;
  sp(SP_HOST, g);
  const w = frameLock(g);
  const e = p2mGet(g);
  const t = entryType(e);
  const m = entryMfn(e);
  if (t === P2M_PAGING_IN && m !== MFN_NONE) p2mSet(g, P2M_RAM_RW, m);
  else if (xpUnfixed(U_POPULATE_PAGING_OUT) && (t === P2M_PAGING_IN || t === P2M_PAGING_OUT || t === P2M_PAGED)) {
    if (m === MFN_NONE) Atomics.sub(XV.x, XH_PAGED_PAGES, 1); // statistic, with the entry
    p2mSet(g, P2M_RAM_RW, m);
  }
  audit(g, m, 'resume');
  frameUnlock(g, w);
}

// ------------------------------------------------------------------ ballooning
/**
 * guest_remove_page (decrease_reservation) by a guest vCPU: the gfn leaves the physmap.
 * A nominated, paged or paging-in gfn is dropped (D1-D3 of 1.3) and the pager told with
 * DROP_PAGE (plus EVICT_FAIL for a nominated one). A guest vCPU waits for a ring slot if
 * it needs one. Returns E_OK or E_INVAL.
 */
export function decreaseReservation(g: number): number {
  for (;;) {
    const peek = entryType(p2mGet(g));
    const paging = peek === P2M_PAGING_OUT || peek === P2M_PAGED || peek === P2M_PAGING_IN;
    const claimed = paging ? ringClaim(true, g) : -1;
    const w = frameLock(g);
    const e = p2mGet(g);
    const t = entryType(e);
    const m = entryMfn(e);
    const nowPaging = t === P2M_PAGING_OUT || t === P2M_PAGED || t === P2M_PAGING_IN;
    if (nowPaging !== paging) { frameUnlock(g, w); if (claimed >= 0) ringCancel(claimed, true); continue; } // changed: again
    if (t === P2M_INVALID) { frameUnlock(g, w); return E_INVAL; }
    if (m !== MFN_NONE) dropAllocation(m, g); else if (t !== P2M_RAM_RW) Atomics.sub(XV.x, XH_PAGED_PAGES, 1); // statistic
    p2mSet(g, P2M_INVALID, MFN_NONE, t === P2M_RAM_RW ? 0 : t - 8); // aux 1 = D1 (paging_out), 2 = D2 (paged), 3 = D3 (paging_in)
    if (paging) {
      ringPut(MEM_EVENT_FLAG_DROP_PAGE | (t === P2M_PAGING_OUT ? MEM_EVENT_FLAG_EVICT_FAIL : 0), ME, g, t, claimed, true);
      XCNT[XC.drops]++;
    }
    audit(g, m, 'guest_remove_page');
    frameUnlock(g, w);
    XCNT[XC.balloon_out]++;
    if (paging) kickPager();
    return E_OK;
  }
}

/** populate_physmap (increase_reservation): a fresh zeroed frame for a dropped gfn. E_NOMEM when none is free. */
export function populatePhysmap(g: number): number {
  const w = frameLock(g);
  if (entryType(p2mGet(g)) !== P2M_INVALID) { frameUnlock(g, w); return E_INVAL; }
  const m = allocMfn(g);
  if (m < 0) { frameUnlock(g, w); return E_NOMEM; }
  V.frame.fill(0, g * PAGE_INTS, (g + 1) * PAGE_INTS);
  p2mSet(g, P2M_RAM_RW, m);
  audit(g, MFN_NONE, 'populate_physmap');
  frameUnlock(g, w);
  XCNT[XC.balloon_in]++;
  kickPager(); // tot_pages grew: the pager may have to evict
  return E_OK;
}

// ------------------------------------------------------------------ main thread: boot, summary, end-of-run audit
/** Main thread: histogram of p2m types (dropped entries by the paging type they were dropped from). */
export function p2mMix(v: Views): Record<string, number> {
  const xv = new XenViews(v);
  const out: Record<string, number> = {};
  for (let g = 0; g < v.nframes; g++) {
    const e = Atomics.load(xv.x, xv.g.p2m + g); // main thread: a snapshot (after stop: final)
    const t = entryType(e);
    const aux = entryAux(e);
    const name = t === P2M_INVALID && aux !== 0 ? `dropped_${P2M_NAMES[aux + 8]}` : (P2M_NAMES[t] ?? `type_${t}`);
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}
