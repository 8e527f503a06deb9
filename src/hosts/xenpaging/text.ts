/** The xenpaging host's lines of the text summary (they replace the ESSA host's hinting and host lines). */
import { bytes, n } from '../../core/format.js';
import type { HostTextRun } from '../host.js';
import type { XenSummary } from './xen_machine.js';

/** The xenpaging host's lines: pager, vCPU stalls, dom0, the p2m at the end. */
export function xenHostLines(t: HostTextRun): string[] {
  const c = t.counters;
  const x = t.section as XenSummary;
  const k = x.counters;
  const stall = t.mode === 'sim' ? `${n(k.vcpu_stall)} steps` : `${(k.vcpu_stall / 1000).toFixed(1)} ms`;
  return [
    `  hinting      ESSA calls ${n(c.essa_calls + c.essa_batched_pages)} (pages), all ignored by the xenpaging host: the pager knows no guest page states`,
    `  host         xenpaging: page-outs ${n(c.host_pageouts)} (${bytes(c.host_swap_bytes_written)} to the page file), page-ins ${n(c.host_pageins)}; ` +
      `nominated ${n(k.nominate_ok)} (EBUSY ${n(k.nominate_ebusy)}), evicted ${n(k.evict_ok)} (EBUSY ${n(k.evict_ebusy)}), EVICT_FAIL ${n(k.evict_fail_events)}`,
    `  waste        page-file writes of free guest pages ${n(c.wasted_writes_free)}, of clean page cache ${n(c.wasted_writes_clean_cache)}, ` +
      `for evictions that failed ${n(k.wasted_writes_failed_evict)}; double paging ${n(c.double_paging)}`,
    `  vCPUs        paused for a page-in ${n(k.vcpu_pauses)} times (${stall}), spurious faults on paging_in ${n(k.spin_exits_paging_in)}, ring waits ${n(k.ring_full_waits)}`,
    `  dom0         foreign maps ${n(k.foreign_maps)} (-ENOENT ${n(k.foreign_enoent_retries)}, EBUSY ${n(k.foreign_ebusy)}), I/O writes ${n(k.dom0_io_writes)}, ` +
      `reads ${n(k.dom0_io_reads)}, map-cache reads ${n(k.dom0_mapcache_reads)}; balloon out ${n(k.balloon_out)}, in ${n(k.balloon_in)}`,
    `  p2m          ${Object.entries(x.p2m).sort().map(([t, v]) => `${t} ${n(v)}`).join(', ')}; tot_pages ${n(x.tot_pages)} (target ${n(x.target)}); ` +
      `ring ${x.ring_slots} slots, ${n(k.ring_requests)} requests, ${n(x.ring_unanswered)} unanswered`,
  ];
}
