/**
 * Fault injection at named points (FoundationDB's BUGGIFY): rare timings made common.
 * The active points are a bitmask in the header (CTL_INJECT, written by main at boot);
 * each participant copies it into INJ at start-up, so an inactive hook costs one mask
 * test. When a point is active, whether it fires and for how long is drawn from this
 * participant's own seeded PRNG (seed, participant), never Math.random: in sim mode a
 * participant's draws happen in the same order on every replay, so the run stays a pure
 * function of its seed and options.
 *
 * A stall is a long pause inside a window: in sim mode a run of scheduling points in
 * which the others may run (like a preempted vCPU), in threads mode a short sleep.
 * Guest and host code call the hooks in one line; what a point does is defined here.
 *
 * A target pfn (CTL_INJECT_PFN, --inject-pfn; stress sets it when it steers a sim search
 * towards a threads-mode failure on that page): a stall hook visited for the target fires
 * with TARGET_RATE instead of its own rate, and host-reclaim-touched remembers only touches
 * of the target. Still one draw per visit: with no target a run draws exactly as before.
 */
import { covInject } from './coverage.js';
import { ME, V } from './ctx.js';
import { CTL_INJECT, CTL_INJECT_PFN, CTL_SEED, INJ_TOUCHED } from './layout.js';
import { Prng } from './prng.js';
import { OBJ_LOCAL, OBJ_STALL, SP_STEP, simActive, spObj } from './sched.js';

export interface InjectPoint {
  name: string;
  what: string;
  /** Chance to fire per visit of the hook, in 1/65536. */
  rate: number;
}

export const INJECT_POINTS: readonly InjectPoint[] = [
  { name: 'stall-fault', rate: 16384, what: 'a CPU stalls in the discard fault handler before get_page_if_present' },
  { name: 'stall-discard', rate: 16384, what: 'a CPU stalls between get_page_if_present and page_discard' },
  { name: 'stall-volatile', rate: 2048, what: 'a CPU stalls inside page_make_volatile after its checks, before the ESSA' },
  { name: 'stall-msync', rate: 4096, what: 'a CPU stalls between make_stable and set_page_dirty while moving the dirty bit' },
  { name: 'writeback-delay', rate: 4096, what: 'writeback keeps a locked page under PG_writeback for a long time' },
  { name: 'host-pressure', rate: 16384, what: 'the host budget drops to 1/2..1/16 of itself for a few reclaim passes' },
  { name: 'host-reclaim-touched', rate: 32768, what: 'the host reclaims the frame a guest touched last, reference bit or not' },
  { name: 'free-burst', rate: 128, what: 'a CPU frees much of what it holds at once (blocks, mappings, anonymous memory)' },
  { name: 'idle-long', rate: 64, what: 'a CPU goes idle for a long stretch (it signs off grace periods as idle)' },
];

export const I_STALL_FAULT = 0;
export const I_STALL_DISCARD = 1;
export const I_STALL_VOLATILE = 2;
export const I_STALL_MSYNC = 3;
export const I_WRITEBACK_DELAY = 4;
export const I_HOST_PRESSURE = 5;
export const I_HOST_RECLAIM_TOUCHED = 6;
export const I_FREE_BURST = 7;
export const I_IDLE_LONG = 8;

export const INJECT_NAMES: readonly string[] = INJECT_POINTS.map((p) => p.name);

/** Bitmask of point names (unknown names throw; the CLI checks them first). */
export function injectMask(names: readonly string[]): number {
  let m = 0;
  for (const n of names) {
    const i = INJECT_NAMES.indexOf(n);
    if (i < 0) throw new Error(`unknown injection point '${n}'`);
    m |= 1 << i;
  }
  return m;
}

/** Chance (in 1/65536) that a stall hook fires when visited for the target pfn. */
export const TARGET_RATE = 49152;
const TARGET_THRESHOLD = TARGET_RATE * 65536;

