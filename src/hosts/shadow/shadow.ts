/**
 * KVM's shadow MMU of Linux 2.6.2x (xenpaging_kvm.md 2 and 4.2), for --host shadow. KVM
 * handles MMU exits in the faulting vCPU's own thread, so this runs on the guest CPUs; the
 * host worker only shrinks the pool (host/shadow_mmu.ts), which is why it lives in shared/.
 *
 *   shTranslate          the MMU for a user access: the vCPU's TLB, then the sptes (the
 *                        hardware sets SPTE_A), else a page-fault exit: the walker sets A (and
 *                        D) in the guest pte, builds the shadow page (write-protecting the
 *                        table's frame) and installs the spte; a guest pte that is not present
 *                        reflects the fault into the guest
 *   shPteWrite           a guest pte store: native while the table's frame is not shadowed,
 *                        else a write-protection fault: the store is emulated and
 *                        kvm_mmu_pte_write runs (flood detection, zap, speculative update,
 *                        TLB flushes)
 *   kmapAtomic, kmapTestClearYoung, kunmapAtomic, kernelTouch
 *                        the kernel's page table K: RHEL3 kscand's path (seed 004)
 *   mmuShrink            the host's shrinker: zap shadow pages from the tail of the pool
 *
 * One shadow page per guest table (role and quadrant are not modelled). The flood detector
 * counts per shadow page, for the vCPU writing it (a write by another vCPU restarts the
 * count), where 2.6.25 keeps one last_pt_write_gfn per vCPU: that one forgets the kmap
 * table's run at every write to the user table, and could not show the false flood the
 * 2008 fix is about. Its reset rules are 2.6.25's: the count restarts when the page's last
 * speculative spte was used (A set), and when a demand or reflected fault of the counting
 * vCPU goes through the table (a25f7e1f8c1f).
 *
 * Race toggles (--unfix, races.ts): K1 kv-emulated-access-marks-spte, K2 kv-zap-on-a-clear,
 * K4 kv-fork-detector-reset, K5 kv-unshadow-on-user-write, K7 kv-remote-flush,
 * K9 kv-shadow-lru. Oracles: false_flood (K1, K4), shadow_coherence (K2), stale_shadow (K5),
 * tlb (K7), shadow_thrash (K9).
 *
 * Lock order:
 *   task pte lock (K_PTL)
 *     kvm->mmu_lock (SH_MMU_LOCK)    every spte, shadow page and guest pte store of this host
 *
 * Ordering. Every Atomics operation here is sequentially consistent. Words changed under
 * the mmu lock reach the next holder through the lock's compare-exchange and release
 * exchange (spinlock.ts); plain accesses are used for words only lock holders touch (shadow
 * page words, list links, SH_* counters). Atomics are used where a reader holds no lock,
 * which is the hardware side: a TLB hit reads gen, spte, gen of its slot (a seqlock: the
 * MMU makes gen odd before it changes a present spte and even only after posting every
 * flush the change needs); a walk reads gfnSp, gen, spte and gfnSp again (the page was not
 * zapped and reused meanwhile) and sets SPTE_A by compare-exchange, which fails once the MMU
 * stored anything else; remote flush requests are stores the target exchanges back to 0.
 */
import { ME, V } from '../../core/ctx.js';
import {
  ANON_PAGES, EV_EMU, EV_FAULT, EV_HW, FILE_PAGES, K_APTE, K_PTE, MAX_CPUS, NFILES, NVP, PTE_ACCESSED,
  PTE_DIRTY, PTE_PFN_MASK, PTE_WRITE, SHP_A_CLEAR_UNSHADOW, SHP_EMULATE_MORE, SH_CLOCK, SH_EVENTS, SH_FREE_HEAD,
  SH_KPTE, SH_LRU_HEAD, SH_LRU_TAIL, SH_MIN_FREE, SH_MMU_LOCK, SH_POOL_MAX, SH_POOL_USED, SH_REFILL, SH_TABLE_GFN,
  SPTES_PER_SP, SPTE_A, SPTE_PFN_MASK, SPTE_W, SP_BUILT_AT, SP_EVIDENCE, SP_FLOOD, SP_GFN, SP_LAST_SPEC, SP_MISSED, SP_NEXT,
  SP_PRESENT, SP_PREV, SP_TABLE, SP_USED_AT, SP_WORDS, SP_WRITER, SV_BASE, SV_FLUSH_REQ, SV_LAST_SPEC, SV_LAST_SPEC_GFN, SV_WORDS, T_ANON0, T_KERNEL, pteWordOf,
} from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import { raceBit, raceIndex } from '../../core/races.js';
import { SP_FAULT, STEPS, sp } from '../../core/sched.js';
import { SC, SCNT, SH, SV, TLB_SIZE, tlbGen, tlbGpte, tlbKey, tlbPfn, tlbSlot, tlbW } from './shadow_views.js';
import { spinLock, spinUnlock } from '../../core/spinlock.js';

const U_EMU_ACCESS = raceBit('kv-emulated-access-marks-spte'); // K1
const U_ZAP_ON_A_CLEAR = raceBit('kv-zap-on-a-clear');         // K2
const U_FORK_RESET = raceBit('kv-fork-detector-reset');        // K4
const U_USER_WRITE = raceBit('kv-unshadow-on-user-write');     // K5
const U_REMOTE_FLUSH = raceBit('kv-remote-flush');             // K7
const U_LRU = raceBit('kv-shadow-lru');                        // K9
const R_K1 = raceIndex('kv-emulated-access-marks-spte') + 1;
const R_K2 = raceIndex('kv-zap-on-a-clear') + 1;
const R_K4 = raceIndex('kv-fork-detector-reset') + 1;
const R_K5 = raceIndex('kv-unshadow-on-user-write') + 1;
const R_K7 = raceIndex('kv-remote-flush') + 1;
const R_K9 = raceIndex('kv-shadow-lru') + 1;

