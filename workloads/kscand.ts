/**
 * kscand: file-churn's tasks on every CPU, and on CPU 0 also RHEL3's kscand, which ages the
 * page cache by test-and-clearing the accessed bit of every pte mapping a cached page,
 * reaching each page table through kmap_atomic (seed 004, xenpaging_kvm.md 2.5). Meant for
 * --host shadow (its default), where every kmap write and every accessed-bit clear through
 * a kmap is an MMU event: the 2008 false-flood pathology, its fix, and the alternatives.
 * Every guest op also enters the kernel, which uses kernel data mapped by the same kernel
 * page table K as the fixmap (`ktouch` accesses per op): while K is shadowed these cost
 * nothing, after K is flooded each one faults until K's shadow is rebuilt.
 *
 * The host-side options (a_clear, emulate_more, shadow_pool) are read by the shadow host at
 * boot (hosts/shadow/shadow_mmu.ts); the guest side reaches the host through its hooks (core/hooks.ts).
 */
import { C } from '../src/core/counters.js';
import { CNT } from '../src/core/ctx.js';
import { H } from '../src/core/hooks.js';
import { KERNEL_PTES } from '../src/core/layout.js';
import { Prng } from '../src/core/prng.js';
import { Kscand } from '../src/guest/kscand.js';
import { COMMON, FileChurnCpu, ORACLES, STEP_NAMES, setupFiles } from './file_churn.js';
import type { CpuTask, Workload } from './workload.js';

const S_KSCAND = STEP_NAMES.length;

class KscandCpu implements CpuTask {
  private readonly user: FileChurnCpu;
  private readonly rng: Prng;
  private readonly scanner: Kscand | null;
  private readonly scanPct: number;
  private readonly ktouch: number;

  constructor(cpu: number, ncpus: number, seed: number, o: Record<string, number>) {
    this.user = new FileChurnCpu(cpu, ncpus, seed, o);
    this.rng = new Prng(seed, 300 + cpu);
    this.scanPct = o.scan_pct;
    this.ktouch = H.modelsKernelTable ? o.ktouch : 0;
    this.scanner = cpu === 0 && o.scan_pct > 0
      ? new Kscand({ batch: o.scan_batch, halves: o.kmap_halves, unmapClear: o.kunmap_clear !== 0, skipSame: o.kmap_skip_same !== 0 })
      : null;
  }

  step(): number {
    for (let k = 0; k < this.ktouch; k++) H.kernelTouch(this.rng.below(KERNEL_PTES));
    if (this.scanner !== null && this.rng.below(100) < this.scanPct) {
      CNT[C.ops]++;
      H.kscandPass();
      this.scanner.scan();
      return S_KSCAND;
    }
    return this.user.step();
  }

  finish(): void {
    this.user.finish();
  }

  owned(): number[] {
    return this.user.owned();
  }
}

export const kscand: Workload = {
  name: 'kscand',
  description: 'file-churn tasks on every CPU plus RHEL3\'s kscand on CPU 0, aging the page cache by clearing pte accessed bits through kmap_atomic (meant for --host shadow: the 2008 false-flood pathology)',
  options: [
    ...COMMON,
    { name: 'anon_pct', default: 0, min: 0, max: 90, description: 'percent of user steps spent on anonymous ballast (alloc-storm)' },
    { name: 'scan_pct', default: 10, min: 0, max: 100, description: 'percent of CPU 0\'s steps that are kscand passes (0: no scanner)' },
    { name: 'scan_batch', default: 8, min: 1, max: 256, description: 'ptes test-and-cleared per kscand pass' },
    { name: 'kmap_halves', default: 2, min: 1, max: 2, description: 'fixmap pte writes per kmap_atomic: 1 without PAE, 2 with PAE (RHEL 3.8 SMP)' },
    { name: 'kunmap_clear', default: 0, min: 0, max: 1, description: '1: kunmap_atomic clears the fixmap pte (2.6, or 2.4 with HIGHMEM_DEBUG)' },
    { name: 'kmap_skip_same', default: 0, min: 0, max: 1, description: '1: kmap_atomic skips the write when the fixmap pte already holds the value (CentOS 3.8)' },
    { name: 'ktouch', default: 4, min: 0, max: 16, description: 'kernel data accesses through the kernel page table K per guest op' },
    { name: 'a_clear', default: 0, min: 0, max: 1, description: 'host: 0 emulate an accessed-bit clear through a kmap (KVM 2.6.2x); 1 unshadow the page table at once instead (Arcangeli, seed 004)' },
    { name: 'emulate_more', default: 0, min: 0, max: 1, description: 'host: 1 emulates the second half of a PAE pte write in the first half\'s exit (Xen; Kivity\'s suggestion)' },
    { name: 'shadow_pool', default: 0, min: 0, max: 1024, description: 'host: shadow pages in the pool; 0 is 2.6.2x\'s max(64, 2% of guest frames), others are kept between 8 and that' },
  ],
  oracles: [...ORACLES, 'false_flood', 'shadow_coherence', 'stale_shadow', 'tlb', 'shadow_thrash'],
  stepNames: [...STEP_NAMES, 'kscand'],
  defaults: { memBytes: 4 << 20, hinting: 'off', host: 'shadow' },
  setup: setupFiles,
  createCpu: (cpu, ncpus, seed, opts) => new KscandCpu(cpu, ncpus, seed, opts),
};
