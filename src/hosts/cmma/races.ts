/** The KVM s390 CMMA races (reporting_cmma.md B.7): catalogue block after free page reporting's (hosts/catalogue.ts). */
import type { RaceEntry } from '../../core/races.js';

/**
 * The hunting ground: a 1 MiB guest under host pressure (a quarter of it resident) running
 * `mixed`: page-cache pages the host swapped out are freed by truncation (block reuse list
 * entries) while anonymous blocks are stamped and verified; lists of 4 entries so that
 * full-list exits come often.
 */
const CHUNT = {
  host: 'cmma' as const, workload: 'mixed', mem: '1M', host_mem: '256K', ops: 3000,
  workloadOptions: { files: 2, file_pages: 48, cbrl_size: 4 },
};

export const CMMA_RACES: RaceEntry[] = [
  {
    id: 'cmma-zap-without-recheck', name: 'a block reuse list entry zapped after the page was re-stabilised', catalogue: 'B.7/C2',
    interleaving: ['vCPU A frees page P, swapped out by the host: SET_UNUSED, P goes on A\'s block reuse list',
      'vCPU B allocates P: SET_STABLE (interpreted, no exit) and writes its stamp: P is paged in',
      'A\'s list fills: the exit zaps every entry without re-reading usage under the PGSTE lock', 'P\'s content is dropped: B reads zeros'],
    oracle: 'integrity', fix: 'ptep_zap_unused re-reads usage (still unused) and the swap entry under the PGSTE lock; a CBRL entry is a hint, not a command',
    source: 'guard C2 (arch/s390/mm/pgtable.c ptep_zap_unused; new gmap _essa_clear_cbrl)', reproduced: true,
    ...CHUNT,
  },
  {
    id: 'cmma-unused-after-freelist', name: 'SET_UNUSED issued after the page became allocatable', catalogue: 'B.7/C1',
    interleaving: ['vCPU A frees a block: it reaches the buddy lists before arch_free_page\'s ESSA runs',
      'vCPU B allocates the block: SET_STABLE, writes its stamp', 'A\'s late SET_UNUSED marks B\'s page unused',
      'host reclaim drops the resident unused frame without I/O: B reads a zero page'],
    oracle: 'integrity', fix: 'arch_free_page at the end of __free_pages_prepare, before the page can reach a pcp list or the buddy',
    source: 'guard C1 (mm/page_alloc.c comment on arch_free_page; arch/s390/mm/page-states.c)', reproduced: true,
    ...CHUNT,
  },
  {
    id: 'cmma-essa-vs-migration', name: 'an ESSA intercept races the migration start', catalogue: 'B.7/K8',
    interleaving: ['migration mode: vCPU A\'s ESSA is intercepted and emulated without slots_arch_lock',
      'A sets the page\'s new usage (pgste_perform_essa) but has not yet set its cmma_d bit',
      'the migration worker\'s GET (or stop-and-copy) reaches the page: clean, so nothing is sent',
      'the page now differs from what the destination holds, with no dirty bit to say so (A\'s late bit only helps if another walk follows)'],
    oracle: 'integrity', fix: 'slots_arch_lock around the intercept handler and the migration start, stop and GET (4db720705287)',
    source: 'K8, "KVM: s390: Fix race in __do_essa()" (2026)', reproduced: true,
    ...CHUNT, workload: 'alloc-storm', // ESSA on every page of every block: intercepted ESSAs all through the migration
    workloadOptions: { fill: 50, fill_low: 10, wave: 400, max_order: 4, cbrl_size: 4, migrate_at: 300, migrate_passes: 100 },
  },
  {
    id: 'cmma-memslot-remove-count', name: 'a memslot removed during migration stays in cmma_dirty_pages', catalogue: 'B.7/K8b',
    interleaving: ['the migration starts: cmma_dirty_pages counts every page of both memslots',
      'QEMU removes memslot 1 (device memory) before the walk reached it', 'its dirty pages are never walked again but stay counted',
      'after stop-and-copy KVM_S390_GET_CMMA_BITS still reports remaining > 0: userspace loops'],
    oracle: 'liveness', fix: 'subtract the removed slot\'s dirty pages from cmma_dirty_pages (ec2153462705)',
    source: 'K8, "KVM: s390: cmma: Fix dirty tracking when removing memslot" (2026)', reproduced: true,
    ...CHUNT, workloadOptions: { ...CHUNT.workloadOptions, migrate_at: 600, remove_slot: 1 },
  },
  {
    id: 'cmma-nodat-not-reset', name: 'no-dat survives a CMMA reset', catalogue: 'B.7/K7',
    interleaving: ['the guest sets pages stable with no-dat (facility 147)', 'a load-normal reset clears every usage but not no-dat',
      'the guest\'s next ESSA on such a page reports no-dat it never set: a page-table page would be treated as no-dat (wrong TLB flushes)'],
    oracle: 'invalid_state', fix: 'the CMMA reset clears no-dat too (K7, kvm-unit-tests 7315fc8a182e)',
    source: 'K7, "KVM: s390/mm: Properly reset no-dat" (Nov 2023)', reproduced: true,
    ...CHUNT, workloadOptions: { ...CHUNT.workloadOptions, nodat: 1, reset_at: 600 },
  },
];