/** Emulated writes to one table, without a use in between, that unshadow it (2.6.2x). */
export const FLOOD_THRESHOLD = 3;
/** A flooded frame shadowed again within this many MMU events was a false flood (M-false-flood). */
export const FALSE_FLOOD_WINDOW = 64;
/** A pte whose halves are being written (PAE): the low half is new, the high half old; never shadowed. */
export const PTE_TORN = 1 << 31;

// ------------------------------------------------------------------ per-participant state (shadow_views.ts, set by ctxInit)
const zapMark = new Uint8Array(SPTES_PER_SP);
let slotIdx = 0; // second result of tableOf

function unfixed(bit: number): boolean {
  return (SH.unfix & bit) !== 0;
}

/**
 * A performance oracle (false_flood, stale_shadow, shadow_thrash) is reported once per
 * participant and run, and the run goes on: what it costs is the measurement. Returns
 * true the first time.
 */
function firstPerfReport(oracle: number): boolean {
  if ((SH.reported & (1 << oracle)) !== 0) return false;
  SH.reported |= 1 << oracle;
  return true;
}

// ------------------------------------------------------------------ tables and guest ptes

/** The guest table holding pte word `pi` of V.k (a file or anonymous pte); sets slotIdx. */
export function tableOf(pi: number): number {
  if (pi >= K_APTE) {
    const off = pi - K_APTE;
    const task = (off / ANON_PAGES) | 0;
    slotIdx = off - task * ANON_PAGES;
    return T_ANON0 + task;
  }
  const off = pi - K_PTE;
  const task = (off / NVP) | 0;
  const r = off - task * NVP;
  const file = (r / FILE_PAGES) | 0;
  slotIdx = r - file * FILE_PAGES;
  return task * NFILES + file;
}

export { pteWordOf }; // core/layout.ts: the V.k word of pte `idx` of a task's table

function gpteLoad(table: number, idx: number): number {
  return table === T_KERNEL ? Atomics.load(SV.s, SH_KPTE + idx) : Atomics.load(V.k, pteWordOf(table, idx));
}

function gpteStore(table: number, idx: number, val: number): void {
  if (table === T_KERNEL) Atomics.store(SV.s, SH_KPTE + idx, val);
  else Atomics.store(V.k, pteWordOf(table, idx), val);
}

/** The page-table frame of a table, -1 none (the owner's pte lock or the owning CPU keeps it stable). */
export function tableGfn(table: number): number {
  return Atomics.load(SV.s, SH_TABLE_GFN + table) - 1;
}

export function tableName(table: number): string {
  if (table === T_KERNEL) return 'the kernel\'s page table K (fixmap and kernel data)';
  if (table >= T_ANON0) return `task ${table - T_ANON0}'s anonymous page table`;
  return `task ${(table / NFILES) | 0}'s page table of file ${table % NFILES}`;
}

function vaName(pi: number): string {
  const t = tableOf(pi);
  if (t >= T_ANON0) return `anonymous page ${slotIdx} of task ${t - T_ANON0}`;
  return `file ${t % NFILES} index ${slotIdx} of task ${(t / NFILES) | 0}`;
}

function frameName(gfn: number): string {
  const t = SV.gfnTable[gfn] - 1;
  return t >= 0 ? `frame ${gfn} (${tableName(t)})` : `frame ${gfn} (not a page table now)`;
}

// ------------------------------------------------------------------ lock, TLB, flushes

function mmuLock(): void {
  spinLock(SV.s, SH_MMU_LOCK, ME);
  SV.s[SH_EVENTS]++;
}

function mmuUnlock(): void {
  spinUnlock(SV.s, SH_MMU_LOCK, ME, (m) => report(V, O.bug_on, -1, ME, STEPS, `shadow mmu: ${m}`));
}

function tlbFlushLocal(): void {
  if (ME >= SH.ncpus) return; // the host has no guest TLB
  tlbKey.fill(0);
  SCNT[SC.tlb_flush]++;
}

/** kvm_flush_remote_tlbs: every other vCPU drops its TLB at its next guest entry. */
function postRemoteFlush(): void {
  // Release store per vCPU; the vCPU exchanges its word at guest entry, and re-reads it
  // before calling a changed translation stale (tlbUsable), so a flush posted before the
  // slot's generation turned even is always seen.
  for (let c = 0; c < SH.ncpus; c++) if (c !== ME) Atomics.store(SV.s, SV_BASE + c * SV_WORDS + SV_FLUSH_REQ, 1);
  SCNT[SC.remote_tlb_flush]++;
}

/** Take a pending remote flush (guest entry). */
function takeFlush(): boolean {
  if (Atomics.load(SV.s, SH.svMe + SV_FLUSH_REQ) === 0) return false;
  Atomics.store(SV.s, SH.svMe + SV_FLUSH_REQ, 0);
  SCNT[SC.exits]++; // the flush IPI kicked this vCPU out of guest mode (make_all_cpus_request)
  SCNT[SC.tlb_flush_ipis]++;
  tlbFlushLocal();
  return true;
}

function tlbFill(pi: number, slot: number, gen: number, x: number, gpte: number): void {
  if (ME >= SH.ncpus) return;
  const t = pi & (TLB_SIZE - 1);
  tlbKey[t] = pi + 1;
  tlbSlot[t] = slot;
  tlbGen[t] = gen;
  tlbPfn[t] = x & SPTE_PFN_MASK;
  tlbW[t] = (x & SPTE_W) !== 0 ? 1 : 0;
  tlbGpte[t] = gpte;
}

/**
 * May the TLB entry still be used? Yes while its spte is unchanged or was rewritten to the
 * same or a wider translation, and while a rewrite that narrows it has not finished (its
 * flush is not due yet). Once the rewrite is done, a vCPU that was sent no flush and still
 * uses the entry breaks O-tlb: that is reported, and the entry is used (the symptom).
 */
