/**
 * The shadow MMU host (--host shadow), host side: boot of the shadow area (main thread,
 * before any worker runs), the shrinker the host worker runs under host memory pressure
 * (mmu_shrink), and the end-of-run audit (kvm_mmu_audit's invariants, main thread after
 * stop). The exits themselves run on the vCPUs (shared/shadow.ts).
 */
import {
  KERNEL_DATA_FRAMES, KERNEL_PTES, MAX_CPUS, MAX_PARTICIPANTS, NFILES, PTE_ACCESSED, PTE_DIRTY, PTE_PFN_MASK, PTE_WRITE, SH_CLOCK, SH_EVENTS,
  SH_FREE_HEAD, SH_KDATA_GFN, SH_KMAP_GFN, SH_KPTE, SH_LRU_HEAD, SH_LRU_TAIL, SH_MIN_FREE, SH_MMU_LOCK, SH_POLICY, SH_POOL_MAX,
  SH_POOL_USED, SH_REFILL, SH_TABLE_GFN, SHP_A_CLEAR_UNSHADOW, SHP_EMULATE_MORE, SPTES_PER_SP, SPTE_PFN_MASK, SPTE_W, SP_GFN,
  SP_NEXT, SP_TABLE, SP_WORDS, SV_BASE, SV_LAST_SPEC, SV_LAST_SPEC_GFN, SV_WORDS, T_ANON0, T_KERNEL, type Views,
} from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import { mmuShrink, pteWordOf, tableName } from './shadow.js';
import { ShadowViews, sumShadowCounters } from './shadow_views.js';

/** Frames the shadow host keeps out of the allocator: the kernel table K and the kernel data it maps. */
export const SHADOW_RESERVED_FRAMES = 1 + KERNEL_DATA_FRAMES;
/** Shadow pages the host's shrinker zaps per reclaim pass under host memory pressure (mmu_shrink). */
export const SHRINK_PER_PASS = 1;

export interface ShadowBootOptions {
  /** Shadow pages in the pool; 0: 2.6.2x's max(64, 2% of guest frames). */
  pool: number;
  /** An accessed-bit clear through a kmap unshadows the table (Arcangeli) instead of being emulated. */
  aClearUnshadow: boolean;
  /** Emulate the second half of a PAE pte write in the first half's exit. */
  emulateMore: boolean;
}

/** The reserved frames (K first, then its kernel data), for the leak oracle's accounting. */
export function shadowKernelFrames(v: Views): number[] {
  const sv = new ShadowViews(v);
  const k = sv.s[SH_KMAP_GFN];
  const d = sv.s[SH_KDATA_GFN];
  return [k, ...Array.from({ length: KERNEL_DATA_FRAMES }, (_, i) => d + i)];
}

/**
 * Lay out the shadow area of a fresh machine: an empty pool on its free list, nothing
 * shadowed, the kernel table K (the machine's top frame) with its fixmap slots empty and its
 * kernel ptes mapping the KERNEL_DATA_FRAMES frames below it. The caller keeps those frames out of
 * the allocator.
 */
