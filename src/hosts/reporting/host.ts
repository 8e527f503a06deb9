/**
 * The free page reporting host in the registry (--host reporting): a KVM/QEMU host with
 * virtio-balloon's reporting queue. The guest side (PageReported, notify, the delayed worker)
 * is guest/page_reporting.ts; here: the discards, the boot of the reporting words, the
 * summary and the races. Built on the ESSA host's access path and reclaim daemon with hinting
 * off: the host knows nothing of free pages but what the guest reports.
 */
import { ST_Sz } from '../../core/hw.js';
import { n } from '../../core/format.js';
import {
  CTL_MODE, HOST_REPORTING, MAX_ORDER, PR_DUE, PR_CAPACITY, PR_DELAY, PR_IDLE, PR_LOW_WMARK, PR_MIN_WMARK, PR_ORDER, PR_ORDER_SCALED, PR_PENDING, PR_REQUESTED,
  PR_STATE, reportingGeometry, type Views,
} from '../../core/layout.js';
import { MODEL_TIME_MASK, modelNow } from '../../core/sched.js';
import type { Host, HostTextRun } from '../host.js';
import { reportingHooks } from './hooks.js';
import { REPORTING_RACES } from './races.js';
import { ReportingViews, reportingViewsInit, sumReportingCounters } from './reporting.js';

/** pageblock_order on x86: the order reporting uses unless the driver asks otherwise. */
export const PAGEBLOCK_ORDER = 9;
/** Steps of sim-mode model time per model millisecond (the 2 s delay is 20000 steps). */
export const SIM_STEPS_PER_MS = 10;

/**
 * page_reporting_order for a guest of `nframes`: pageblock_order (9), scaled down while one
 * full batch of it (PAGE_REPORTING_CAPACITY << order) would exceed a quarter of memory; the
 * zone gate could never pass otherwise (a 64 MiB guest has 16384 pages, 32 << 9 is 16384).
 */
export function scaledReportingOrder(nframes: number, capacity: number): number {
  let o = PAGEBLOCK_ORDER;
  while (o > 0 && capacity << o > nframes / 4) o--;
  return o;
}

export interface ReportingSummary {
  order: number;
  /** The order was scaled down from pageblock_order (9) for this --mem. */
  order_scaled: boolean;
  capacity: number;
  /** The delay, in model time units: steps (sim) or ms (threads). */
  delay: number;
  delay_unit: 'steps' | 'ms';
  state: 'idle' | 'requested' | 'active';
  pending: boolean;
  counters: Record<string, number>;
  /** Mean model time from a block's qualifying free to its discard. */
  mean_latency: number | null;
}

function summary(v: Views, participants: number): ReportingSummary {
  const rv = new ReportingViews(v);
  const c = sumReportingCounters(v, participants);
  const sim = v.hdr[CTL_MODE] === 1;
  return {
    order: rv.a[PR_ORDER] - 1, order_scaled: rv.a[PR_ORDER_SCALED] === 1, capacity: rv.a[PR_CAPACITY],
    delay: rv.a[PR_DELAY], delay_unit: sim ? 'steps' : 'ms',
    state: rv.a[PR_STATE] === PR_IDLE ? 'idle' : rv.a[PR_STATE] === PR_REQUESTED ? 'requested' : 'active',
    pending: rv.a[PR_PENDING] !== 0,
    counters: c,
    mean_latency: c.latency_blocks > 0 ? Math.round(c.latency_sum / c.latency_blocks) : null,
  };
}