function tlbUsable(t: number, pi: number): boolean {
  const slot = tlbSlot[t];
  const g1 = Atomics.load(SV.gen, slot);
  if (g1 === tlbGen[t]) return true;
  const x = Atomics.load(SV.spte, slot);
  const g2 = Atomics.load(SV.gen, slot);
  const narrower = x === 0 || (x & SPTE_PFN_MASK) !== tlbPfn[t] || (tlbW[t] !== 0 && (x & SPTE_W) === 0);
  if (!narrower) return true;
  if ((g1 & 1) !== 0 || g1 !== g2) return true; // the MMU is still rewriting it: the old translation may be used until its flush
  if (takeFlush()) return false;                 // the flush arrived meanwhile
  const old = tlbPfn[t] - 1;
  report(V, O.tlb, old, ME, STEPS,
    `cpu ${ME} translated ${vaName(pi)} through a TLB entry for pfn ${old} (${tlbW[t] ? 'writable' : 'read-only'}) after its spte was ` +
    `${x === 0 ? 'zapped' : `changed to pfn ${(x & SPTE_PFN_MASK) - 1}${(x & SPTE_W) !== 0 ? '' : ' read-only'}`} by a completed pte write, ` +
    `and no remote TLB flush reached this vCPU: it still uses a translation the guest removed (the frame may be freed and reused)`,
    unfixed(U_REMOTE_FLUSH) ? R_K7 : 0);
  tlbKey[t] = 0; // this access uses it (the symptom); the entry is not reported again
  return true;
}

// ------------------------------------------------------------------ the pool (mmu lock held)

function lruUnlink(spi: number): void {
  const s = SV.s;
  const w = SV.sp;
  const b = spi * SP_WORDS;
  const n = w[b + SP_NEXT];
  const p = w[b + SP_PREV];
  if (p >= 0) w[p * SP_WORDS + SP_NEXT] = n; else s[SH_LRU_HEAD] = n;
  if (n >= 0) w[n * SP_WORDS + SP_PREV] = p; else s[SH_LRU_TAIL] = p;
}

function lruPushHead(spi: number): void {
  const s = SV.s;
  const w = SV.sp;
  const b = spi * SP_WORDS;
  const h = s[SH_LRU_HEAD];
  w[b + SP_PREV] = -1;
  w[b + SP_NEXT] = h;
  if (h >= 0) w[h * SP_WORDS + SP_PREV] = spi; else s[SH_LRU_TAIL] = spi;
  s[SH_LRU_HEAD] = spi;
}

/** A fault used this shadow page: with the fix (K9) it moves to the head of the active list. */
function lruTouch(spi: number): void {
  SV.sp[spi * SP_WORDS + SP_USED_AT] = ++SV.s[SH_CLOCK];
  if (unfixed(U_LRU) || SV.s[SH_LRU_HEAD] === spi) return; // unfixed: the list stays in creation order
  lruUnlink(spi);
  lruPushHead(spi);
}

/**
 * K9's oracle, at a recycle: the victim must be the least recently used shadow page. A
 * colder page that stays means a table in use is zapped (and rebuilt at its next use).
 */
function checkVictim(victim: number): void {
  const w = SV.sp;
  const usedAt = w[victim * SP_WORDS + SP_USED_AT];
  let colder = 0;
  for (let p = SV.s[SH_LRU_HEAD]; p >= 0; p = w[p * SP_WORDS + SP_NEXT]) if (p !== victim && w[p * SP_WORDS + SP_USED_AT] < usedAt) colder++;
  if (colder === 0 || !firstPerfReport(O.shadow_thrash)) return;
  const gfn = w[victim * SP_WORDS + SP_GFN];
  report(V, O.shadow_thrash, gfn, ME, STEPS,
    `the shadow pool (${SV.s[SH_POOL_MAX]} pages) recycled the shadow page of ${frameName(gfn)}, last used ${SV.s[SH_CLOCK] - usedAt} fault(s) ago, ` +
    `while ${colder} page(s) used longer ago stayed: a table in use is zapped and rebuilt at its next use${unfixed(U_LRU) ? ' (recycling takes the oldest shadow page, not the least recently used)' : ''}`,
    unfixed(U_LRU) ? R_K9 : 0, false);
}

/** kvm_mmu_free_some_pages: below SH_MIN_FREE free, zap from the tail until SH_REFILL are free. */
function freeSomePages(): void {
  const s = SV.s;
  const max = s[SH_POOL_MAX];
  if (max - s[SH_POOL_USED] >= s[SH_MIN_FREE]) return;
  while (max - s[SH_POOL_USED] < s[SH_REFILL] && s[SH_LRU_TAIL] >= 0) {
    const victim = s[SH_LRU_TAIL];
    checkVictim(victim);
    SV.gfnRecycled[SV.sp[victim * SP_WORDS + SP_GFN]] = 1;
    spZap(victim);
    SCNT[SC.mmu_recycled]++;
  }
}

