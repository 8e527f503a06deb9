/**
 * The xenpaging host's guest hooks: the hypervisor keeps no guest page states (ESSA is a
 * counted no-op that reads Sr), the access path goes through the p2m (p2m.ts xpAccessBegin:
 * a paged gfn is populated and the vCPU paused), and the balloon gives frames back
 * (decrease_reservation) and asks for them again (populate_physmap).
 */
import { C } from '../../core/counters.js';
import { CNT } from '../../core/ctx.js';
import { DEFAULT_HOOKS, type GuestHooks } from '../../core/hooks.js';
import { ST_Sr, hwEnd } from '../../core/hw.js';
import { SP_ESSA, sp } from '../../core/sched.js';
import { T_ESSA_BATCH, tr } from '../../core/trace.js';
import { E_NOMEM, decreaseReservation, populatePhysmap, xpAccessBegin, xpEssaIgnored, xpInit } from './p2m.js';

/** ESSA under xenpaging: a no-op that reads Sr (counted as an ESSA and as ignored). */
function xenEssa(pfn: number, _orc: number): number {
  sp(SP_ESSA, pfn);
  CNT[C.essa_calls]++;
  return xpEssaIgnored(1);
}

/** Batched ESSA under xenpaging: the batch is a no-op, every old state reads Sr. */
function xenEssaBatch(pfns: Int32Array, n: number, _orc: number, oldOut: Int32Array | null): void {
  if (n === 0) return;
  sp(SP_ESSA, pfns[0]);
  tr(T_ESSA_BATCH, n);
  CNT[C.essa_batches]++;
  CNT[C.essa_batched_pages] += n;
  xpEssaIgnored(n);
  if (oldOut !== null) oldOut.fill(ST_Sr, 0, n);
}

export const XEN_HOOKS: GuestHooks = {
  ...DEFAULT_HOOKS,
  participantInit: xpInit,
  essa: xenEssa,
  essaBatch: xenEssaBatch,
  accessBegin: xpAccessBegin,
  accessEnd: hwEnd,
  balloonOut(pfn: number): void { decreaseReservation(pfn); },
  balloonIn(pfn: number): boolean { return populatePhysmap(pfn) !== E_NOMEM; },
};
