/**
 * The race catalogue: every fix of the series is on by default; `--unfix ID` turns one off.
 * Bit i of CTL_UNFIX is set when RACES[i] is unfixed. Only races whose toggle exists in
 * the model are listed: a listed id always changes what the guest does.
 */
export interface RaceEntry {
  id: string;
  name: string;
  catalogue: string;      // R-number in reference/hinting.md, X- or K-number in reference/xenpaging_kvm.md
  /** The host whose code the race lives in: a hunt runs with this --host. */
  host: 'essa' | 'xenpaging' | 'shadow';
  interleaving: string[];
  oracle: string;
  fix: string;
  source: string;
  /** The run a hunt uses to make the race reachable. */
  workload: string;
  workloadOptions?: Record<string, number>;
  /** Guest CPUs the race needs (default 2). */
  cpus?: number;
  /** Fault-injection points the hunt turns on (inject.ts), e.g. a vCPU preempted inside the window. */
  inject?: string[];
  mem?: string;
  host_mem?: string;
  ops?: number;
  /** Other fixes that must be off for the window to exist (a hunt unfixes them too). */
  also_unfix?: string[];
  /** xenpaging: mem_event ring slots (default 64). */
  ring_slots?: number;
  /** false while no hunt has reproduced it yet (the toggle exists, the window has not been hit). */
  reproduced: boolean;
}

/** The default hunting ground for the page-cache races: small, shared, under host pressure. */
const HUNT = { host: 'essa' as const, workload: 'mixed', mem: '4M', host_mem: '256K', ops: 5000, workloadOptions: { files: 2, file_pages: 64 } };

/**
 * The hunting ground of the Xen paging races (--host xenpaging): a small guest whose
 * alloc-storm CPUs stamp and verify every page they hold while the pager keeps tot_pages
 * at half of it, dom0 maps guest frames as backends and qemu do, and a balloon gives
 * frames back and takes them again.
 */
const XHUNT = {
  host: 'xenpaging' as const, workload: 'alloc-storm', mem: '1M', host_mem: '512K', ops: 4000,
  workloadOptions: { fill: 50, fill_low: 20, wave: 1000, max_order: 2 },
};