/** kvm_mmu_get_page on a miss: a fresh shadow page for table frame gfn; write-protects the frame. */
function spAlloc(gfn: number, table: number): number {
  if (SV.gfnSp[gfn] !== 0) { report(V, O.bug_on, gfn, ME, STEPS, `shadow mmu: building a second shadow page for ${frameName(gfn)}`); return SV.gfnSp[gfn] - 1; }
  freeSomePages();
  const s = SV.s;
  const w = SV.sp;
  const spi = s[SH_FREE_HEAD];
  if (spi < 0) { report(V, O.bug_on, gfn, ME, STEPS, 'shadow mmu: the pool is empty after recycling'); return -1; }
  const b = spi * SP_WORDS;
  s[SH_FREE_HEAD] = w[b + SP_NEXT];
  w[b + SP_GFN] = gfn;
  w[b + SP_TABLE] = table;
  w[b + SP_FLOOD] = 0;
  w[b + SP_LAST_SPEC] = -1;
  w[b + SP_EVIDENCE] = 0;
  w[b + SP_MISSED] = 0;
  w[b + SP_PRESENT] = 0;
  w[b + SP_WRITER] = -1;
  const clock = ++s[SH_CLOCK];
  w[b + SP_BUILT_AT] = clock;
  w[b + SP_USED_AT] = clock;
  lruPushHead(spi);
  s[SH_POOL_USED]++;
  SCNT[SC.mmu_cache_miss]++;
  if (SV.gfnShadowed[gfn]++ > 0) SCNT[SC.reshadow_faults]++;
  const fl = SV.gfnFlooded[gfn];
  if (fl > 0) {
    SV.gfnFlooded[gfn] = 0;
    if (s[SH_EVENTS] - (fl - 1) <= FALSE_FLOOD_WINDOW) SCNT[SC.false_floods]++;
  }
  // Write protection on: from this store every guest store to the frame traps.
  Atomics.store(SV.gfnSp, gfn, spi + 1);
  rmapWriteProtect(gfn);
  if (SV.gfnRecycled[gfn] !== 0) { SV.gfnRecycled[gfn] = 0; SCNT[SC.recycled_rebuilds]++; }
  return spi;
}

/**
 * rmap_write_protect for a frame that became a shadowed table: the only sptes that can map
 * a page-table frame are K's (kmap_atomic's fixmap and kernel data); user sptes map data
 * frames, which were unmapped (and their sptes zapped) before the frame was freed.
 */
function rmapWriteProtect(gfn: number): void {
  const kSp = Atomics.load(SV.gfnSp, SH.kGfn) - 1;
  if (kSp < 0 || gfn === SH.kGfn) return;
  const base = kSp * SPTES_PER_SP;
  for (let i = 0; i < MAX_CPUS; i++) {
    const x = SV.spte[base + i];
    if (x === 0 || (x & SPTE_W) === 0 || (x & SPTE_PFN_MASK) !== gfn + 1) continue;
    Atomics.add(SV.gen, base + i, 1);
    Atomics.store(SV.spte, base + i, x & ~SPTE_W); // K's sptes are rewritten under the lock; no TLB caches them (kmap_atomic flushes its entry)
    Atomics.add(SV.gen, base + i, 1);
  }
}

/** kvm_mmu_zap_page: drop a shadow page and all its sptes; the frame is no longer write-protected. */
function spZap(spi: number): void {
  const w = SV.sp;
  const b = spi * SP_WORDS;
  const gfn = w[b + SP_GFN];
  if (gfn < 0 || SV.gfnSp[gfn] !== spi + 1) { report(V, O.bug_on, gfn, ME, STEPS, `shadow mmu: zapping shadow page ${spi}, which does not shadow frame ${gfn}`); return; }
  const base = spi * SPTES_PER_SP;
  let present = 0;
  for (let i = 0; i < SPTES_PER_SP; i++) {
    zapMark[i] = 0;
    if (SV.spte[base + i] === 0) continue;
    // odd: the slot is being rewritten (a slot already odd belongs to an emulation in progress, which ends it)
    if ((Atomics.load(SV.gen, base + i) & 1) === 0) { Atomics.add(SV.gen, base + i, 1); zapMark[i] = 1; }
    Atomics.store(SV.spte, base + i, 0); // the hardware's compare-exchange of SPTE_A fails from here on
    present++;
  }
  Atomics.store(SV.gfnSp, gfn, 0); // write protection off: stores to the frame run natively now
  if (present > 0) postRemoteFlush();
  tlbFlushLocal();
  for (let i = 0; i < SPTES_PER_SP; i++) if (zapMark[i] !== 0) Atomics.add(SV.gen, base + i, 1);
  // Nobody's last speculative spte may point into a freed page (kv-clear-last-spte-on-zap).
  for (let p = 0; p <= SH.ncpus; p++) {
    const ls = SV.s[SV_BASE + p * SV_WORDS + SV_LAST_SPEC];
    if (ls >= base && ls < base + SPTES_PER_SP) SV.s[SV_BASE + p * SV_WORDS + SV_LAST_SPEC] = -1;
  }
  lruUnlink(spi);
  w[b + SP_GFN] = -1;
  w[b + SP_NEXT] = SV.s[SH_FREE_HEAD];
  SV.s[SH_FREE_HEAD] = spi;
  SV.s[SH_POOL_USED]--;
  SCNT[SC.mmu_shadow_zapped]++;
}

/** Install (or widen) an spte on a demand fault. */
function install(spi: number, idx: number, x: number, w: boolean): number {
  const slot = spi * SPTES_PER_SP + idx;
  const old = SV.spte[slot];
  const nw = (x + 1) | SPTE_A | (w ? SPTE_W : 0); // demand-fault sptes carry A: the access that faulted uses them
  if (old === 0) SV.sp[spi * SP_WORDS + SP_PRESENT]++;
  if (old !== 0 && ((old & SPTE_PFN_MASK) !== x + 1 || ((old & SPTE_W) !== 0 && !w))) {
    Atomics.add(SV.gen, slot, 1); // odd before the narrower spte is visible to lock-free walkers and TLB checks
    Atomics.store(SV.spte, slot, nw);
    postRemoteFlush();
    tlbFlushLocal();
    Atomics.add(SV.gen, slot, 1); // even after the flush is posted (tlbUsable re-reads the request)
  } else {
    Atomics.store(SV.spte, slot, nw); // same or wider: a walker's compare-exchange of SPTE_A on the old value fails and it walks again
  }
  SCNT[SC.pf_fixed]++;
  return slot;
}

// ------------------------------------------------------------------ flood detection and pte writes (mmu lock held)

