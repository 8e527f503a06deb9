import { DEBUG_PFN, type Views } from './layout.js';

/**
 * Planted bugs, for proving that each oracle can fire (tests and `run --debug-fault`).
 * Each is a deliberate mistake at one named point; none is on unless asked for.
 */
export const DEBUG_FAULTS = {
  'skip-set-stable': { bit: 1 << 0, oracle: 'use_after_free', what: 'rmqueue_bulk forgets page_set_stable for one page of a refill' },
  'double-free': { bit: 1 << 1, oracle: 'refcount', what: 'alloc-storm frees one order-0 page twice' },
  'host-lose-page': { bit: 1 << 2, oracle: 'integrity', what: 'the host drops a stable page instead of paging it out (Sr -> Sz)' },
  'host-up': { bit: 1 << 3, oracle: 'invalid_state', what: 'the host "preserves" an unused page (Ur -> Up)' },
  'leak': { bit: 1 << 4, oracle: 'leak', what: 'alloc-storm forgets one page it owns' },
  'buddy-double': { bit: 1 << 5, oracle: 'buddy', what: 'free_pages_bulk hands one page to the buddy twice' },
  'hang': { bit: 1 << 6, oracle: 'liveness', what: 'CPU 0 takes the zone lock and never releases it' },
} as const;
export type DebugFaultName = keyof typeof DEBUG_FAULTS;

export const DBG_SKIP_SET_STABLE = DEBUG_FAULTS['skip-set-stable'].bit;
export const DBG_DOUBLE_FREE = DEBUG_FAULTS['double-free'].bit;
export const DBG_HOST_LOSE_PAGE = DEBUG_FAULTS['host-lose-page'].bit;
export const DBG_HOST_UP = DEBUG_FAULTS['host-up'].bit;
export const DBG_LEAK = DEBUG_FAULTS['leak'].bit;
export const DBG_BUDDY_DOUBLE = DEBUG_FAULTS['buddy-double'].bit;
export const DBG_HANG = DEBUG_FAULTS['hang'].bit;

/** Remember the first pfn a planted bug acted on (tests compare it with the oracle's pfn). */
export function plant(v: Views, pfn: number): void {
  Atomics.compareExchange(v.hdr, DEBUG_PFN, -1, pfn); // first one wins
}
