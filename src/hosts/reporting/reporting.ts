/**
 * The reporting host (QEMU's virtio-balloon free page reporting, reporting_cmma.md A.3 steps
 * 8-10): each block the guest reports is discarded (`ram_block_discard_range`, i.e.
 * MADV_DONTNEED): its frames are no longer backed, the next guest touch faults and gets a
 * zeroed frame (the ESSA host's access path: Sz -> zero fill). Under memory pressure the
 * host swaps like any blind host (the ESSA host's reclaim daemon, hinting off). The guest
 * side (PageReported, notify, the worker) is guest/page_reporting.ts.
 */
import { ME, V } from '../../core/ctx.js';
import { C } from '../../core/counters.js';
import { CNT } from '../../core/ctx.js';
import { ESSA_CSTATE_MASK, ESSA_CSTATE_PRESERVED, ESSA_CSTATE_RESIDENT, ST_Sz, frameLock, frameUnlock, residentAdd } from '../../core/hw.js';
import {
  CTL_MODE, HS_CHANGE, HS_REF, HS_STATE_MASK, MAX_PARTICIPANTS, PR_COUNTERS, PR_COUNTER_NAMES, PR_FIXED_WORDS, geometry, reportingGeometry, type Views,
} from '../../core/layout.js';
import { SP_HOST, modelNow, sp } from '../../core/sched.js';

type PrCounter = (typeof PR_COUNTER_NAMES)[number];
export const PRC_I = Object.fromEntries(PR_COUNTER_NAMES.map((n, i) => [n, i])) as { readonly [K in PrCounter]: number };

/** The page reporting area of a machine (core/layout.ts PR_*). */
export class ReportingViews {
  readonly a: Int32Array;        // the fixed words (PR_*)
  readonly freedAt: Int32Array;  // per frame: model time its block was freed (notify)
  readonly cnt: Float64Array;    // PR_COUNTERS per participant
  constructor(v: Views) {
    const base = geometry(v.nframes, v.ncpus).hostArea;
    const g = reportingGeometry(v.nframes);
    this.a = new Int32Array(v.sab, base, PR_FIXED_WORDS);
    this.freedAt = new Int32Array(v.sab, base + g.freedAt * 4, v.nframes);
    this.cnt = new Float64Array(v.sab, base + g.counters * 4, MAX_PARTICIPANTS * PR_COUNTERS);
  }
}

let RV: ReportingViews;
let RCNT: Float64Array;
let sim = false;

/** Per-participant views (every participant at attach). */
export function reportingViewsInit(v: Views, me: number): void {
  RV = new ReportingViews(v);
  RCNT = RV.cnt.subarray(me * PR_COUNTERS, (me + 1) * PR_COUNTERS);
  sim = v.hdr[CTL_MODE] === 1;
}

/** Sum of the reporting counters over participants (main thread, after stop). */
export function sumReportingCounters(v: Views, participants: number): Record<string, number> {
  const rv = new ReportingViews(v);
  const out: Record<string, number> = {};
  PR_COUNTER_NAMES.forEach((name, c) => {
    let s = 0;
    for (let p = 0; p < participants; p++) s += rv.cnt[p * PR_COUNTERS + c];
    out[name] = s;
  });
  return out;
}

/** Discard one frame (frame lock): resident or swapped content is dropped without I/O. */
function discardFrame(pfn: number): boolean {
  const w = frameLock(pfn);
  const c = w & ESSA_CSTATE_MASK;
  if (c === ESSA_CSTATE_RESIDENT) residentAdd(-1);
  else if (c === ESSA_CSTATE_PRESERVED) CNT[C.host_swap_frees]++; // the swap copy goes too
  else { frameUnlock(pfn, w); RCNT[PRC_I.host_absent_pages]++; return false; }
  frameUnlock(pfn, (w & ~(HS_STATE_MASK | HS_CHANGE | HS_REF)) | ST_Sz); // the next touch gets a zeroed frame
  RCNT[PRC_I.host_discarded_pages]++;
  return true;
}

/**
 * virtio_balloon_handle_report: one element carrying `n` blocks; each is discarded in turn
 * (a scheduling point per block: the guest CPU that reported waits for the ack, the others run).
 */
export function reportBlocks(pfns: Int32Array, orders: Int32Array, n: number): boolean {
  const t = modelNow(sim);
  for (let i = 0; i < n; i++) {
    const head = pfns[i];
    sp(SP_HOST, head);
    let dropped = 0;
    for (let k = 0; k < (1 << orders[i]); k++) if (discardFrame(head + k)) dropped++;
    if (dropped > 0) {
      RCNT[PRC_I.latency_sum] += ((t - RV.freedAt[head]) << 2) >> 2; // the wrapping 30-bit clock
      RCNT[PRC_I.latency_blocks]++;
    }
  }
  void ME;
  return true;
}
