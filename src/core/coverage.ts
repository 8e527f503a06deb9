/**
 * Coverage counts: which ESSA transitions, host actions, access outcomes and discard-path
 * branches a run exercised. Each participant owns COV_SLOTS Float64 slots in the machine
 * buffer (layout.ts, Views.cov); the hooks below are plain increments of its own slots
 * (single writer, no allocation, no atomics). The main thread sums all participants only
 * after the run: every participant's last plain stores precede its seq-cst
 * Atomics.store of PA_STATE (finished) and the main thread Atomics.loads PA_STATE before
 * reading (machine/coverage.ts), so it sees them.
 *
 * Slot groups (index = group base + key):
 *   ESSA    old state (4 bits) x op (3 bits) x change bit   -> 256 slots
 *   host    state x change bit of a frame the host reclaimed -> 32
 *   access  state x write of a guest access                 -> 32
 *   branch  DISCARD_BRANCHES                                 -> 64
 *   gpip    GPIP_OUTCOMES                                    -> 8
 *   inject  injection points that fired (inject.ts)          -> 32
 *   hostb   HOST_BRANCHES                                    -> 8
 */
import { COV } from './ctx.js';

export const COV_ESSA = 0;
export const COV_HOST = 256;
export const COV_ACCESS = 288;
export const COV_BRANCH = 320;
export const COV_GPIP = 384;
export const COV_INJECT = 392;
export const COV_HOSTB = 424;
export const COV_USED = 432;

/**
 * Named branches of the discard path (hinting.md 2.3-2.5). `kind`: 'path' is ordinary
 * behaviour with every fix on; 'bug' is a branch that reports a violation; 'unfixed' is
 * only taken with a fix switched off (--unfix).
 */
export const DISCARD_BRANCHES = [
  { name: 'fault_handled', kind: 'path', what: 'discard fault through a still-valid pte: the handler runs' },
  { name: 'fault_pte_gone', kind: 'path', what: 'discard fault, but the pte changed before the handler: walk again' },
  { name: 'plain_get_page', kind: 'unfixed', what: 'discard-get-page unfixed: a plain get_page in the handler' },
  { name: 'discard_reused', kind: 'bug', what: 'page_discard: the frame is not Vz any more (reused after the fault)' },
  { name: 'discard_already_removed', kind: 'path', what: 'page_discard: someone else removes it (PG_discarded set or no mapping)' },
  { name: 'discard_removed', kind: 'path', what: 'page_discard: unmapped and removed from the page cache' },
  { name: 'free_to_discard_list', kind: 'path', what: 'a freed discarded page is parked on the discard list' },
  { name: 'free_discarded_unparked', kind: 'unfixed', what: 'discard-grace unfixed: a freed discarded page goes straight back' },
  { name: 'list_joined_round', kind: 'unfixed', what: 'grace-early unfixed: a page joins the sign-off round in progress' },
  { name: 'grace_round_started', kind: 'path', what: 'cpu_quiescent starts a sign-off round for the gathered pages' },
  { name: 'grace_round_drained', kind: 'path', what: 'the last CPU signs off: the round\'s pages are freed' },
  { name: 'idle_signoff', kind: 'path', what: 'a CPU going idle counts as quiescent' },
  { name: 'idle_blocker', kind: 'bug', what: 'the discard list grows while the round waits for an idle CPU' },
  { name: 'make_stable_discarded', kind: 'path', what: 'page_make_stable found the page discarded (Vz)' },
  { name: 'lookup_discarded', kind: 'path', what: 'find_get_page found a discarded page, discarded it and looked again' },
  { name: 'cow_source_discarded', kind: 'path', what: 'copy on write: the source page was discarded; discard and read again' },
  { name: 'map_recheck_discarded', kind: 'path', what: 'a fault found its page discarded under the pte lock: wait, retry' },
  { name: 'remove_lost_to_discard', kind: 'path', what: 'remove_from_page_cache: PG_discarded already set, the discard path removes it' },
  { name: 'remove_keeps_discarded', kind: 'path', what: 'remove_from_page_cache of a page the host discarded: it stays PG_discarded and is parked' },
] as const;
export type DiscardBranch = (typeof DISCARD_BRANCHES)[number]['name'];
const B = Object.fromEntries(DISCARD_BRANCHES.map((b, i) => [b.name, i])) as { readonly [K in DiscardBranch]: number };
export const B_FAULT_HANDLED = B.fault_handled;
export const B_FAULT_PTE_GONE = B.fault_pte_gone;
export const B_PLAIN_GET_PAGE = B.plain_get_page;
export const B_DISCARD_REUSED = B.discard_reused;
export const B_DISCARD_ALREADY_REMOVED = B.discard_already_removed;
export const B_DISCARD_REMOVED = B.discard_removed;
export const B_FREE_TO_DISCARD_LIST = B.free_to_discard_list;
export const B_FREE_DISCARDED_UNPARKED = B.free_discarded_unparked;
export const B_LIST_JOINED_ROUND = B.list_joined_round;
export const B_GRACE_ROUND_STARTED = B.grace_round_started;
export const B_GRACE_ROUND_DRAINED = B.grace_round_drained;
export const B_IDLE_SIGNOFF = B.idle_signoff;
export const B_IDLE_BLOCKER = B.idle_blocker;
export const B_MAKE_STABLE_DISCARDED = B.make_stable_discarded;
export const B_LOOKUP_DISCARDED = B.lookup_discarded;
export const B_COW_SOURCE_DISCARDED = B.cow_source_discarded;
export const B_MAP_RECHECK_DISCARDED = B.map_recheck_discarded;
export const B_REMOVE_LOST_TO_DISCARD = B.remove_lost_to_discard;
export const B_REMOVE_KEEPS_DISCARDED = B.remove_keeps_discarded;

/** get_page_if_present outcomes. */
export const GPIP_OUTCOMES = ['ok', 'refused_free', 'cas_retry'] as const;
export const GPIP_OK = 0;
export const GPIP_REFUSED = 1;
export const GPIP_RETRY = 2;

/** Host branches that are not state transitions. */
export const HOST_BRANCHES = ['second_chance'] as const;
export const HB_SECOND_CHANCE = 0;

/** ESSA on a frame that was in state `old` (valid), with op `orc` and the change bit. */
export function covEssa(old: number, orc: number, change: number): void {
  COV[COV_ESSA + ((old << 4) | (orc << 1) | change)]++;
}

/** The host reclaimed a resident frame in `state` (change bit `dirty`, 0/1). */
export function covHost(state: number, dirty: number): void {
  COV[COV_HOST + ((state << 1) | dirty)]++;
}

/** A guest access began on a frame in `state` (write 0/1). */
export function covAccess(state: number, write: number): void {
  COV[COV_ACCESS + ((state << 1) | write)]++;
}

export function covBranch(b: number): void {
  COV[COV_BRANCH + b]++;
}

export function covGpip(o: number): void {
  COV[COV_GPIP + o]++;
}

export function covHostBranch(b: number): void {
  COV[COV_HOSTB + b]++;
}

export function covInject(point: number): void {
  COV[COV_INJECT + point]++;
}
