/**
 * Views over the shadow MMU area of the machine buffer (layout.ts, "shadow MMU area") and
 * the names of its per-participant counters. Built for every participant by ctxInit; used
 * only when CTL_HOST is HOST_SHADOW.
 */
import {
  CTL_NCPUS, CTL_UNFIX, MAX_PARTICIPANTS, SHADOW_COUNTERS, SH_KMAP_GFN, SH_POLICY, SPTES_PER_SP, SP_WORDS, SV_BASE, SV_WORDS, geometry, shadowGeometry,
  type Views,
} from '../../core/layout.js';

/**
 * Shadow MMU counters, one Float64 slot each per participant (owner-written, summed by main
 * after the stop handshake). The KVM debugfs names of 2.6.2x where they exist
 * (xenpaging_kvm.md 3.1), then this model's own.
 */
export const SHADOW_COUNTER_NAMES = [
  'exits',                 // VM exits the MMU took: shadow page faults and write-protection faults (traps)
  'pf_fixed',              // shadow faults fixed by installing an spte on demand
  'pf_guest',              // faults reflected into the guest: its own pte is not present or read-only
  'insn_emulation',        // instructions emulated (all kinds below)
  'mmu_pte_write',         // emulated writes to shadowed page tables (kvm_mmu_pte_write)
  'mmu_pte_updated',       // speculative sptes installed by an emulated pte write
  'emulations_kmap',       // emulated writes to the kernel table K (kmap_atomic's fixmap pte)
  'emulations_a_clear',    // emulated accessed-bit clears through a kmap (kscand)
  'emulations_data',       // emulated user writes to a data page that still had a shadow (K5)
  'spte_zaps',             // sptes zapped by emulated pte writes
  'mmu_shadow_zapped',     // shadow pages zapped, for any reason
  'unshadows',             // ...because the frame stopped being treated as a page table (flood, user write, A-clear policy)
  'mmu_flooded',           // flood detections
  'kernel_table_floods',   // ...of the kernel table K (in constant use: each is rebuilt at once)
  'false_floods',          // flooded frames shadowed again within FALSE_FLOOD_WINDOW MMU events (M-false-flood)
  'mmu_recycled',          // shadow pages recycled to make room in the pool (pool evictions)
  'recycled_rebuilds',     // ...whose frame was shadowed again later (M-recycle)
  'mmu_cache_miss',        // shadow pages built
  'reshadow_faults',       // ...for a frame that had been shadowed before (M-reshadow)
  'remote_tlb_flush',      // remote TLB flush requests posted
  'tlb_flush_ipis',        // exits taken by vCPUs kicked out for a remote flush (counted in exits)
  'tlb_flush',             // TLB flushes done (local ones and requests taken)
  'a_clear_unshadows',     // accessed-bit clears turned into an unshadow (SHP_A_CLEAR_UNSHADOW)
  'mmu_shrink_zaps',       // shadow pages the host's shrinker zapped
  'kmap_writes',           // writes to fixmap ptes (kmap_atomic, and kunmap_atomic's clear)
  'kmap_skipped',          // kmap_atomic of the value already in place (skip-same-value)
  'kernel_touches',        // kernel data accesses through K
  'kscand_steps',          // scanner steps (each is one guest op)
  'kscand_scanned',        // ptes the scanner test-and-cleared
  'kscand_young',          // ...that were young (accessed since the previous scan)
  'pgtable_allocs',        // page-table frames the guest allocated
  'pgtable_frees',
  'pgtable_alloc_failures', // tables left without a frame (no memory): the MMU translates them unshadowed
] as const;
export type ShadowCounterName = (typeof SHADOW_COUNTER_NAMES)[number];
export const SC = Object.fromEntries(SHADOW_COUNTER_NAMES.map((n, i) => [n, i])) as { readonly [K in ShadowCounterName]: number };
if (SHADOW_COUNTER_NAMES.length > SHADOW_COUNTERS) throw new Error('shadow_views: more counters than SHADOW_COUNTERS slots');