/**
 * A fault of this vCPU went through the table: evidence of use for the count this vCPU is
 * running on it, which it resets (a25f7e1f8c1f) unless K4 is unfixed. Another vCPU's
 * fault is not seen (2.6.2x keeps the count per vCPU).
 */
function sawFault(spi: number): void {
  const b = spi * SP_WORDS;
  if (SV.sp[b + SP_WRITER] !== ME) return;
  SV.sp[b + SP_EVIDENCE] |= EV_FAULT;
  if (!unfixed(U_FORK_RESET)) { SV.sp[b + SP_FLOOD] = 0; SV.sp[b + SP_MISSED] = 0; }
}

/** kvm_mmu_access_page (1b7fcd3263e5): an emulated access to gfn marks this vCPU's last speculative spte accessed when it maps gfn. */
function accessPage(gfn: number): void {
  if (unfixed(U_EMU_ACCESS)) return;
  const ls = SV.s[SH.svMe + SV_LAST_SPEC];
  if (ls < 0 || SV.s[SH.svMe + SV_LAST_SPEC_GFN] !== gfn) return;
  const x = Atomics.load(SV.spte, ls);
  if (x !== 0 && (x & SPTE_A) === 0) Atomics.compareExchange(SV.spte, ls, x, x | SPTE_A); // as the hardware would; a walker's CAS of the same bit is harmless
}

function evidenceName(ev: number): string {
  const out: string[] = [];
  if (ev & EV_FAULT) out.push('a fault went through it');
  if (ev & EV_HW) out.push('the hardware used its last speculative spte');
  if (ev & EV_EMU) out.push('its last speculative spte was used by an emulated access, which never sets the accessed bit');
  return out.join('; ');
}

/** The flood detector on one emulated write; returns true if the page flooded (it is gone). */
function floodCheck(spi: number): boolean {
  const w = SV.sp;
  const b = spi * SP_WORDS;
  if (w[b + SP_WRITER] !== ME) { // another vCPU's writes: this one starts its own count
    w[b + SP_WRITER] = ME;
    w[b + SP_FLOOD] = 0;
    w[b + SP_MISSED] = 0;
    w[b + SP_EVIDENCE] = 0;
  }
  let ev = w[b + SP_EVIDENCE];
  const ls = w[b + SP_LAST_SPEC];
  if (ls >= 0 && (Atomics.load(SV.spte, spi * SPTES_PER_SP + ls) & SPTE_A) !== 0) ev |= EV_HW;
  // 2.6.25: the count goes on only while the last speculative update went unused (A clear);
  // 2.6.24 (K4 unfixed): any three emulated writes in a row.
  if (!unfixed(U_FORK_RESET) && (ev & EV_HW) !== 0) { w[b + SP_FLOOD] = 0; w[b + SP_MISSED] = 0; }
  else if (ev !== 0 && w[b + SP_FLOOD] > 0) w[b + SP_MISSED] |= ev; // a use the detector did not act on
  w[b + SP_EVIDENCE] = 0;
  w[b + SP_LAST_SPEC] = -1;
  if (++w[b + SP_FLOOD] < FLOOD_THRESHOLD) return false;
  SCNT[SC.mmu_flooded]++;
  const gfn = w[b + SP_GFN];
  if (gfn === SH.kGfn) SCNT[SC.kernel_table_floods]++;
  const missed = w[b + SP_MISSED];
  if (missed !== 0 && firstPerfReport(O.false_flood)) {
    const k4 = unfixed(U_FORK_RESET);
    report(V, O.false_flood, gfn, ME, STEPS,
      `${frameName(gfn)} was flooded (${FLOOD_THRESHOLD} emulated writes) although it was in use between them: ${evidenceName(missed)}; ` +
      `its shadow page is zapped and the next access rebuilds it${k4 ? ' (the 2.6.24 detector counts every write, demand paging looks like fork)'
        : (missed & EV_EMU) !== 0 ? ' (the kmap spte looked unused: the scanner reaches the table only through the emulator)' : ''}`,
      k4 ? R_K4 : (missed & EV_EMU) !== 0 && unfixed(U_EMU_ACCESS) ? R_K1 : 0, false);
  }
  SV.gfnFlooded[gfn] = SV.s[SH_EVENTS] + 1;
  spZap(spi);
  SCNT[SC.unshadows]++;
  return true;
}

/** kvm_mmu_pte_write for one emulated store to pte idx of shadow page spi (frame gfn). */
function mmuPteWrite(spi: number, gfn: number, idx: number, oldG: number, newG: number): void {
  SCNT[SC.mmu_pte_write]++;
  accessPage(gfn);
  if (floodCheck(spi)) return;
  const slot = spi * SPTES_PER_SP + idx;
  const old = SV.spte[slot];
  if (old !== 0 && (oldG ^ newG) === PTE_ACCESSED && (oldG & PTE_ACCESSED) !== 0 && unfixed(U_ZAP_ON_A_CLEAR)) {
    tlbFlushLocal(); // K2 unfixed: only A was cleared, the spte (and its A) stay
    return;
  }
  if (old !== 0) {
    Atomics.store(SV.spte, slot, 0); // gen is odd: a walker's compare-exchange of SPTE_A fails from here, a TLB check waits for even
    SV.sp[spi * SP_WORDS + SP_PRESENT]--;
    SCNT[SC.spte_zaps]++;
  }
  // Speculative update (0028425f647b): a present, accessed, whole guest pte gets an spte at
  // once, without A, so that a later write can tell whether it was used.
  if (newG > 0 && (newG & PTE_ACCESSED) !== 0) {
    const x = (newG & PTE_PFN_MASK) - 1;
    const wr = (newG & PTE_WRITE) !== 0 && (newG & PTE_DIRTY) !== 0 && Atomics.load(SV.gfnSp, x) === 0;
    Atomics.store(SV.spte, slot, (x + 1) | (wr ? SPTE_W : 0)); // gen is odd (emulatePteStore): lock-free readers see the slot as changing
    SV.sp[spi * SP_WORDS + SP_PRESENT]++;
    SV.sp[spi * SP_WORDS + SP_LAST_SPEC] = idx;
    SV.s[SH.svMe + SV_LAST_SPEC] = slot;
    SV.s[SH.svMe + SV_LAST_SPEC_GFN] = x;
    SCNT[SC.mmu_pte_updated]++;
  }
  const nw = SV.spte[slot];
  // 2.6.25 mmu_pte_write_flush_tlb: remote flush when access was removed or the frame changed
  if (old !== 0 && (nw === 0 || (nw & SPTE_PFN_MASK) !== (old & SPTE_PFN_MASK) || ((old & SPTE_W) !== 0 && (nw & SPTE_W) === 0))) {
    if (!unfixed(U_REMOTE_FLUSH)) postRemoteFlush();
  }
  tlbFlushLocal();
}

