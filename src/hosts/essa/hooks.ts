/**
 * The ESSA host's guest hooks: ESSA and batched ESSA execute on the host state word, the
 * access path is the storage-key/ESSA one (essa.ts); ptes, translation, page tables,
 * balloon and the referenced bit are the plain machine's (core/hooks.ts defaults).
 */
import { DEFAULT_HOOKS, type GuestHooks } from '../../core/hooks.js';
import { hwEnd } from '../../core/hw.js';
import { essa, essaBatch, hwBegin } from './essa.js';

export const ESSA_HOOKS: GuestHooks = {
  ...DEFAULT_HOOKS,
  essa,
  essaBatch,
  accessBegin: hwBegin,
  accessEnd: hwEnd,
  batchesBoundaryHints: true, // essaBatch changes host states: batch the high-order boundary hints
};
