/** The free page reporting races (reporting_cmma.md A.7): catalogue block after the shadow MMU's (hosts/catalogue.ts). */
import type { RaceEntry } from '../../core/races.js';

/**
 * The hunting ground: a 1 MiB guest whose alloc-storm CPUs stamp and verify every block they
 * hold, with reporting scaled to it: page_reporting_order 2, batches of 4 blocks, a delay of
 * 20 model ms (200 steps in sim mode), so that a few thousand operations see many passes.
 */
const RHUNT = {
  host: 'reporting' as const, workload: 'alloc-storm', mem: '1M', host_mem: '1M', ops: 3000,
  workloadOptions: { fill: 50, fill_low: 10, wave: 400, max_order: 4, report_order: 2, report_capacity: 4, report_delay: 20 },
};

export const REPORTING_RACES: RaceEntry[] = [
  {
    id: 'fpr-report-without-isolation', name: 'blocks reported while they stay on the free list', catalogue: 'A.7/I1',
    interleaving: ['the worker collects unreported blocks of order >= page_reporting_order but leaves them on the free list',
      'it drops the zone lock and hands the batch to the host', 'CPU B allocates one of those blocks (it is still a buddy block) and writes its stamp',
      'the host discards the block: B\'s data is gone, its next read zero-fills'],
    oracle: 'integrity', fix: '__isolate_free_page: a reported block is off the free list (PageBuddy clear) until it is put back',
    source: 'design guard I1 (mm/page_reporting.c, mm/page_alloc.c, 36e66c554b5c)', reproduced: true,
    ...RHUNT,
  },
  {
    id: 'fpr-reported-flag-not-cleared', name: 'PageReported survives allocation', catalogue: 'A.7/I2',
    interleaving: ['a reported block sits on the free list with PageReported', 'CPU A allocates it (or it merges with a freed buddy)',
      '__del_page_from_free_list clears PageBuddy but keeps PageReported', 'the allocated block (or the merged one) carries the flag: once freed again the worker skips it as already reported'],
    oracle: 'invalid_state', fix: '__ClearPageReported in __del_page_from_free_list, before PageBuddy is cleared',
    source: 'design guard I2 (36e66c554b5c "mm: introduce Reported pages")', reproduced: true,
    ...RHUNT,
  },
  {
    id: 'fpr-stale-next-after-unlock', name: 'the walk resumes from a list pointer kept across the report', catalogue: 'A.7/I4',
    interleaving: ['the worker\'s batch is full at block P; it keeps next = P\'s successor and drops the zone lock to report',
      'CPU B allocates (or merges away) that successor', 'the worker retakes the lock and resumes at the kept pointer',
      'it isolates a block that is no longer free: list corruption'],
    oracle: 'buddy', fix: 'after retaking the lock, resume at list_first_entry (the old next is not valid since the lock was dropped)',
    source: 'design guard I4 (mm/page_reporting.c page_reporting_cycle)', reproduced: true,
    ...RHUNT, workloadOptions: { ...RHUNT.workloadOptions, max_order: 2, report_order: 0, report_capacity: 2 }, // short batches: many unlocked report calls mid-list
  },
  {
    id: 'fpr-rotate-list-head', name: 'the list head rotated to its own front', catalogue: 'A.7/M3',
    interleaving: ['the worker walks a free list to its end: `next` is the list head', 'the leftover rotation calls list_rotate_to_front on the head itself',
      'list_move_tail unlinks the head and links the last entry back to the first: the entries form a ring', 'CONFIG_DEBUG_LIST (a bounded walk of the list) finds it'],
    oracle: 'buddy', fix: 'rotate only when !list_entry_is_head(next, list, lru)',
    source: 'M3/M4 (Wei Yang, Aug 2020; Dec 2020: list_entry_is_head in page_reporting_cycle)', reproduced: true,
    ...RHUNT,
  },
  {
    id: 'fpr-request-lost', name: 'a free during a pass is never reported', catalogue: 'A.7/I5',
    interleaving: ['the worker runs a pass (ACTIVE)', 'CPU B frees a block of order >= page_reporting_order: notify sets REQUESTED (no new work: a pass runs)',
      'the pass ends by storing IDLE instead of cmpxchg(ACTIVE, IDLE)', 'nothing is queued: the block stays unreported until some other qualifying free'],
    oracle: 'leak', fix: 'end a pass with cmpxchg(ACTIVE, IDLE) and queue one more pass when it finds REQUESTED',
    source: 'design guard (mm/page_reporting.c page_reporting_process)', reproduced: true,
    ...RHUNT, workloadOptions: { ...RHUNT.workloadOptions, report_capacity: 1, report_delay: 2 }, // one block per report: long passes, a short delay to wait for
  },
];
