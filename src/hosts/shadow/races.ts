/** The shadow MMU host's races (catalogue block after xenpaging's; hosts/catalogue.ts). */
import type { RaceEntry } from '../../core/races.js';

/**
 * The hunting ground of the KVM shadow MMU races (--host shadow): the kscand workload on two
 * CPUs in a small guest, with files small enough that page tables fill and empty quickly.
 */
const KHUNT = {
  host: 'shadow' as const, workload: 'kscand', mem: '2M', host_mem: '2M', ops: 3000,
  workloadOptions: { files: 2, file_pages: 16 },
};

/** KVM's shadow MMU of 2.6.2x and RHEL3's kscand (reference/xenpaging_kvm.md 2.7). */
export const SHADOW_RACES: RaceEntry[] = [
  {
    id: 'kv-emulated-access-marks-spte', name: 'false flood on the kmap page table', catalogue: 'K1',
    interleaving: ['kscand on CPU 0 kmaps a user page table U: emulated writes to the kernel table K install a speculative spte S -> U, without A',
      'kscand test-and-clears a pte of U through S: S is read-only (U is shadowed), so the locked RMW is emulated and the hardware never sets S\'s accessed bit',
      'the next kmap write to K finds its last speculative spte unused: the third emulated write floods K',
      'K, a kernel table every CPU uses, is zapped and rebuilt by the next kernel access; the cycle repeats every kmap or two'],
    oracle: 'false_flood', fix: 'kvm_mmu_access_page: an emulated access to the frame the vCPU\'s last speculative spte maps marks that spte accessed',
    source: 'Kivity, 1b7fcd3263e5 (2008, mmu.c); seed 004', reproduced: true,
    ...KHUNT, workloadOptions: { ...KHUNT.workloadOptions, scan_pct: 50 },
  },
  {
    id: 'kv-zap-on-a-clear', name: 'accessed bit cleared but the shadow kept', catalogue: 'K2',
    interleaving: ['kscand on CPU 0 clears A in task 1\'s pte p through a kmap (emulated)', 'KVM keeps p\'s spte: only A changed',
      'task 1 touches the page through the spte; the hardware sets A only in the spte', 'the next scan sees p old and ages a page in use as idle'],
    oracle: 'shadow_coherence', fix: 'an emulated pte write zaps the spte unless the new guest pte is present and accessed (a present spte needs A in the guest pte)',
    source: 'xenpaging_kvm.md 2.4 (the invariant of seed 004); Xen shadow/multi.c keeps the same rule', reproduced: true,
    ...KHUNT, workloadOptions: { ...KHUNT.workloadOptions, scan_pct: 50 },
  },
  {
    id: 'kv-fork-detector-reset', name: 'demand paging mistaken for fork', catalogue: 'K4',
    interleaving: ['a task faults on pages of one file: each fault is reflected into the guest', 'the guest fault handler writes the pte: an emulated write, and a speculative spte the retried access then uses',
      'the 2.6.24 detector counts every emulated write to the table: the third floods it', 'the table in use is unshadowed, rebuilt and refaulted'],
    oracle: 'false_flood', fix: 'the flood count restarts on demand and reflected faults (a25f7e1f8c1f) and goes on only while the last speculative spte is unused (2.6.25)',
    source: 'KVM a25f7e1f8c1f (2007); 2.6.25 last_pte_updated', reproduced: true,
    ...KHUNT, workloadOptions: { ...KHUNT.workloadOptions, scan_pct: 0 },
  },
  {
    id: 'kv-unshadow-on-user-write', name: 'a former page table written as data', catalogue: 'K5',
    interleaving: ['a task unmaps a file whose page table held one or two ptes: two emulated writes, no flood, the shadow page stays',
      'the guest frees the table\'s frame; the host is not told', 'the frame is reused as an anonymous page and the task writes it',
      'the frame is still write-protected: the user-mode write exits and is emulated, and so is every write until three land without a use'],
    oracle: 'stale_shadow', fix: 'a user-mode write fault on a write-protected frame unshadows it at once (it cannot be a page table of the process)',
    source: 'KVM 2.6.2x paging_tmpl.h (user fault: kvm_mmu_unprotect_page); xenpaging_kvm.md K5', reproduced: true,
    ...KHUNT, workloadOptions: { files: 4, file_pages: 4, scan_pct: 0, anon_mem_pct: 40 },
  },
  {
    id: 'kv-remote-flush', name: 'stale translation on another vCPU', catalogue: 'K7',
    interleaving: ['CPU 1 reads a file page through its spte: the translation is in its TLB', 'CPU 0 truncates the page: its unmap of task 1\'s pte is an emulated write that zaps the spte',
      'CPU 0 flushes only its own TLB', 'CPU 1 keeps using the old translation to a frame the guest unmapped and freed'],
    oracle: 'tlb', fix: 'mmu_pte_write_flush_tlb: a remote TLB flush when the old spte was present and the new one removes access or changes the frame (2.6.25)',
    source: 'KVM 2.6.25 mmu.c', reproduced: true,
    ...KHUNT, workloadOptions: { files: 1, file_pages: 8, scan_pct: 0 },
  },
  {
    id: 'kv-shadow-lru', name: 'shadow pool thrash', catalogue: 'K9',
    interleaving: ['two tasks use more page tables than the pool holds (16 file tables, the kernel table K; a pool of 12)',
      'below its free watermark the pool zaps from the tail of its list, kept in creation order',
      'the oldest shadow pages are K and the tables the tasks use most, while pages used longer ago stay',
      'the next kernel access or user fault rebuilds what was just zapped: mmu_recycled and faults climb'],
    oracle: 'shadow_thrash', fix: 'recycling takes the least recently used shadow page (a fault through a page moves it to the head of the active list); 2.6.2x had no structural fix, the pool size (kv-shadow-pool-pages) was the knob',
    source: 'xenpaging_kvm.md K9 (KVM_MIN_FREE_MMU_PAGES 5, KVM_REFILL_PAGES 25)', reproduced: true,
    ...KHUNT, workloadOptions: { files: 8, file_pages: 16, scan_pct: 10, shadow_pool: 12 },
  },
];