export function shadowBoot(v: Views, o: ShadowBootOptions): void {
  const sv = new ShadowViews(v);
  const s = sv.s;
  const max = o.pool > 0 ? Math.min(sv.cap, Math.max(8, o.pool)) : sv.cap;
  s[SH_MMU_LOCK] = 0;
  s[SH_POOL_MAX] = max;
  // KVM's 5 and 25 for its pools of 64 and more; smaller pools (the workload's shadow_pool) scale them
  s[SH_MIN_FREE] = max >= 64 ? 5 : Math.max(1, Math.ceil((max * 5) / 64));
  s[SH_REFILL] = max >= 64 ? 25 : Math.max(s[SH_MIN_FREE] + 1, Math.ceil((max * 25) / 64));
  s[SH_POLICY] = (o.aClearUnshadow ? SHP_A_CLEAR_UNSHADOW : 0) | (o.emulateMore ? SHP_EMULATE_MORE : 0);
  const k = v.nframes - 1;
  const kdata = v.nframes - SHADOW_RESERVED_FRAMES;
  s[SH_KMAP_GFN] = k;
  s[SH_KDATA_GFN] = kdata;
  s[SH_POOL_USED] = 0;
  s[SH_LRU_HEAD] = -1;
  s[SH_LRU_TAIL] = -1;
  s[SH_CLOCK] = 0;
  s[SH_EVENTS] = 0;
  for (let i = 0; i < sv.cap; i++) {
    sv.sp[i * SP_WORDS + SP_GFN] = -1;
    sv.sp[i * SP_WORDS + SP_NEXT] = i + 1 < max ? i + 1 : -1;
  }
  s[SH_FREE_HEAD] = max > 0 ? 0 : -1;
  for (let p = 0; p < MAX_PARTICIPANTS; p++) {
    s[SV_BASE + p * SV_WORDS + SV_LAST_SPEC] = -1;
    s[SV_BASE + p * SV_WORDS + SV_LAST_SPEC_GFN] = -1;
  }
  for (let i = 0; i < MAX_CPUS; i++) s[SH_KPTE + i] = 0; // fixmap slots: nothing kmapped
  for (let i = 0; i < KERNEL_PTES; i++) s[SH_KPTE + MAX_CPUS + i] = (kdata + (i % KERNEL_DATA_FRAMES) + 1) | PTE_WRITE | PTE_ACCESSED | PTE_DIRTY; // PAGE_KERNEL
  s[SH_TABLE_GFN + T_KERNEL] = k + 1;
  sv.gfnTable[k] = T_KERNEL + 1;
}

/** The host worker's shrinker tick (a reclaim pass under host memory pressure). */
export function shadowShrinkTick(): number {
  return mmuShrink(SHRINK_PER_PASS);
}

/**
 * End-of-run audit (main thread, after stop; kvm_mmu_audit): the pool's lists and counts,
 * the frame -> shadow page map both ways, and every present spte against its guest pte
 * (present, same frame, accessed; writable only with W and D and an unshadowed target).
 * Returns false after reporting the first broken invariant.
 */