/** Xen paging (reference/xenpaging_kvm.md 1.8): races of the hypervisor, the pager and foreign mappers. */
const XEN_RACES: RaceEntry[] = [
  {
    id: 'xp-evict-recount', name: 'evict after a foreign mapping appeared', catalogue: 'X1',
    interleaving: ['pager nominates gfn g (count 1: the guest\'s allocation reference)', 'dom0 maps g: paging_out is not paged, so the map is allowed (count 2)',
      'pager writes the slot and evicts: the 2009 evict checks no counts, drops the allocation reference, g becomes paged',
      'dom0\'s reference keeps the frame alive, detached from g: its next write lands in an orphan and is lost'],
    oracle: 'integrity', fix: 'evict takes its own reference and re-checks count == 2, PGC_allocated and the type under the p2m lock, else EBUSY',
    source: 'xen 2d1f750000 (Oct 2011, p2m.c)', also_unfix: ['xp-map-first'], reproduced: true,
    ...XHUNT,
  },
  {
    id: 'xp-populate-paging-out', name: 'guest touches a nominated page before eviction', catalogue: 'X2',
    interleaving: ['pager nominates g', 'vCPU A faults on g: the old populate changes the type only for paged gfns, g stays paging_out; A paused',
      'pager drains its ring before the evict: g is not in its bitmap, VCPU_PAUSED -> answered "already in"; resume sets ram_rw unconditionally',
      'A writes g; the old evict accepts any type but paged/paging_in: the frame is freed, g paged with the slot written before A\'s write',
      'A reads g back: the page-in brings the stale slot'],
    oracle: 'integrity', fix: 'populate turns paging_out into paging_in keeping the frame and tags EVICT_FAIL; evict demands paging_out; resume only on paging_in with a frame',
    source: 'xen 2d1f750000, 6b54b24f37 (Oct 2011)', reproduced: true,
    ...XHUNT, workload: 'mixed', workloadOptions: { files: 2, file_pages: 48 }, // frequent writes through shared mappings
  },
  {
    id: 'xp-answer-evict-fail', name: 'a foreign populate with EVICT_FAIL is never answered', catalogue: 'X3',
    interleaving: ['pager nominates g', 'dom0 touches g: populate makes it paging_in (frame kept) with FOREIGN|EVICT_FAIL, no VCPU_PAUSED',
      'pager\'s evict fails; g is not in its bitmap', 'pager drains: not evicted, not paused -> no response; g stays paging_in and the slot leaks',
      'vCPU A touches g: a spurious fault on paging_in, again and again, for ever'],
    oracle: 'liveness', fix: 'the pager also answers EVICT_FAIL requests (resume then publishes ram_rw)',
    source: 'xen c411a2bcbc (Feb 2012, xenpaging.c)', reproduced: true,
    ...XHUNT,
  },
  {
    id: 'xp-scrub-after-evict', name: 'the pager scrubbed the page before eviction', catalogue: 'X4',
    interleaving: ['pager nominates g and writes it to its page file', 'the 2011 pager clears g through its mapping before the evict',
      'vCPU A touches g: populate (EVICT_FAIL) keeps the frame, now zeros; the evict fails on the type', 'g is not in the pager\'s page file: resume publishes the zeroed frame and A reads zeros'],
    oracle: 'integrity', fix: 'no scrub in the pager: Xen scrubs the frame after a successful evict',
    source: 'xen 62530296c7 (Oct 2011)', reproduced: true,
    ...XHUNT,
  },
  {
    id: 'xp-load-before-publish', name: 'page-in published before it was filled', catalogue: 'X5',
    interleaving: ['dom0 touches paged I/O gfn g: populate, -ENOENT', 'pager preps g: a fresh zeroed frame, type paging_in, now mappable',
      'dom0 retries: maps g and reads (zeros) or writes it', 'pager maps g read-write and copies the slot in over dom0\'s write; resume'],
    oracle: 'integrity', fix: 'load: Xen copies the pager\'s buffer into the new frame before publishing ram_rw; prep without a buffer refused',
    source: 'xen 26a5c829c8 (Dec 2011), b0a5091ac9, daf20794ed', reproduced: true,
    ...XHUNT,
  },
  {
    id: 'xp-populate-only-from-paged', name: 'a second populate clobbers a page-in in progress', catalogue: 'X6',
    interleaving: ['vCPU A (or dom0) touches nominated g: populate keeps the frame F, paging_in (EVICT_FAIL)',
      'vCPU B faults on g, still paging_in: the old populate rewrites every paging type to paging_in with a placeholder',
      'F is still allocated to the domain and names g in the m2p, but no p2m entry names it'],
    oracle: 'leak', fix: 'populate changes the type only from paged (later also paging_out); a fault on paging_in is spurious',
    source: 'xen 55121cdb79 (Nov 2010)', reproduced: true,
    ...XHUNT, cpus: 4, workload: 'mixed', workloadOptions: { files: 2, file_pages: 48 }, // four vCPUs share page-cache pages
  },
  {
    id: 'xp-ring-reserve', name: 'concurrent claims overfill the ring', catalogue: 'X8',
    interleaving: ['one request slot is free', 'vCPU A and dom0 (or vCPU B) each check "is there room?" before either puts',
      'both put: the second request overwrites an unconsumed slot', 'the overwritten request is lost; its vCPU stays paused'],
    oracle: 'protocol', fix: 'claim/put/cancel: slots reserved under the ring lock, guest vCPUs sleep for one, foreign callers get EBUSY and one slot stays kept per vCPU',
    source: 'xen 46d0343de0 (Sep 2011), 3643a96119 (Jan 2012, mem_event.c)', ring_slots: 4, reproduced: true,
    ...XHUNT, cpus: 4, // many vCPUs faulting on distinct paged gfns with a 4-slot ring
  },
  {
    id: 'xp-answer-drops', name: 'unanswered drop notifications fill the ring', catalogue: 'X9',
    interleaving: ['the guest balloons out paged gfns: one DROP_PAGE request each', 'the pager frees their slots in its page file but treats drops as one-way: no response',
      'each unanswered request holds its ring slot; free slots shrink to 0', 'the next populate cannot be posted: the vCPU sleeps on the ring for ever'],
    oracle: 'liveness', fix: 'the pager answers every request, drops included',
    source: 'xen 7c4c4b9c33 (Jun 2011); DUMMY responses 4803908397', ring_slots: 8, reproduced: true,
    ...XHUNT, workloadOptions: { ...XHUNT.workloadOptions, balloon: 48 },
  },
  {
    id: 'xp-map-first', name: 'the map/nominate ordering window (the seed debate)', catalogue: 'X11',
    interleaving: ['upstream order: the pager nominates g (count 1), then maps it to write it', 'dom0 maps g meanwhile: paging_out is mappable',
      'pager writes the slot and unmaps; evict sees an extra reference: EBUSY', 'the page-file write was wasted (no corruption once X1 is fixed)'],
    oracle: 'protocol', fix: 'seed patch 2 of 5: map before nomination, nominate expects the guest and the pager (count 2), every paging-state gfn refuses mappers so only populate (with EVICT_FAIL) can cancel an eviction',
    source: 'seed 002 (Hering, Dec 2011); upstream kept nominate-first plus EVICT_FAIL', reproduced: true,
    ...XHUNT,
  },
];

