/**
 * The race catalogue: every fix of the series is on by default; `--unfix ID` turns one off.
 * Bit i of CTL_UNFIX is set when RACES[i] is unfixed (i < 32); bit i - 32 of CTL_UNFIX_HI for i >= 32. Only races whose toggle exists in
 * the model are listed: a listed id always changes what the guest does.
 */
import { CTL_UNFIX, CTL_UNFIX_HI } from './layout.js';

export interface RaceEntry {
  id: string;
  name: string;
  catalogue: string;      // R-number in reference/hinting.md, X- or K-number in reference/xenpaging_kvm.md
  /** The host whose code the race lives in: a hunt runs with this --host. */
  host: 'essa' | 'xenpaging' | 'shadow' | 'reporting' | 'cmma';
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
 * The same ground in the model before the minor-fault optimisation (minor_fault_opt=0). Races
 * whose window needs a make_volatile racing a stabilisation (R6, R19, R19b) are hunted here:
 * with the optimisation an unmap no longer tries make_volatile and msync no longer looks up
 * clean pages, so the make_volatile that lands in the window (formerly from munmap's and
 * msync's releases) comes only from read-in, end of writeback and COW releases: 500 seeds
 * of the optimised ground found neither R6 nor R19, and R19b's own ground (file-churn) not
 * in the 120 seeds of test/races.test.ts. The windows and their fixes are unchanged.
 */
const HUNT_PRE_MINOR_FAULT = { ...HUNT, workloadOptions: { ...HUNT.workloadOptions, minor_fault_opt: 0 } };

/**
 * The catalogue: the guest's and the ESSA host's races (this block, bits 0..), then each
 * other host's block in registry order, appended once by hosts/catalogue.ts (setHostRaces)
 * before any host module reads a bit. Filled in place: importers see the whole catalogue.
 */
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
    // One file of 8 pages, every mapping shared and writable (each write leaves a change bit for
    // msync to move), no anonymous mapping; the ballast (anon_pct 20) and a 16-frame host keep
    // the host discarding. Random finds it in about 1 seed in 3 of 2,000 ops (~35,000 points)
    // against 1 in 10 of 5,000 mixed ops (~175,000) on HUNT_PRE_MINOR_FAULT (issue 15).
    ...HUNT_PRE_MINOR_FAULT, inject: ['stall-msync'], // the vCPU is preempted between make_stable and set_page_dirty
    workload: 'file-churn', ops: 2000, host_mem: '64K', workloadOptions: { files: 1, file_pages: 8, writable_pct: 100, private_pct: 0, anon_mem_pct: 0, minor_fault_opt: 0 },
  },
  {
    id: 'state-change-lock', name: 'make_volatile overtakes make_stable', catalogue: 'R6',
    interleaving: ['B: make_volatile checks every condition (page clean, counts right)', 'A: make_stable (Sr), then sets the blocking condition and writes',
      'B: issues ESSA set_volatile on a page that must be stable', 'host discards it: the discard handler finds a dirty page (BUG), the write is lost'],
    oracle: 'bug_on', fix: 'PG_state_change bit: make_volatile trylocks around checks+ESSA, make_stable waits for it', source: 'v2 (Dec 2005)',
    reproduced: true,
    // B's vCPU preempted between its checks and the ESSA (stall-volatile: the window itself), a
    // 1 MiB guest on a 16-frame host: random finds it in about 1 seed in 2 of 3,000 ops against
    // 1 in 20 of 5,000 ops with no stall at 4 MiB / 256 KiB (issue 15).
    ...HUNT_PRE_MINOR_FAULT, mem: '1M', host_mem: '64K', ops: 3000, inject: ['stall-volatile'],
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
    ...HUNT, workload: 'file-churn', inject: ['stall-msync', 'stall-volatile', 'host-pressure'], workloadOptions: { files: 2, file_pages: 32, anon_pct: 0, private_pct: 0, writable_pct: 80, minor_fault_opt: 0 },
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
];

/** The races of the guest and the ESSA host (the first block of RACES). */
export const GUEST_RACE_COUNT = RACES.length;

/**
 * The hosts' race ids in catalogue order (hosts/catalogue.ts appends their entries in this
 * order and checks it). Kept here, names only, so that a race's bit (CTL_UNFIX) and index
 * (a violation's race) are known in every thread without loading the catalogue: a host's
 * worker entry reads its races' bits without importing the registry.
 */
export const HOST_RACE_IDS: readonly string[] = [
  'xp-evict-recount', 'xp-populate-paging-out', 'xp-answer-evict-fail', 'xp-scrub-after-evict', 'xp-load-before-publish',
  'xp-populate-only-from-paged', 'xp-ring-reserve', 'xp-answer-drops', 'xp-map-first',
  'kv-emulated-access-marks-spte', 'kv-zap-on-a-clear', 'kv-fork-detector-reset', 'kv-unshadow-on-user-write', 'kv-remote-flush', 'kv-shadow-lru',
  'fpr-report-without-isolation', 'fpr-reported-flag-not-cleared', 'fpr-stale-next-after-unlock', 'fpr-rotate-list-head', 'fpr-request-lost',
  'cmma-zap-without-recheck', 'cmma-unused-after-freelist', 'cmma-essa-vs-migration', 'cmma-memslot-remove-count', 'cmma-nodat-not-reset',
];

/** Every race id in bit order: the guest's and the ESSA host's, then the hosts'. */
const ALL_RACE_IDS: readonly string[] = [...RACES.map((r) => r.id), ...HOST_RACE_IDS];

/** Races the unfix words hold: CTL_UNFIX bits 0..31, CTL_UNFIX_HI bits 32..63 (core/layout.ts). */
export const MAX_RACES = 64;
if (ALL_RACE_IDS.length > MAX_RACES) throw new Error(`race catalogue: ${ALL_RACE_IDS.length} races, but the unfix words hold ${MAX_RACES}`);

/**
 * A race's bit within its unfix word: 1 << (index mod 32). Races 0..31 are bits of
 * CTL_UNFIX (unchanged since the first catalogue), races 32..63 bits of CTL_UNFIX_HI;
 * raceUnfixWord names the word.
 */
export const RACE_BIT: Record<string, number> = Object.fromEntries(ALL_RACE_IDS.map((id, i) => [id, 1 << (i & 31)]));

let hostRacesSet = false;

/** Append the host blocks (hosts/catalogue.ts, once), in HOST_RACE_IDS order. */
export function setHostRaces(blocks: readonly (readonly RaceEntry[])[]): void {
  if (hostRacesSet) return;
  hostRacesSet = true;
  for (const b of blocks) {
    for (const r of b) {
      if (ALL_RACE_IDS[RACES.length] !== r.id) throw new Error(`race catalogue: '${r.id}' at index ${RACES.length}, but HOST_RACE_IDS (core/races.ts) has '${ALL_RACE_IDS[RACES.length]}' there`);
      RACES.push(r);
    }
  }
}

/** A race's bit in its unfix word (raceUnfixWord); throws for an unknown id. */
export function raceBit(id: string): number {
  const b = RACE_BIT[id];
  if (b === undefined) throw new Error(`race '${id}' is not in the catalogue (core/races.ts HOST_RACE_IDS)`);
  return b;
}

/** The header word holding a race's unfix bit: CTL_UNFIX for indices 0..31, CTL_UNFIX_HI for 32..63. */
export function raceUnfixWord(id: string): number {
  const i = raceIndex(id);
  if (i < 0) throw new Error(`race '${id}' is not in the catalogue (core/races.ts HOST_RACE_IDS)`);
  return i < 32 ? CTL_UNFIX : CTL_UNFIX_HI;
}

/** True when the fix of `id` is switched off in the machine whose header is `hdr` (read once at attach, not on a hot path). */
export function isUnfixed(hdr: Int32Array, id: string): boolean {
  return (hdr[raceUnfixWord(id)] & raceBit(id)) !== 0;
}

export function raceIndex(id: string): number {
  return ALL_RACE_IDS.indexOf(id);
}

/** CTL_UNFIX: the bits of the unfixed races with indices 0..31. */
export function unfixMask(ids: readonly string[]): number {
  return unfixBits(ids, 0);
}

/** CTL_UNFIX_HI: the bits of the unfixed races with indices 32..63. */
export function unfixMaskHi(ids: readonly string[]): number {
  return unfixBits(ids, 32);
}

function unfixBits(ids: readonly string[], from: number): number {
  let m = 0;
  for (const id of ids) {
    const i = raceIndex(id);
    if (i < 0) throw new Error(`unknown race id '${id}'`);
    if (i >= from && i < from + 32) m |= 1 << (i - from);
  }
  return m;
}

export function raceName(idx1: number): string | null {
  return idx1 > 0 ? ALL_RACE_IDS[idx1 - 1] ?? null : null;
}
