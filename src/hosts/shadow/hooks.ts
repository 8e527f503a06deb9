/**
 * The shadow MMU host's guest hooks, on top of the hooks of the host that keeps the frames
 * (the registry passes the ESSA host's): every pte store goes through the MMU (emulated
 * while its table frame is write-protected), user translations through the TLB and sptes,
 * every page table occupies a guest frame, and kscand's test-and-clear goes through kmap.
 */
import type { GuestHooks } from '../../core/hooks.js';
import { SH_TABLE_GFN } from '../../core/layout.js';
import { kernelTouch, kmapAtomic, kmapTestClearYoung, kunmapAtomic, shPteWrite, shTranslate, tableGfn } from './shadow.js';
import { SC, SCNT, SV } from './shadow_views.js';

function tableFrameAttach(table: number, pfn: number): void {
  // Both words before the first pte store: the MMU finds the frame through SH_TABLE_GFN.
  Atomics.store(SV.gfnTable, pfn, table + 1);
  Atomics.store(SV.s, SH_TABLE_GFN + table, pfn + 1);
  SCNT[SC.pgtable_allocs]++;
}

/** pte_free: the host is not told; a shadow page it still keeps for the frame stays until flooded, unshadowed or recycled (K5). */
function tableFrameDetach(table: number): number {
  const pfn = Atomics.load(SV.s, SH_TABLE_GFN + table) - 1; // the owner's pte lock (or the owning CPU) keeps it stable
  if (pfn < 0) return -1;
  Atomics.store(SV.s, SH_TABLE_GFN + table, 0); // the MMU loads both words: no table frame any more, then no table on the frame
  Atomics.store(SV.gfnTable, pfn, 0);
  SCNT[SC.pgtable_frees]++;
  return pfn;
}

function testClearYoung(table: number, idx: number, _pi: number, halves: number, skipSame: boolean, unmapClear: boolean): number {
  const u = tableGfn(table);
  if (u < 0) return -1;
  kmapAtomic(u, halves, skipSame);
  const r = kmapTestClearYoung(table, idx) ? 1 : 0;
  kunmapAtomic(unmapClear, halves);
  return r;
}

export function shadowHooks(base: GuestHooks): GuestHooks {
  return {
    ...base,
    setPte: shPteWrite,
    translate: shTranslate,
    wantsTableFrames: true,
    tableFrame: tableGfn,
    tableFrameAttach,
    tableFrameAllocFailed(): void { SCNT[SC.pgtable_alloc_failures]++; },
    tableFrameDetach,
    testClearYoung,
    modelsKernelTable: true,
    kernelTouch,
    kscandPass(): void { SCNT[SC.kscand_steps]++; },
  };
}
