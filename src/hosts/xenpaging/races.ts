/** The xenpaging host's races (catalogue block after the guest's; hosts/catalogue.ts). */
import type { RaceEntry } from '../../core/races.js';

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
export const XEN_RACES: RaceEntry[] = [
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
    // four vCPUs share one 16-page file, the pager keeps a quarter of the guest resident: page-ins of shared pages all the time
    ...XHUNT, cpus: 4, mem: '512K', host_mem: '128K', workload: 'mixed', workloadOptions: { files: 1, file_pages: 16, anon_pct: 20 },
  },
  {
    id: 'xp-ring-reserve', name: 'concurrent claims overfill the ring', catalogue: 'X8',
    interleaving: ['one request slot is free', 'vCPU A and dom0 (or vCPU B) each check "is there room?" before either puts',
      'both put: the second request overwrites an unconsumed slot', 'the overwritten request is lost; its vCPU stays paused'],
    oracle: 'protocol', fix: 'claim/put/cancel: slots reserved under the ring lock, guest vCPUs sleep for one, foreign callers get EBUSY and one slot stays kept per vCPU',
    source: 'xen 46d0343de0 (Sep 2011), 3643a96119 (Jan 2012, mem_event.c)', ring_slots: 2, reproduced: true,
    ...XHUNT, cpus: 4, host_mem: '256K', // four vCPUs faulting on paged gfns (a quarter of the guest resident) with a 2-slot ring
  },
  {
    id: 'xp-answer-drops', name: 'unanswered drop notifications fill the ring', catalogue: 'X9',
    interleaving: ['the guest balloons out paged gfns: one DROP_PAGE request each', 'the pager frees their slots in its page file but treats drops as one-way: no response',
      'each unanswered request holds its ring slot; free slots shrink to 0', 'the next populate cannot be posted: the vCPU sleeps on the ring for ever'],
    oracle: 'liveness', fix: 'the pager answers every request, drops included',
    source: 'xen 7c4c4b9c33 (Jun 2011); DUMMY responses 4803908397', ring_slots: 4, reproduced: true,
    // a quarter of the guest resident: the balloon gives back paged gfns often, four unanswered drops fill the 4-slot ring
    ...XHUNT, mem: '512K', host_mem: '128K', workloadOptions: { ...XHUNT.workloadOptions, balloon: 48 },
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