export class ShadowViews {
  readonly s: Int32Array;        // fixed words (SH_*, SV_*, SH_KPTE, SH_TABLE_GFN)
  readonly gfnSp: Int32Array;
  readonly gfnTable: Int32Array;
  readonly gfnRecycled: Int32Array;
  readonly gfnFlooded: Int32Array;
  readonly gfnShadowed: Int32Array;
  readonly sp: Int32Array;       // SP_WORDS per shadow page
  readonly spte: Int32Array;     // SPTES_PER_SP per shadow page
  readonly gen: Int32Array;      // one per spte slot
  readonly cnt: Float64Array;    // SHADOW_COUNTERS per participant
  readonly cap: number;
  constructor(v: Views) {
    const base = geometry(v.nframes, v.ncpus).shadow;
    const g = shadowGeometry(v.nframes);
    const w = (off: number, n: number): Int32Array => new Int32Array(v.sab, base + off * 4, n);
    this.cap = g.cap;
    this.s = w(0, g.gfnSp);
    this.gfnSp = w(g.gfnSp, v.nframes);
    this.gfnTable = w(g.gfnTable, v.nframes);
    this.gfnRecycled = w(g.gfnRecycled, v.nframes);
    this.gfnFlooded = w(g.gfnFlooded, v.nframes);
    this.gfnShadowed = w(g.gfnShadowed, v.nframes);
    this.sp = w(g.sp, g.cap * SP_WORDS);
    this.spte = w(g.spte, g.cap * SPTES_PER_SP);
    this.gen = w(g.gen, g.cap * SPTES_PER_SP);
    this.cnt = new Float64Array(v.sab, base + g.counters * 4, MAX_PARTICIPANTS * SHADOW_COUNTERS);
  }
}

/** This participant's shadow views and counters (set by ctxInit). */
export let SV: ShadowViews;
export let SCNT: Float64Array;

/**
 * Per-participant MMU state, set by ctxInit for every machine a worker attaches to (a
 * reused worker starts afresh): the machine's configuration words, this participant's
 * SV_* words, and its TLB (shadow.ts; direct-mapped by pte index).
 */
export const SH = { unfix: 0, policy: 0, kGfn: -1, ncpus: 0, svMe: 0, reported: 0 /* performance oracles this participant reported (bit per oracle) */ };
export const TLB_SIZE = 16;
export const tlbKey = new Int32Array(TLB_SIZE);   // pte index + 1, 0 empty
export const tlbSlot = new Int32Array(TLB_SIZE);  // spte slot it was filled from
export const tlbGen = new Int32Array(TLB_SIZE);   // that slot's generation at the fill
export const tlbPfn = new Int32Array(TLB_SIZE);   // frame + 1
export const tlbW = new Uint8Array(TLB_SIZE);
export const tlbGpte = new Int32Array(TLB_SIZE);  // the guest pte seen at the fill (what the access uses)

export function shadowViewsInit(v: Views, me: number): void {
  SV = new ShadowViews(v);
  SCNT = SV.cnt.subarray(me * SHADOW_COUNTERS, (me + 1) * SHADOW_COUNTERS);
  SH.unfix = v.hdr[CTL_UNFIX];
  SH.ncpus = v.hdr[CTL_NCPUS];
  SH.policy = SV.s[SH_POLICY];
  SH.kGfn = SV.s[SH_KMAP_GFN];
  SH.svMe = SV_BASE + me * SV_WORDS;
  SH.reported = 0;
  tlbKey.fill(0);
}

/** Sum of the shadow counters over participants (main thread, after stop). */
export function sumShadowCounters(v: Views, participants: number): Record<string, number> {
  const sv = new ShadowViews(v);
  const out: Record<string, number> = {};
  SHADOW_COUNTER_NAMES.forEach((name, c) => {
    let s = 0;
    for (let p = 0; p < participants; p++) s += sv.cnt[p * SHADOW_COUNTERS + c];
    out[name] = s;
  });
  return out;
}
