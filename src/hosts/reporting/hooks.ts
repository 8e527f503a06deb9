/**
 * The reporting host's guest hooks: the ESSA host's access path (every frame stays stable; a
 * discarded frame is Sz and zero-fills on the next touch), the report callback (reporting.ts),
 * and no ESSA: an x86 KVM host has no such instruction, so boundary hints are no-ops (the
 * host learns of free memory only through reports).
 */
import { V } from '../../core/ctx.js';
import type { GuestHooks } from '../../core/hooks.js';
import { HS_STATE_MASK } from '../../core/layout.js';
import { reportBlocks } from './reporting.js';

export function reportingHooks(base: GuestHooks): GuestHooks {
  return {
    ...base,
    essa: (pfn: number): number => Atomics.load(V.hs, pfn) & HS_STATE_MASK, // no such instruction: nothing changes
    essaBatch(): void { /* ignored */ },
    batchesBoundaryHints: false, // nothing to batch: high-order blocks go straight to the buddy (and its reports)
    reportBlocks,
  };
}
