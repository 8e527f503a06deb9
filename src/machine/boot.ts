/**
 * Boot: lay out a fresh machine buffer, write the configuration words, initialise every
 * struct page, put all frames in the host's "stable, zero" state and hand them to the
 * buddy allocator (with hinting, as unused: Sz -> Uz, the boot-time free_all_bootmem).
 * Runs on the main thread before any worker starts.
 */
import { __free_one_page, defaultPcpBatch, pageAllocInit } from '../guest/page_alloc.js';
import { attachHost, hostByName } from '../hosts/index.js';
import { DEBUG_FAULTS, type DebugFaultName } from '../core/debug.js';
import { H } from '../core/hooks.js';
import { ORC_SET_UNUSED } from '../core/hw.js';
import {
  BOOT_FRAMES, CTL_HOST, DEBUG_PFN, CTL_BATCH, CTL_INJECT, CTL_INJECT_PFN, CTL_DEBUG, CTL_HINTING, CTL_HOST_BUDGET, CTL_MODE, CTL_NCPUS, CTL_NFRAMES,
  CTL_PCP_BATCH, CTL_PCP_HIGH, CTL_SEED, CTL_STATE, CTL_UNFIX, CTL_UNFIX_HI, FREE_HEAD, FREE_NR, MAX_ORDER, MAX_PARTICIPANTS, NIL,
  PAGE_WORDS, PA_INTS, PA_NCOUNTERS, PCP_BASE, PCP_COUNT, PCP_HEAD, PCP_HO_BASE, PCP_HO_ORDERS, PCP_STRIDE, PCP_TAIL,
  K_DL_GATHER, K_DL_SIGNOFF, K_LRU_HEAD, K_LRU_TAIL, PG_COUNT, PG_LRU_NEXT, PG_LRU_PREV, PG_MAPCOUNT, Views, ZONE_FREE_PAGES, allocMachineBuffer, paCounter, CS_BOOT,
} from '../core/layout.js';
import { hostBudgetFrames, nframesOf, type RunOptions } from './config.js';
import { unfixMask, unfixMaskHi } from '../core/races.js';
import { injectMask } from '../core/inject.js';

export const HINTING_CODE = { off: 0, unused: 1, full: 2 } as const;

export function bootMachine(o: RunOptions): Views {
  const nframes = nframesOf(o);
  const host = hostByName(o.host);
  const sab = allocMachineBuffer(nframes, o.cpus, host.areaBytes(nframes)); // only the running host's area
  const v = new Views(sab, nframes, o.cpus);
  const h = v.hdr;
  h[CTL_STATE] = CS_BOOT;
  h[CTL_NCPUS] = o.cpus;
  h[CTL_NFRAMES] = nframes;
  h[CTL_HOST_BUDGET] = hostBudgetFrames(o);
  h[CTL_HINTING] = HINTING_CODE[o.hinting];
  h[CTL_UNFIX] = unfixMask(o.unfix);     // races 0..31
  h[CTL_UNFIX_HI] = unfixMaskHi(o.unfix); // races 32..63
  let dbg = 0;
  for (const d of o.debugFaults) dbg |= DEBUG_FAULTS[d as DebugFaultName].bit;
  h[CTL_DEBUG] = dbg;
  h[CTL_INJECT] = injectMask(o.inject);
  h[CTL_INJECT_PFN] = o.injectPfn === null ? 0 : o.injectPfn + 1;
  h[DEBUG_PFN] = -1;
  h[CTL_BATCH] = o.batch ? 1 : 0;
  h[CTL_SEED] = o.seed | 0;
  h[CTL_MODE] = o.mode === 'sim' ? 1 : 0;
  h[CTL_HOST] = host.code;
  const batch = o.pcpBatch ?? defaultPcpBatch(nframes);
  h[CTL_PCP_BATCH] = batch;
  h[CTL_PCP_HIGH] = o.pcpHigh ?? 6 * batch;
  for (let i = 0; i < MAX_ORDER; i++) { h[FREE_HEAD + i] = NIL; h[FREE_NR + i] = 0; }
  h[ZONE_FREE_PAGES] = 0;
  for (let p = 0; p < MAX_PARTICIPANTS; p++) {
    for (let k = 0; k < 2; k++) {
      const base = p * PA_INTS + PCP_BASE + k * PCP_STRIDE;
      v.pa[base + PCP_COUNT] = 0; v.pa[base + PCP_HEAD] = NIL; v.pa[base + PCP_TAIL] = NIL;
    }
    for (let k = 1; k <= PCP_HO_ORDERS; k++) { // the high-order lists (page_alloc.ts)
      const base = p * PA_INTS + PCP_HO_BASE + (k - 1) * PCP_STRIDE;
      v.pa[base + PCP_COUNT] = 0; v.pa[base + PCP_HEAD] = NIL; v.pa[base + PCP_TAIL] = NIL;
    }
  }
  for (let pfn = 0; pfn < nframes; pfn++) {
    const b = pfn * PAGE_WORDS;
    v.page[b + PG_COUNT] = -1;       // free, with the seeds' bias
    v.page[b + PG_MAPCOUNT] = -1;
    v.page[b + PG_LRU_NEXT] = NIL;
    v.page[b + PG_LRU_PREV] = NIL;
    v.hs[pfn] = host.bootState; // ESSA: Sz, nothing resident yet; xenpaging: Sr, the storage key only (ESSA states unused)
  }
  // The boot CPU is the host participant's slot; its counters are cleared afterwards.
  attachHost(v, o.cpus);
  pageAllocInit();
  // The host decides which frames the allocator gets (xenpaging: not dom0's I/O gfns; shadow: not K and its data).
  const [firstFrame, guestFrames] = host.guestFrames(nframes);
  for (let pfn = firstFrame; pfn < guestFrames;) {
    let order = MAX_ORDER - 1;
    while ((pfn & ((1 << order) - 1)) !== 0 || pfn + (1 << order) > guestFrames) order--;
    if (o.hinting !== 'off') for (let i = 0; i < (1 << order); i++) H.essa(pfn + i, ORC_SET_UNUSED);
    __free_one_page(pfn, order);
    pfn += 1 << order;
  }
  for (const w of [K_DL_GATHER, K_DL_SIGNOFF, K_LRU_HEAD, K_LRU_TAIL]) v.k[w] = NIL;
  if (host.boot?.(v, { hostBudgetFrames: hostBudgetFrames(o), ringSlots: o.ringSlots, workloadOptions: o.workloadOptions })) {
    attachHost(v, o.cpus); // again: the host's views read the words its boot just wrote
  }
  h[BOOT_FRAMES] = nframes;
  for (let p = 0; p < MAX_PARTICIPANTS; p++) v.paF64.fill(0, paCounter(p, 0), paCounter(p, 0) + PA_NCOUNTERS);
  v.cov.fill(0); // the boot-time ESSAs are not the run's coverage
  return v;
}