/**
 * The hunting ground of the KVM shadow MMU races (--host shadow): the kscand workload on two
 * CPUs in a small guest, with files small enough that page tables fill and empty quickly.
 */
const KHUNT = {
  host: 'shadow' as const, workload: 'kscand', mem: '2M', host_mem: '2M', ops: 3000,
  workloadOptions: { files: 2, file_pages: 16 },
};

/** KVM's shadow MMU of 2.6.2x and RHEL3's kscand (reference/xenpaging_kvm.md 2.7). */
const SHADOW_RACES: RaceEntry[] = [
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

export const RACES: RaceEntry[] = [
  {
    id: 'discard-get-page', name: 'free vs. discard: reference on a free page', catalogue: 'R1',
    interleaving: ['host discards page P (Vz)', 'CPU A touches P through its pte: discard fault carrying only the pfn',
      'CPU B truncates P: unmapped, removed from the cache, freed (count -1)', 'A takes a plain get_page on the free page'],
    oracle: 'refcount', fix: 'get_page_if_present: take the reference only if _count >= 0', source: 'seed 001 (Dec 2005, get_page_if_present)',
    reproduced: true,
    ...HUNT, inject: ['stall-fault'], // the faulting vCPU is preempted before it holds its reference
  },
  {
    id: 'discard-grace', name: 'free vs. discard: freed page reused before the handler runs', catalogue: 'R1',
    interleaving: ['host discards page P (Vz)', 'CPU A faults on P, not yet holding a reference',
      'CPU B truncates and frees P straight to the buddy', 'CPU C allocates P and makes it stable',
      'A: get_page_if_present succeeds on the reused page and discards it'],
    oracle: 'bug_on', fix: 'discarded pages wait on the discard list until every CPU passed enabled code', source: 'seed 001 (page_hva_discarded_list), v2-v7',
    reproduced: true,
    ...HUNT, inject: ['stall-fault'], // the faulting vCPU is preempted before it holds its reference
  },
  {
    id: 'grace-early', name: 'grace period counted from before the page was listed', catalogue: 'R4',
    interleaving: ['CPU C starts a sign-off round that waits for A and B; A signs off at the start of its step',
      'A takes a discard fault on P and pauses before get_page_if_present',
      'B truncates P: freed, it joins the round in progress instead of the next one', 'B signs off: the round completes although A never passed enabled code after P was listed; P is reused',
      'A takes a reference on the reused page and discards it'],
    oracle: 'bug_on', fix: 'freed discarded pages wait in the gather list for the next full round', source: 'v5-v7 gather/sign-off lists',
    reproduced: true,
    ...HUNT, cpus: 3, // with two CPUs the round's starter signs off implicitly: the window needs a third
    inject: ['stall-fault'], // the faulting vCPU is preempted before it holds its reference
  },
  {
    id: 'grace-idle', name: 'idle CPUs block the discard-list grace period', catalogue: 'R5',
    interleaving: ['CPU A goes idle for a long time', 'discarded pages are listed; the sign-off round waits for A',
      'the discard list grows without bound while memory runs out'],
    oracle: 'liveness', fix: 'idle CPUs count as having passed through enabled code (nohz CPUs excluded from the mask)', source: 'v5-v7 sign-off mask',
    reproduced: true,
    ...HUNT, workloadOptions: { ...HUNT.workloadOptions, idle_pct: 3, idle_len: 10000 },
  },
  {
    id: 'dirty-in-transit', name: 'hardware dirty bit cleared before make_stable', catalogue: 'R18',
    interleaving: ['CPU A wrote a P page through a writable pte (change bit set)', 'A msync: page_test_and_clear_dirty clears the change bit',
      'host sees a clean P page and discards it (Pr -> Vz)', 'A sets PG_dirty too late: the discard handler finds a dirty discarded page (BUG), the write is lost'],
    oracle: 'bug_on', fix: 'page_test_dirty -> make_stable -> page_clear_dirty -> set_page_dirty', source: 'seed 001 (msync.c, rmap.c split)',
    reproduced: true,
    ...HUNT,
  },
  {
    id: 'msync-revolatile', name: 'make_volatile between make_stable and set_page_dirty', catalogue: 'R19',
    interleaving: ['A msync: page_test_dirty, make_stable, page_clear_dirty', 'B: make_volatile finds no dirty flag and no extra reference: P again',
      'host discards the clean P page', 'A sets PG_dirty: the discard handler finds a dirty discarded page (BUG), the data is gone'],
    oracle: 'bug_on', fix: 'msync holds an extra reference across make_stable ... set_page_dirty', source: 'seed 001 (msync.c comment)',
    reproduced: true,
    ...HUNT, inject: ['stall-msync'], // the vCPU is preempted between make_stable and set_page_dirty
  },
  {
    id: 'state-change-lock', name: 'make_volatile overtakes make_stable', catalogue: 'R6',
    interleaving: ['B: make_volatile checks every condition (page clean, counts right)', 'A: make_stable (Sr), then sets the blocking condition and writes',
      'B: issues ESSA set_volatile on a page that must be stable', 'host discards it: the discard handler finds a dirty page (BUG), the write is lost'],
    oracle: 'bug_on', fix: 'PG_state_change bit: make_volatile trylocks around checks+ESSA, make_stable waits for it', source: 'v2 (Dec 2005)',
    reproduced: true,
    ...HUNT,
  },
  {
    id: 'writable-pvolatile', name: 'writable mapped page made volatile instead of potentially volatile', catalogue: 'R10',
    interleaving: ['page P is mapped writable', 'make_volatile issues set_volatile (V) instead of set_pvolatile (P)',
      'A writes P through its pte', 'host discards Vr without looking at the change bit: the write is lost'],
    oracle: 'integrity', fix: 'PG_writable: writable mappings make pages P, read-only ones V', source: 'seed 000 (Mar 2008), v2 writable-pte patch',
    reproduced: true,
    ...HUNT,
  },
  {
    id: 'discard-vs-map', name: 'fault maps a page that is being discarded', catalogue: 'R12',
    interleaving: ['A: minor fault finds P in the page cache (no stabilisation)', 'B: discard handler unmaps every pte of P and removes it from the cache',
      'A installs its pte afterwards: a mapped page that is in no cache'],
    oracle: 'bug_on', fix: 'recheck PageDiscarded under the pte lock before installing the pte', source: 'v2, v5-v7 minor-fault patch',
    reproduced: true,
    ...HUNT,
  },
  {
    id: 'double-removal', name: 'a page removed from the page cache twice', catalogue: 'R11',
    interleaving: ['host discards page P (Vz); CPU A takes the discard fault and a reference (get_page_if_present)',
      'CPU B (owner) truncates P under the page lock: removes it from the cache, drops the cache reference',
      'A gets the page lock and, without the PG_discarded interlock, deletes P and drops the cache reference again',
      'P is freed while A still holds its reference; A\'s put underflows _count'],
    oracle: 'refcount', fix: 'PG_discarded test-and-set in page_discard and in every removal path; the loser returns', source: 'v2 (discard side), v5 (removal side)',
    reproduced: true,
    ...HUNT,
  },
  {
    id: 'vmscan-isolation', name: 'vmscan puts a discarded page back on the LRU', catalogue: 'R16',
    interleaving: ['vmscan on CPU A isolates P (off the LRU, a reference), unmaps it and keeps it',
      'A unlocks P: make_volatile accepts the isolated page (count = cache + isolation reference) and P becomes V',
      'host discards P; CPU B\'s discard handler skips the LRU removal (not on the LRU) and removes P from the cache',
      'A puts P back on the LRU and drops its reference: a free page sits on the LRU'],
    oracle: 'buddy', fix: 'make_volatile refuses pages off the LRU; put-back re-adds only pages still cached and not discarded, under the lru lock', source: 'v5 (explicit PageLRU check, putback of discarded pages)',
    reproduced: true,
    ...HUNT, mem: '512K', host_mem: '128K', // the file set fills memory: vmscan runs
  },
  {
    id: 'lazy-batch-freed', name: 'a deferred make_volatile lands on a freed and reallocated frame', catalogue: 'R24',
    interleaving: ['CPU A finishes a read-in and queues P for a lazy make_volatile (no reference)',
      'A commits the batch: re-checks P (clean, cached, counts right) and lets go of PG_state_change',
      'CPU B truncates P and frees it; P is reallocated (anonymous memory or another file page)',
      'A issues set_volatile on the new owner\'s page: the host may discard data nobody can restore'],
    oracle: 'protocol', fix: 'the free path drops pages from the pending set (PG_lazy) and waits for a commit; the commit holds PG_state_change over re-check and ESSA', source: 'Schwidefsky/Franke 2006 lazy batch; v5 cover letter (dropped)',
    reproduced: true,
    ...HUNT, mem: '512K', host_mem: '128K', workloadOptions: { files: 1, file_pages: 16, anon_pct: 20, lazy_volatile: 64 },
  },
  {
    id: 'volatile-recheck', name: 'make_volatile reads the flags before the counts: a dirty bit handed over from a reference is missed', catalogue: 'R19b',
    interleaving: ['B: make_volatile reads the page flags (check_bits): clean, not locked',
      'A msync: make_stable, page_clear_dirty, set_page_dirty, then drops its extra reference (R19\'s fix)',
      'B reads the counts (check_counts): count = mapcount + offset again, so ORC 4 on a dirty page whose change bit A just cleared',
      'host discards the clean-looking P page (Pr or Sp -> Vz): the discard handler finds a dirty discarded page (BUG), the write is lost'],
    oracle: 'bug_on', fix: 'read the flags again after the counts (check_bits, check_counts, check_bits)',
    source: 'found by hintsim stress (threads, every fix on; issue 13); the series checks bits then counts once (mm/page-states.c)',
    reproduced: true,
    ...HUNT, workload: 'file-churn', inject: ['stall-msync', 'stall-volatile', 'host-pressure'], workloadOptions: { files: 2, file_pages: 32, anon_pct: 0, private_pct: 0, writable_pct: 80 },
  },
  {
    id: 'uptodate-clear-order', name: 'SetPageUptodate clears the change bit after the flag: a write in between is lost', catalogue: 'R34',
    interleaving: ['CPU A finishes a read-in: sets PG_uptodate (the page is still locked)',
      'CPU B\'s fault finds the page uptodate, maps it writable and writes (change bit set)',
      'A clears the change bit (s390 SetPageUptodate: the read-in is not a modification): the only record of B\'s write is gone',
      'the page looks clean: vmscan drops it (or the host discards a clean P page) and B reads the old version back'],
    oracle: 'integrity', fix: 'clear the change bit before setting PG_uptodate (the page is not visible as uptodate until then)',
    source: 'found by hintsim stress (threads, every fix on; issue 13); s390 SetPageUptodate of 2.6.2x did test_and_set_bit then page_clear_dirty',
    reproduced: true,
    ...HUNT, cpus: 3, mem: '512K', host_mem: '64K', ops: 15000, inject: ['stall-volatile'], workloadOptions: { files: 1, file_pages: 8, writable_pct: 100, private_pct: 0, anon_pct: 0 },
  },
  ...XEN_RACES,
  ...SHADOW_RACES,
];

export const RACE_BIT: Record<string, number> = Object.fromEntries(RACES.map((r, i) => [r.id, 1 << i]));

export function raceIndex(id: string): number {
  return RACES.findIndex((r) => r.id === id);
}

export function unfixMask(ids: readonly string[]): number {
  let m = 0;
  for (const id of ids) {
    const i = raceIndex(id);
    if (i < 0) throw new Error(`unknown race id '${id}'`);
    m |= 1 << i;
  }
  return m;
}

export function raceName(idx1: number): string | null {
  return idx1 > 0 ? RACES[idx1 - 1]?.id ?? null : null;
}
