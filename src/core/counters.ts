/**
 * Per-participant event counters: Float64 slots in each participant's area (layout.ts,
 * PA_COUNTERS_F64). Single writer (the owner, plain stores); summed by the main thread
 * after the stop handshake. The order here is the slot order and the JSON order.
 */
export const COUNTER_NAMES = [
  'ops',                   // workload operations completed
  'essa_calls',            // single ESSA instructions issued by guest CPUs
  'essa_batches',          // batched host calls (one call, many pfns)
  'essa_batched_pages',    // pfns carried by batched calls
  'host_pageouts',         // host wrote a frame to its swap (Sr->Sp, dirty Pr->Sp)
  'host_pageins',          // host read a frame back from swap (guest access to Sp, ORC 5)
  'host_frees',            // host dropped an unused frame without I/O (Ur->Uz)
  'host_discards',         // host dropped a volatile frame without I/O (Vr->Vz, clean Pr->Vz)
  'host_swap_bytes_written',
  'host_swap_frees',       // preserved copies dropped because the guest set U or V on Sp
  'host_scans',            // frames the clock hand looked at
  'host_ref_clears',       // second chances given (reference bit cleared)
  'host_reclaim_passes',
  'zero_fills',            // Sz->Sr on access, and z->Sr by ORC 5
  'discard_faults',
  'addressing_exceptions',
  'frame_accesses',
  'allocs',                // successful alloc_pages calls
  'frees',                 // free_pages calls that returned pages to the allocator
  'alloc_failures',
  'pcp_refills',           // rmqueue_bulk calls (any order)
  'pcp_drains',            // free_pages_bulk calls (any order)
  'pcp_hits',              // allocations served by a pcp list (order 0; orders 1-3 on the high-order lists)
  'buddy_allocs',          // blocks taken from the buddy (any order)
  'buddy_frees',           // blocks given to the buddy (any order)
  'zone_lock_contended',
  'stamp_checks',
  // page cache, discard and volatility (hinting full)
  'page_cache_reads',
  'page_cache_hits',
  'writebacks',
  'truncates',
  'make_volatile_attempts',
  'make_volatile_ok',
  'make_stable_calls',
  'make_stable_failed',
  'pages_discarded',
  'get_page_if_present_refused',
  'discard_list_adds',
  'discard_list_drained',
  'discard_list_max',
  'grace_periods',
  'faults',
  'cow_faults',
  'msyncs',
  'munmaps',
  'vmscan_reclaimed',
  'host_pageouts_avoided', // resident frames the host took without I/O thanks to hinting
  'idle_stretches',
  'discard_refaults',
  'file_reads_checked',
  'file_writes',
  // host-only paging's waste (xenpaging_kvm.md 3.1), for every host: what the host wrote
  // that the guest did not need kept, and guest write-outs of what the host paged out
  'wasted_writes_free',        // host page-outs of frames free in the guest at that moment
  'wasted_writes_clean_cache', // host page-outs of clean page-cache frames (the guest can re-read them)
  'double_paging',             // guest writeback read a frame the host had paged out (host read + guest write)
  'file_ops',                  // file-churn/mixed steps that were file operations (read, write, msync, munmap, truncate, mmap)
] as const;

/** Why page_make_volatile said no (one counter each, make_volatile_refused_<reason>). */
export const REFUSAL_REASONS = [
  'busy', 'reserved', 'dirty', 'writeback', 'locked', 'anon', 'no_mapping', 'mlocked', 'not_uptodate',
  'private', 'discarded', 'not_lru', 'refs',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

export const C = Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, i])) as { readonly [K in CounterName]: number };
/** Counter slot of refusal reason r (REFUSAL_REASONS index). */
export const C_REFUSED_BASE = COUNTER_NAMES.length;
export const ALL_COUNTER_NAMES: readonly string[] = [...COUNTER_NAMES, ...REFUSAL_REASONS.map((r) => `make_volatile_refused_${r}`)];

/** Counters that are a maximum over participants rather than a sum. */
export const MAX_COUNTERS: ReadonlySet<string> = new Set(['discard_list_max']);
