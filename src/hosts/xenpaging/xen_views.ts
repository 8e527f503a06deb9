/**
 * Views over the xenpaging area of the machine buffer (layout.ts, "xenpaging area") and
 * the names of its per-participant counters. Built for every participant by ctxInit;
 * used only when CTL_HOST is HOST_XENPAGING.
 */
import { MAX_PARTICIPANTS, XEN_COUNTERS, geometry, xenGeometry, type Views } from '../../core/layout.js';

/**
 * Xen counters, one Float64 slot each per participant (owner-written, summed by main
 * after the stop handshake). Names follow xenpaging_kvm.md 3.1 where it names them.
 */
export const XEN_COUNTER_NAMES = [
  'essa_ignored',               // ESSA instructions the xenpaging host answered as no-ops
  'nominate_ok', 'nominate_ebusy',
  'evict_ok', 'evict_ebusy',
  'evict_fail_events',          // requests posted with EVICT_FAIL (populate or drop of a nominated gfn)
  'populate_guest', 'populate_foreign',
  'foreign_maps', 'foreign_enoent_retries', 'foreign_ebusy',
  'drops',                      // DROP_PAGE requests (guest_remove_page on a paging gfn)
  'ring_requests', 'ring_responses',
  'ring_full_waits',            // a guest vCPU found no slot and slept on the wait queue
  'vcpu_pauses',                // accesses that paused a vCPU until the pager loaded the page
  'vcpu_stall',                 // time paused: scheduling steps in sim mode, microseconds in threads mode
  'spin_exits_paging_in',       // spurious faults on a gfn already being paged in (X16)
  'load_enomem_retries',
  'pager_loads',                // page-ins by the pager (populate answered or paged back)
  'pager_exit_loads',           // page-ins when the pager stops (everything back in): not counted as host_pageins
  'pager_slot_writes',          // page-file writes (also counted as host_pageouts)
  'wasted_writes_failed_evict', // page-file writes whose eviction then failed
  'mapcache_flushes',
  'dom0_io_writes', 'dom0_io_reads', 'dom0_mapcache_reads', 'dom0_orphan_reads',
  'balloon_out', 'balloon_in',
  'pager_passes',
] as const;
export type XenCounterName = (typeof XEN_COUNTER_NAMES)[number];
export const XC = Object.fromEntries(XEN_COUNTER_NAMES.map((n, i) => [n, i])) as { readonly [K in XenCounterName]: number };
if (XEN_COUNTER_NAMES.length > XEN_COUNTERS) throw new Error('xen_views: more counters than XEN_COUNTERS slots');

export class XenViews {
  readonly x: Int32Array;        // the whole area, word offsets from layout.ts
  readonly cnt: Float64Array;    // counters, XEN_COUNTERS per participant
  readonly g: ReturnType<typeof xenGeometry>;
  constructor(v: Views) {
    const base = geometry(v.nframes, v.ncpus).xen;
    this.g = xenGeometry(v.nframes);
    this.x = new Int32Array(v.sab, base, this.g.words);
    this.cnt = new Float64Array(v.sab, base + this.g.counters * 4, MAX_PARTICIPANTS * XEN_COUNTERS);
  }
}

/** This participant's xen views and counters (set by ctxInit). */
export let XV: XenViews;
export let XCNT: Float64Array;

export function xenViewsInit(v: Views, me: number): void {
  XV = new XenViews(v);
  XCNT = XV.cnt.subarray(me * XEN_COUNTERS, (me + 1) * XEN_COUNTERS);
}

/** Sum of the xen counters over participants (main thread, after stop). */
export function sumXenCounters(v: Views, participants: number): Record<string, number> {
  const xv = new XenViews(v);
  const out: Record<string, number> = {};
  XEN_COUNTER_NAMES.forEach((name, c) => {
    let s = 0;
    for (let p = 0; p < participants; p++) s += xv.cnt[p * XEN_COUNTERS + c];
    out[name] = s;
  });
  return out;
}