export function shadowAudit(v: Views, who: number): boolean {
  const sv = new ShadowViews(v);
  const s = sv.s;
  const bad = (oracle: number, pfn: number, msg: string): boolean => {
    report(v, oracle, pfn, who, 0, `shadow audit: ${msg}`);
    return false;
  };
  const max = s[SH_POOL_MAX];
  let used = 0;
  for (let p = s[SH_LRU_HEAD], n = 0; p >= 0; p = sv.sp[p * SP_WORDS + SP_NEXT]) {
    if (++n > max) return bad(O.bug_on, -1, 'the active list loops');
    const gfn = sv.sp[p * SP_WORDS + SP_GFN];
    if (gfn < 0 || gfn >= v.nframes || sv.gfnSp[gfn] !== p + 1) return bad(O.bug_on, gfn, `shadow page ${p} on the active list is not the one its frame ${gfn} names`);
    used++;
  }
  let free = 0;
  for (let p = s[SH_FREE_HEAD], n = 0; p >= 0; p = sv.sp[p * SP_WORDS + SP_NEXT]) {
    if (++n > max) return bad(O.bug_on, -1, 'the free list loops');
    if (sv.sp[p * SP_WORDS + SP_GFN] !== -1) return bad(O.bug_on, -1, `shadow page ${p} is on the free list but shadows frame ${sv.sp[p * SP_WORDS + SP_GFN]}`);
    free++;
  }
  if (used !== s[SH_POOL_USED] || used + free !== max) return bad(O.bug_on, -1, `pool of ${max}: ${used} active and ${free} free, but ${s[SH_POOL_USED]} counted in use`);
  let shadowed = 0;
  for (let gfn = 0; gfn < v.nframes; gfn++) if (sv.gfnSp[gfn] !== 0) shadowed++;
  if (shadowed !== used) return bad(O.bug_on, -1, `${shadowed} frames are write-protected but ${used} shadow pages are in use`);
  for (let p = s[SH_LRU_HEAD]; p >= 0; p = sv.sp[p * SP_WORDS + SP_NEXT]) {
    const gfn = sv.sp[p * SP_WORDS + SP_GFN];
    const table = sv.gfnTable[gfn] - 1;
    for (let i = 0; i < SPTES_PER_SP; i++) {
      const x = sv.spte[p * SPTES_PER_SP + i];
      if (x === 0) continue;
      if (table < 0) return bad(O.shadow_coherence, gfn, `frame ${gfn} is no page table any more (${tableName(sv.sp[p * SP_WORDS + SP_TABLE])} freed it) but its shadow page still has a present spte at ${i}`);
      const g = table === T_KERNEL ? s[SH_KPTE + i] : v.k[pteWordOf(table, i)];
      const where = `${tableName(table)}, pte ${i}`;
      if (g <= 0 || (g & PTE_PFN_MASK) !== (x & SPTE_PFN_MASK)) return bad(O.shadow_coherence, (x & SPTE_PFN_MASK) - 1, `${where}: the spte maps pfn ${(x & SPTE_PFN_MASK) - 1} but the guest pte is ${g === 0 ? 'not present' : `0x${(g >>> 0).toString(16)}`}`);
      if ((g & PTE_ACCESSED) === 0) return bad(O.shadow_coherence, (x & SPTE_PFN_MASK) - 1, `${where}: a present spte for a guest pte with its accessed bit clear`);
      if ((x & SPTE_W) !== 0) {
        const target = (x & SPTE_PFN_MASK) - 1;
        if ((g & PTE_WRITE) === 0 || (g & PTE_DIRTY) === 0) return bad(O.shadow_coherence, target, `${where}: a writable spte for a guest pte without W and D`);
        if (sv.gfnSp[target] !== 0) return bad(O.shadow_coherence, target, `${where}: a writable spte maps frame ${target}, which is a shadowed page table (O-wp)`);
      }
    }
  }
  // every task's table with a frame: that frame says it holds that table
  for (let t = 0; t < T_KERNEL; t++) {
    const gfn = s[SH_TABLE_GFN + t] - 1;
    if (gfn >= 0 && sv.gfnTable[gfn] !== t + 1) return bad(O.bug_on, gfn, `${t < T_ANON0 ? `task ${(t / NFILES) | 0} file ${t % NFILES}` : `task ${t - T_ANON0} anonymous`} table's frame ${gfn} does not name it`);
  }
  return true;
}

export interface ShadowSummary {
  pool_pages: number;
  pool_in_use: number;
  a_clear: 'emulate' | 'unshadow';
  emulate_more: boolean;
  counters: Record<string, number>;
  /** exits per 1000 guest ops (all ops, kscand passes included) */
  traps_per_1000_ops: number;
  /** exits per 1000 user ops (ops that are not kscand passes) */
  traps_per_1000_user_ops: number;
  emulations_per_1000_ops: number;
}

/** The `shadow` object of run --json (main thread, after stop). */
export function shadowSummary(v: Views, participants: number, ops: number): ShadowSummary {
  const sv = new ShadowViews(v);
  const c = sumShadowCounters(v, participants);
  const per = (n: number, d: number): number => Number(((n * 1000) / Math.max(1, d)).toFixed(1));
  const userOps = ops - c.kscand_steps;
  return {
    pool_pages: sv.s[SH_POOL_MAX], pool_in_use: sv.s[SH_POOL_USED],
    a_clear: (sv.s[SH_POLICY] & SHP_A_CLEAR_UNSHADOW) !== 0 ? 'unshadow' : 'emulate',
    emulate_more: (sv.s[SH_POLICY] & SHP_EMULATE_MORE) !== 0,
    counters: c,
    traps_per_1000_ops: per(c.exits, ops),
    traps_per_1000_user_ops: per(c.exits, userOps),
    emulations_per_1000_ops: per(c.insn_emulation, ops),
  };
}
