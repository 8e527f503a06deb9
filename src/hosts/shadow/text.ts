/** The shadow host's lines of the text summary (after the faults line). */
import { n } from '../../core/format.js';
import type { HostTextRun } from '../host.js';
import type { ShadowSummary } from './shadow_mmu.js';

/** The shadow host's lines: exits and emulations, the pool, kscand. */
export function shadowExtraLines(t: HostTextRun): string[] {
  const s = t.section as ShadowSummary;
  const c = s.counters;
  const out = [
    `  shadow mmu   exits ${n(c.exits)} (${s.traps_per_1000_ops} per 1000 ops), emulations ${n(c.insn_emulation)} (kmap ${n(c.emulations_kmap)}, A-bit clears ${n(c.emulations_a_clear)}, data ${n(c.emulations_data)}), floods ${n(c.mmu_flooded)} (kernel table ${n(c.kernel_table_floods)})`,
    `  shadow pool  ${s.pool_pages} pages, built ${n(c.mmu_cache_miss)}, zapped ${n(c.mmu_shadow_zapped)} (unshadowed ${n(c.unshadows)}, recycled ${n(c.mmu_recycled)}, shrunk ${n(c.mmu_shrink_zaps)}), remote TLB flushes ${n(c.remote_tlb_flush)}`,
  ];
  if (c.kscand_steps > 0) out.push(`  kscand       ${n(c.kscand_scanned)} ptes scanned in ${n(c.kscand_steps)} passes, ${n(c.kscand_young)} young; A-bit clears ${s.a_clear === 'unshadow' ? 'unshadow the table' : 'emulated'}`);
  return out;
}
