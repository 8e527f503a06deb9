/**
 * Views over the CMMA area of the machine buffer (core/layout.ts, "CMMA area"), the PGSTE
 * bits this host keeps in each frame's host state word, and its per-participant counters.
 */
import { CMMA_COUNTERS, CTL_MODE, MAX_CPUS, MAX_PARTICIPANTS, CBRL_SLOTS, CM_FIXED_WORDS, cmmaGeometry, geometry, type Views } from '../../core/layout.js';

/** PGSTE no-dat (facility 147): the page is not used for DAT tables. Frame lock. */
export const CM_HS_NODAT = 0x80;
/** PGSTE cmma_d: the page's CMMA state changed since the migration last sent it. Frame lock. */
export const CM_HS_DIRTY = 0x100;

export const CMMA_COUNTER_NAMES = [
  'intercepts_first_use',   // ESSA intercepts of a vCPU without ECB2_CMMA outside migration (enable and retry)
  'intercepts_cbrl_full',   // exits because a vCPU's block reuse list was full
  'intercepts_migration',   // ESSA intercepted and emulated in migration mode
  'essa_interpreted',       // ESSA the hardware interpreted (no exit)
  'spec_exceptions',        // ESSA with an operation code above the last valid one
  'cbrl_entries',           // gfns appended to block reuse lists (unused and not resident)
  'cbrl_zaps',              // swap slots of unused pages freed from a CBRL (no I/O)
  'cbrl_zap_skipped',       // CBRL entries that were stable again or not swapped when zapped
  'reclaim_drops',          // resident unused frames host reclaim dropped (no I/O)
  'reclaim_swapouts',       // frames host reclaim wrote to swap
  'dropped_refaults',       // guest touches of a frame the host had dropped (zero page)
  'latency_sum',            // model time from SET_UNUSED to the host's drop, summed
  'latency_pages',          // pages that latency_sum covers
  'dirty_set',              // cmma_d bits set by emulated ESSA in migration mode
  'migration_passes',       // full walks of the CMMA dirty bitmap
  'cmma_bytes_sent',        // attribute bytes sent (one per page, GET_CMMA_BITS)
  'migrations',             // migrations started
  'migrations_done',        // ...that reached stop-and-copy
  'slot_removals',          // memslots removed during a migration
  'resets',                 // CMMA resets (load normal)
] as const;
export type CmmaCounterName = (typeof CMMA_COUNTER_NAMES)[number];
export const CMC = Object.fromEntries(CMMA_COUNTER_NAMES.map((n, i) => [n, i])) as { readonly [K in CmmaCounterName]: number };
if (CMMA_COUNTER_NAMES.length > CMMA_COUNTERS) throw new Error('cmma_views: more counters than CMMA_COUNTERS slots');

export class CmmaViews {
  readonly a: Int32Array;        // fixed words (CM_*) and per-vCPU words
  readonly cbrl: Int32Array;     // MAX_CPUS block reuse lists of CBRL_SLOTS gfns
  readonly dest: Int32Array;     // the destination's usage byte per gfn (-1 never sent)
  readonly nodatGen: Int32Array; // reset generation + 1 when the guest last set no-dat
  readonly freedAt: Int32Array;  // model time of the last SET_UNUSED
  readonly cnt: Float64Array;
  constructor(v: Views) {
    const base = geometry(v.nframes, v.ncpus).hostArea;
    const g = cmmaGeometry(v.nframes);
    const w = (off: number, n: number): Int32Array => new Int32Array(v.sab, base + off * 4, n);
    this.a = w(0, CM_FIXED_WORDS);
    this.cbrl = w(g.cbrl, MAX_CPUS * CBRL_SLOTS);
    this.dest = w(g.dest, v.nframes);
    this.nodatGen = w(g.nodatGen, v.nframes);
    this.freedAt = w(g.freedAt, v.nframes);
    this.cnt = new Float64Array(v.sab, base + g.counters * 4, MAX_PARTICIPANTS * CMMA_COUNTERS);
  }
}

/** This participant's CMMA views and counters (attach). */
export let CV: CmmaViews;
export let CCNT: Float64Array;
export let cmmaSim = false;

export function cmmaViewsInit(v: Views, me: number): void {
  CV = new CmmaViews(v);
  CCNT = CV.cnt.subarray(me * CMMA_COUNTERS, (me + 1) * CMMA_COUNTERS);
  cmmaSim = v.hdr[CTL_MODE] === 1;
}

export function sumCmmaCounters(v: Views, participants: number): Record<string, number> {
  const cv = new CmmaViews(v);
  const out: Record<string, number> = {};
  CMMA_COUNTER_NAMES.forEach((name, c) => {
    let s = 0;
    for (let p = 0; p < participants; p++) s += cv.cnt[p * CMMA_COUNTERS + c];
    out[name] = s;
  });
  return out;
}