/** The emulator's store of a trapped pte write, then kvm_mmu_pte_write (mmu lock held). */
function emulatePteStore(spi: number, gfn: number, table: number, idx: number, newG: number): void {
  const slot = spi * SPTES_PER_SP + idx;
  Atomics.add(SV.gen, slot, 1); // odd: the slot is being rewritten (pairs with the oracles' reads)
  const oldG = gpteLoad(table, idx);
  gpteStore(table, idx, newG);
  mmuPteWrite(spi, gfn, idx, oldG, newG);
  Atomics.add(SV.gen, slot, 1); // even: done, every flush it needed is posted
}

/**
 * A guest store to pte word pi (the guest holds the task's pte lock). A present pte is
 * made young (mk_pte), and dirty when writable (only write faults install writable ptes).
 */
export function shPteWrite(pi: number, val: number): void {
  const table = tableOf(pi);
  const idx = slotIdx;
  const g = val === 0 ? 0 : val | PTE_ACCESSED | ((val & PTE_WRITE) !== 0 ? PTE_DIRTY : 0);
  const gfn = tableGfn(table);
  mmuLock();
  const spi = gfn < 0 ? -1 : SV.gfnSp[gfn] - 1;
  if (spi < 0) {
    Atomics.store(V.k, pi, g); // not write-protected: a native store (under the lock, so no shadow page is built from the old value meanwhile)
  } else {
    SCNT[SC.exits]++;
    SCNT[SC.insn_emulation]++;
    emulatePteStore(spi, gfn, table, idx, g);
  }
  mmuUnlock();
}

// ------------------------------------------------------------------ user accesses

/**
 * The MMU translating a user access through pte word pi. Returns the guest pte the access
 * uses; 0, or a read-only pte for a write, means the fault is reflected into the guest.
 */
export function shTranslate(pi: number, write: boolean): number {
  takeFlush(); // a pending remote flush is taken at guest entry
  const t = pi & (TLB_SIZE - 1);
  if (tlbKey[t] === pi + 1 && (!write || tlbW[t] !== 0) && tlbUsable(t, pi)) return tlbGpte[t];
  const table = tableOf(pi);
  const idx = slotIdx;
  const gfn = tableGfn(table);
  if (gfn < 0) return Atomics.load(V.k, pi); // a table without a frame (no memory for it): not shadowed
  for (let attempt = 0; attempt < 4; attempt++) {
    const spi = Atomics.load(SV.gfnSp, gfn) - 1;
    if (spi < 0) break;
    const slot = spi * SPTES_PER_SP + idx;
    const g1 = Atomics.load(SV.gen, slot);
    const x = Atomics.load(SV.spte, slot);
    if (Atomics.load(SV.gfnSp, gfn) !== spi + 1) continue; // the page was zapped (and maybe reused) meanwhile
    if (x === 0 || (write && (x & SPTE_W) === 0)) break;
    // The hardware walk sets A in the spte; the compare-exchange fails if the MMU rewrote it.
    if ((x & SPTE_A) === 0 && Atomics.compareExchange(SV.spte, slot, x, x | SPTE_A) !== x) continue;
    const gpte = Atomics.load(V.k, pi); // after the spte: a guest pte store under the lock made gen odd first (checked below)
    if ((g1 & 1) === 0 && Atomics.load(SV.gen, slot) === g1) checkCoherent(pi, x, gpte);
    tlbFill(pi, slot, g1, x, gpte);
    return gpte;
  }
  return pageFault(pi, table, idx, gfn, write);
}

/** O-shadow-coherence at a walk: a present spte needs the guest pte present, accessed, same frame, W only with W and D. */
function checkCoherent(pi: number, x: number, gpte: number): void {
  const sameFrame = gpte > 0 && (gpte & PTE_PFN_MASK) === (x & SPTE_PFN_MASK);
  const wOk = (x & SPTE_W) === 0 || ((gpte & PTE_WRITE) !== 0 && (gpte & PTE_DIRTY) !== 0);
  if (sameFrame && (gpte & PTE_ACCESSED) !== 0 && wOk) return;
  const aClear = sameFrame && (gpte & PTE_ACCESSED) === 0;
  report(V, O.shadow_coherence, (x & SPTE_PFN_MASK) - 1, ME, STEPS,
    `cpu ${ME} accessed ${vaName(pi)} through a present spte for pfn ${(x & SPTE_PFN_MASK) - 1} but ${aClear
      ? 'the guest pte has its accessed bit clear (the scanner cleared it through a kmap and the spte was kept): the hardware sets A only in the spte, so the guest\'s next scan ages a page in use as idle'
      : `the guest pte is ${gpte === 0 ? 'not present' : `0x${(gpte >>> 0).toString(16)}`}`}`,
    aClear && unfixed(U_ZAP_ON_A_CLEAR) ? R_K2 : 0);
}