function extraLines(t: HostTextRun): string[] {
  const s = t.section as ReportingSummary;
  const c = s.counters;
  return [
    `  reporting    order ${s.order}${s.order_scaled ? ` (scaled from ${PAGEBLOCK_ORDER} for this --mem)` : ''}, ${n(c.passes)} passes, ${n(c.report_calls)} reports of ${n(c.reported_blocks)} blocks (${n(c.reported_pages)} pages), host discarded ${n(c.host_discarded_pages)} pages; delay ${s.delay} ${s.delay_unit}, mean free->discard ${s.mean_latency ?? '-'} ${s.delay_unit}`,
    `  worker       ${n(c.nodes_visited)} list nodes visited (${n(c.skipped_reported)} already reported), ${n(c.isolations)} isolated, ${n(c.putbacks)} put back (${n(c.merged_on_putback)} merged), budget out ${n(c.budget_exhausted)}, zone gate ${n(c.zone_skipped)}`,
  ];
}

export const REPORTING_HOST: Host = {
  name: 'reporting',
  code: HOST_REPORTING,
  base: 'essa',
  description: 'free page reporting (virtio-balloon, Linux 5.7): the guest reports free blocks of order >= page_reporting_order after a delay, the host discards them; a touch zero-fills',
  hooks: reportingHooks,
  areaBytes: (nf) => reportingGeometry(nf).words * 4,
  viewsInit: reportingViewsInit,
  participants: [{ entry: 'host_worker', who: 'the host', step: 'reclaim' }],
  workerEntries: {},
  bootState: ST_Sz, // nothing backed yet
  guestFrames: (nf) => [0, nf],
  boot(v, o): boolean {
    const w = o.workloadOptions;
    const rv = new ReportingViews(v);
    const capacity = w.report_capacity ?? 32;
    const scaled = scaledReportingOrder(v.nframes, capacity);
    const order = w.report_order ?? scaled;
    const sim = v.hdr[CTL_MODE] === 1;
    const delayMs = w.report_delay ?? 2000;
    rv.a[PR_ORDER] = order + 1;
    rv.a[PR_ORDER_SCALED] = w.report_order === undefined && order !== PAGEBLOCK_ORDER ? 1 : 0;
    rv.a[PR_CAPACITY] = capacity;
    rv.a[PR_DELAY] = sim ? delayMs * SIM_STEPS_PER_MS : delayMs;
    rv.a[PR_MIN_WMARK] = Math.max(4, v.nframes >> 7);
    rv.a[PR_LOW_WMARK] = rv.a[PR_MIN_WMARK] + (rv.a[PR_MIN_WMARK] >> 2);
    // page_reporting_register: the initial flush of the zone is requested at once (due after the delay).
    rv.a[PR_STATE] = PR_REQUESTED;
    rv.a[PR_PENDING] = 1;
    const bootTime = sim ? 0 : modelNow(false); // the model clock at boot (the main thread has no step of its own; wall ms in threads mode)
    rv.a[PR_DUE] = (bootTime + rv.a[PR_DELAY]) & MODEL_TIME_MASK;
    rv.freedAt.fill(bootTime); // boot's free memory was freed at boot: its latency counts from there // PR_DUE
    return true; // again: the guest reads the reporting words at attach
  },
  readsHints: false,
  ringSlots: false,
  auditsHostStates: false,
  summary: (v, nparts) => ['reporting', summary(v, nparts)],
  summaryKey: 'reporting',
  extraLines,
  races: REPORTING_RACES,
  options: [
    { name: 'report_order', default: PAGEBLOCK_ORDER, min: 0, max: MAX_ORDER - 1, description: 'reporting host: page_reporting_order (default: 9, scaled down for a small --mem and said so)' },
    { name: 'report_capacity', default: 32, min: 1, max: 32, description: 'reporting host: blocks per report call (PAGE_REPORTING_CAPACITY, 32)' },
    { name: 'report_delay', default: 2000, min: 1, max: 600000, description: `reporting host: delay of the worker in model ms (threads: wall ms; sim: ${SIM_STEPS_PER_MS} steps per ms)` },
  ],
  allFigures: (section, counters) => {
    const s = section as ReportingSummary;
    void counters;
    return { host_calls: s.counters.report_calls, freed_no_io: s.counters.host_discarded_pages, latency_steps: s.mean_latency };
  },
};