/** Active points of this participant (a copy of CTL_INJECT). Hooks test it first. */
export let INJ = 0;
/** The pfn the hooks favour (a copy of CTL_INJECT_PFN - 1), -1 none. */
let targetPfn = -1;
let rng: Prng | null = null;
const threshold = new Uint32Array(INJECT_POINTS.length);
const sleepWord = new Int32Array(new SharedArrayBuffer(4)); // nobody notifies it: a bounded sleep
let spikeLeft = 0;
let spikeBudget = 0;

/** Worker start-up: read the mask and seed this participant's PRNG. */
export function injectInit(): void {
  INJ = V.hdr[CTL_INJECT];
  targetPfn = V.hdr[CTL_INJECT_PFN] - 1;
  rng = INJ !== 0 ? new Prng(V.hdr[CTL_SEED], 0x1a7e_c700 + ME) : null;
  INJECT_POINTS.forEach((p, i) => { threshold[i] = p.rate * 65536; });
  spikeLeft = 0;
}

/** Does point `p` fire now? False at once when it is inactive. */
export function injHit(p: number): boolean {
  if ((INJ & (1 << p)) === 0) return false;
  if (rng!.next() >= threshold[p]) return false;
  covInject(p);
  return true;
}

/** Pause for `len` units: scheduling points (sim) or microseconds (threads). */
function pause(len: number): void {
  // The first point tells the strategies a stall begins (hintsim check yields there for free).
  // The code after every point but the last is the next point of the pause: nothing shared
  // (OBJ_STALL, OBJ_LOCAL); after the last one the caller goes on, touching whatever it
  // touches: unknown (-1), which conflicts with everything.
  if (simActive()) for (let k = 0; k < len; k++) spObj(SP_STEP, k, k === 0 ? OBJ_STALL : k < len - 1 ? OBJ_LOCAL : -1);
  else Atomics.wait(sleepWord, 0, 0, len / 1000);
}

/** A stall at point `p` on page `pfn` when it fires: 16..2063 scheduling points, or 36 us..2 ms. */
export function injStall(p: number, pfn: number): void {
  if ((INJ & (1 << p)) === 0) return;
  const r = rng!;
  if (pfn === targetPfn) {
    if (r.next() >= TARGET_THRESHOLD) return;
    covInject(p);
  } else if (!injHit(p)) return;
  const len = (16 << r.below(8)) + r.below(16); // log-uniform over 16..2048: mostly short, sometimes long
  pause(simActive() ? len : len + 20);
}

/** Length of an injected idle stretch: 2000..10000 points (sim) or 2..10 ms (threads). */
export function injIdleLength(): number {
  return 2000 + rng!.below(8000);
}

/** A guest is about to access `pfn` (host-reclaim-touched only; with a target pfn, only the target counts). */
export function injTouch(pfn: number): void {
  if ((INJ & (1 << I_HOST_RECLAIM_TOUCHED)) === 0) return;
  if (targetPfn >= 0 && pfn !== targetPfn) return; // steered: only the target is reclaimed under the guest
  Atomics.store(V.hdr, INJ_TOUCHED, pfn + 1); // a hint: the host may read an older value, which is fine
}

/** Host: the frame to reclaim at once (host-reclaim-touched fired), or -1. */
export function injTouchedPfn(): number {
  if (!injHit(I_HOST_RECLAIM_TOUCHED)) return -1;
  return Atomics.load(V.hdr, INJ_TOUCHED) - 1;
}

/** Host: the budget to reclaim against in this loop turn (lowered during a pressure spike). */
export function injHostBudget(budget: number): number {
  if ((INJ & (1 << I_HOST_PRESSURE)) === 0) return budget;
  if (spikeLeft > 0) { spikeLeft--; return spikeBudget; }
  if (!injHit(I_HOST_PRESSURE)) return budget;
  const r = rng!;
  spikeLeft = 1 + r.below(8);
  spikeBudget = Math.max(16, budget >> (1 + r.below(4)));
  return spikeBudget;
}