/** A page-fault exit on a user access. */
function pageFault(pi: number, table: number, idx: number, gfn: number, write: boolean): number {
  SCNT[SC.exits]++;
  sp(SP_FAULT, pi);
  mmuLock();
  let spi = SV.gfnSp[gfn] - 1;
  const gpte = Atomics.load(V.k, pi);
  if (gpte === 0 || (write && (gpte & PTE_WRITE) === 0)) {
    SCNT[SC.pf_guest]++; // the guest's own fault: reflect it
    if (spi >= 0) sawFault(spi);
    mmuUnlock();
    return gpte;
  }
  if (spi < 0) {
    spi = spAlloc(gfn, table);
    if (spi < 0) { mmuUnlock(); return gpte; }
  } else {
    lruTouch(spi);
  }
  sawFault(spi);
  // The walker sets A, and D for a write, in the guest pte (every guest pte store of this host
  // is made under the mmu lock, so a plain read-modify-write here loses nothing).
  const ng = gpte | PTE_ACCESSED | (write ? PTE_DIRTY : 0);
  if (ng !== gpte) Atomics.store(V.k, pi, ng); // the guest reads its ptes lock-free; every writer holds the lock
  const x = (ng & PTE_PFN_MASK) - 1;
  let w = (ng & PTE_WRITE) !== 0 && (ng & PTE_DIRTY) !== 0;
  const xsp = Atomics.load(SV.gfnSp, x) - 1;
  if (w && xsp >= 0) w = write ? userWriteToShadowed(pi, x, xsp, spi, idx) : false;
  if (Atomics.load(SV.gfnSp, gfn) !== spi + 1) { mmuUnlock(); return ng; } // the flood of a stale shadow took this table's page too
  const slot = install(spi, idx, x, w);
  const gen = Atomics.load(SV.gen, slot);
  const xs = SV.spte[slot];
  mmuUnlock();
  tlbFill(pi, slot, gen, xs, ng);
  return ng;
}

/**
 * A user-mode write to a frame that has a shadow page. A user can only be writing data:
 * 2.6.2x unshadows the frame at once (K5's fix); unfixed, the write is emulated and the
 * frame stays write-protected until the flood detector gives up. Returns whether the
 * spte may be writable.
 */
function userWriteToShadowed(pi: number, x: number, xsp: number, spi: number, idx: number): boolean {
  if (!unfixed(U_USER_WRITE)) {
    spZap(xsp);
    SCNT[SC.unshadows]++;
    return true;
  }
  SCNT[SC.insn_emulation]++; // in the fault's own exit
  SCNT[SC.emulations_data]++;
  if (SV.sp[spi * SP_WORDS + SP_LAST_SPEC] === idx && SV.sp[spi * SP_WORDS + SP_WRITER] === ME) SV.sp[spi * SP_WORDS + SP_EVIDENCE] |= EV_EMU;
  const table = SV.sp[xsp * SP_WORDS + SP_TABLE];
  if (firstPerfReport(O.stale_shadow)) report(V, O.stale_shadow, x, ME, STEPS,
    `cpu ${ME}: a user-mode write to ${vaName(pi)} (pfn ${x}) was emulated: the frame still has the shadow page built when it was ` +
    `${tableName(table)}${SV.gfnTable[x] !== 0 ? '' : ', freed since and reused as data'}; every write to it exits until the flood detector gives up`,
    R_K5, false);
  SCNT[SC.mmu_pte_write]++;
  accessPage(x);
  return floodCheck(xsp);
}

// ------------------------------------------------------------------ the kernel table K (kscand)

/** A kernel access through K's pte idx missed the shadow: the fault installs the spte (mmu lock held). */
function kernelFault(idx: number): number {
  let spi = SV.gfnSp[SH.kGfn] - 1;
  if (spi >= 0) {
    const x = SV.spte[spi * SPTES_PER_SP + idx];
    if (x !== 0) { lruTouch(spi); return spi * SPTES_PER_SP + idx; } // another vCPU installed it meanwhile
  }
  SCNT[SC.exits]++;
  if (spi < 0) {
    spi = spAlloc(SH.kGfn, T_KERNEL);
    if (spi < 0) return -1;
  } else {
    lruTouch(spi);
  }
  sawFault(spi);
  const g = SV.s[SH_KPTE + idx];
  if (g <= 0) { report(V, O.bug_on, SH.kGfn, ME, STEPS, `shadow mmu: kernel access through K's pte ${idx}, which is ${g === 0 ? 'not present' : 'half written'}`); return -1; }
  const target = (g & PTE_PFN_MASK) - 1;
  return install(spi, idx, target, (g & PTE_WRITE) !== 0 && Atomics.load(SV.gfnSp, target) === 0);
}

/** The guest kernel touches kernel data through K's pte MAX_CPUS + k (the hardware; a fault if unshadowed). */
export function kernelTouch(k: number): void {
  SCNT[SC.kernel_touches]++;
  const idx = MAX_CPUS + k;
  const spi = Atomics.load(SV.gfnSp, SH.kGfn) - 1;
  if (spi >= 0) {
    const slot = spi * SPTES_PER_SP + idx;
    const x = Atomics.load(SV.spte, slot);
    // the hardware: a present spte of a page still shadowing K; A by compare-exchange (fails if the MMU rewrote it)
    if (x !== 0 && Atomics.load(SV.gfnSp, SH.kGfn) === spi + 1 &&
      ((x & SPTE_A) !== 0 || Atomics.compareExchange(SV.spte, slot, x, x | SPTE_A) === x)) return;
  }
  sp(SP_FAULT, idx);
  mmuLock();
  kernelFault(idx);
  mmuUnlock();
}

/** A store to this CPU's fixmap pte (or its half); an exit and an emulation while K is shadowed. */
function fixmapWrite(val: number, exit: boolean): void {
  SCNT[SC.kmap_writes]++;
  mmuLock();
  const spi = SV.gfnSp[SH.kGfn] - 1;
  if (spi < 0) {
    Atomics.store(SV.s, SH_KPTE + ME, val);
  } else {
    if (exit) SCNT[SC.exits]++;
    SCNT[SC.insn_emulation]++;
    SCNT[SC.emulations_kmap]++;
    emulatePteStore(spi, SH.kGfn, T_KERNEL, ME, val);
  }
  mmuUnlock();
}

/**
 * kmap_atomic of page-table frame u: point this CPU's fixmap pte at it (PAGE_KERNEL: RW,
 * accessed, dirty). PAE writes the 64-bit pte as two halves; CentOS 3.8 skips the write when
 * the pte already holds the value.
 */
export function kmapAtomic(u: number, halves: number, skipSame: boolean): void {
  const val = (u + 1) | PTE_WRITE | PTE_ACCESSED | PTE_DIRTY;
  const cur = Atomics.load(SV.s, SH_KPTE + ME);
  if (skipSame && cur === val) { SCNT[SC.kmap_skipped]++; return; }
  if (halves === 2) {
    fixmapWrite(PTE_TORN | (val & PTE_PFN_MASK), true);
    fixmapWrite(val, (SH.policy & SHP_EMULATE_MORE) === 0); // emulate-more: the second half rides the first one's exit
  } else {
    fixmapWrite(val, true);
  }
}

/** kunmap_atomic: with HIGHMEM_DEBUG (2.6's default) the fixmap pte is cleared again. */
export function kunmapAtomic(clear: boolean, halves: number): void {
  if (!clear) return;
  if (halves === 2) {
    fixmapWrite(PTE_TORN, true);
    fixmapWrite(0, (SH.policy & SHP_EMULATE_MORE) === 0);
  } else {
    fixmapWrite(0, true);
  }
}

/** Clear A in a guest pte natively (mmu lock held); returns whether it was set. */
function nativeClearYoung(pi: number): boolean {
  const old = V.k[pi];
  if ((old & PTE_ACCESSED) === 0) return false;
  Atomics.store(V.k, pi, old & ~PTE_ACCESSED); // every guest pte writer holds the lock; the owner reads lock-free and compares without A/D
  return true;
}

/**
 * ptep_test_and_clear_young through this CPU's kmap (2.4: an unconditional locked
 * test_and_clear_bit) of pte idx of `table`, whose frame was just kmapped. The caller holds
 * the owner task's pte lock. Returns whether the pte was young.
 */
export function kmapTestClearYoung(table: number, idx: number): boolean {
  const pi = pteWordOf(table, idx);
  mmuLock();
  let spi = SV.gfnSp[SH.kGfn] - 1;
  let slot = spi >= 0 ? spi * SPTES_PER_SP + ME : -1;
  let x = slot >= 0 ? SV.spte[slot] : 0;
  if (x === 0) { // the fixmap address misses the shadow: a fault builds K's page or its spte
    slot = kernelFault(ME);
    if (slot < 0) { mmuUnlock(); return false; }
    spi = (slot / SPTES_PER_SP) | 0;
    x = SV.spte[slot];
  }
  const u = (x & SPTE_PFN_MASK) - 1;
  let young: boolean;
  if ((x & SPTE_W) !== 0) {
    // the table is not shadowed: the locked RMW runs natively and the hardware marks the kmap spte used
    if ((x & SPTE_A) === 0) Atomics.compareExchange(SV.spte, slot, x, x | SPTE_A); // the hardware's A, as in a walk
    young = nativeClearYoung(pi);
  } else {
    SCNT[SC.exits]++; // a write fault through the read-only kmap spte
    const usp = SV.gfnSp[u] - 1;
    if (usp < 0 || (SH.policy & SHP_A_CLEAR_UNSHADOW) !== 0) {
      if (usp >= 0) { // seed 004 (Arcangeli): an A-bit clear is an unshadow request; no emulation
        spZap(usp);
        SCNT[SC.unshadows]++;
        SCNT[SC.a_clear_unshadows]++;
      }
      // the kmap spte becomes writable (a wider translation: no flush) and the instruction re-runs natively
      Atomics.store(SV.spte, slot, x | SPTE_W | SPTE_A); // K's sptes change under the lock; kernelTouch's lock-free hit only sets A by compare-exchange
      young = nativeClearYoung(pi);
    } else {
      // KVM 2.6.2x emulates the locked RMW: read, clear A, write back through kvm_mmu_pte_write
      SCNT[SC.insn_emulation]++;
      SCNT[SC.emulations_a_clear]++;
      if (SV.sp[spi * SP_WORDS + SP_LAST_SPEC] === ME && SV.sp[spi * SP_WORDS + SP_WRITER] === ME) SV.sp[spi * SP_WORDS + SP_EVIDENCE] |= EV_EMU; // K's last speculative spte, used by the emulator
      const old = Atomics.load(V.k, pi);
      young = (old & PTE_ACCESSED) !== 0;
      emulatePteStore(usp, u, table, idx, old & ~PTE_ACCESSED);
    }
  }
  mmuUnlock();
  SCNT[SC.kscand_scanned]++;
  if (young) SCNT[SC.kscand_young]++;
  return young;
}

// ------------------------------------------------------------------ the host's shrinker

/** mmu_shrink: zap up to n shadow pages from the tail of the active list; returns how many. */
export function mmuShrink(n: number): number {
  mmuLock();
  let done = 0;
  while (done < n && SV.s[SH_LRU_TAIL] >= 0) {
    spZap(SV.s[SH_LRU_TAIL]);
    done++;
  }
  mmuUnlock();
  SCNT[SC.mmu_shrink_zaps] += done;
  return done;
}
