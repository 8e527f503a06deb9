/**
 * The seam between the baton (sim.ts) and the scheduling strategies (strategies/*.ts,
 * registered in strategies/index.ts).
 *
 * A strategy keeps all its state in shared words, written only by the baton holder during
 * the run (and by main in `setup` before it), so that a run is a pure function of the
 * seed and the options whichever participant happens to hold the baton. Its own words are
 * the SIM_STRAT area (SIM_STRAT_WORDS words of the header); each strategy documents its
 * layout of that area. Words every strategy may use (core/layout.ts):
 *   SIM_RNG (4)    xorshift128 state, seeded before `setup`; draw with simRand
 *   SIM_NEXT       the first step at which the baton consults the strategy again (it may
 *                  be consulted earlier: when the runnable set changed, or on a spin)
 *   SIM_SPINNERS   participants whose last scheduling point was a spin (bitmask; read only)
 *   SIM_NPART      participants (read only)
 *
 * `choose` runs on the hot path: no allocation, no closure, no Math.random, no clock.
 */
import type { Prng } from '../core/prng.js';
import { PA_STATE, SIM_NPART, SIM_RNG, SIM_SPINNERS, paWord } from '../core/layout.js';
import { SP_SPIN } from '../core/sched.js';
import type { Schedule } from './schedule.js';
import type { DfsInput } from './strategies/dfs.js';
import type { RingFollow } from './strategies/ring.js';

/** What a strategy reads and writes: the header, the participant words, the replay log. */
export interface SimView {
  readonly hdr: Int32Array;
  /** Participant words: PA_STATE 1 runnable, 2 finished, 3 waiting (paWord). */
  readonly pa: Int32Array;
  /** Decisions to follow (replay), in the schedule.ts log layout. */
  readonly slogIn: Int32Array;
}

/** The run options a strategy's setup sees (RunOptions has them all). */
export interface SimSetupOptions {
  seed: number;
  /** --strategy: a name in the registry (replay is chosen by giving a schedule instead). */
  strategy: string;
  /** pct: change points + 1. */
  depth: number;
  /** random: mean scheduling points between two switch decisions. */
  switchEvery: number;
  /** The run's op budget (run.ts resolves null to DEFAULT_SIM_OPS before the sim is set up). */
  ops: number | null;
  /** Follow these decisions (replay, shrinking) instead of the strategy. */
  schedule: Schedule | null;
  /** hintsim check: one execution of its search (strategies/dfs.ts) instead of the strategy. */
  dfs?: DfsInput | null;
  /** A threads-mode failure's point rings to re-enact (strategies/ring.ts) instead of the strategy. */
  ring?: RingFollow | null;
}

export interface Strategy {
  /** Its --strategy name ('replay' is not offered: a schedule selects it). */
  readonly name: string;
  /** One line for --help: what it is good for. */
  readonly help: string;
  /** Words of the SIM_STRAT area it uses (the registry checks they fit). */
  readonly words: number;
  /**
   * Main thread, before the run: seed the strategy's words from the options and `rng`
   * (the run's setup stream, seed-derived; draw from it in a fixed order) and return the
   * participant that runs first. `n` participants, all runnable.
   */
  setup(v: SimView, o: SimSetupOptions, n: number, rng: Prng): number;
  /**
   * In the baton holder `me` at step `step`, a scheduling point of kind `kind` (sched.ts
   * SP_*) on object `arg` (a pfn, a lock word, a host word...; for SP_SPIN the attempt):
   * the participant to run next (`me` to keep running) or -1 (nobody else can run). On
   * SP_SPIN never `me` (-1 then lets it spin on); the baton also asks with SP_SPIN when
   * `me` has just finished (simExit; `me` is no longer runnable). SIM_SPINNERS still has
   * `me`'s previous point (the caller marks this one after). Set SIM_NEXT.
   */
  choose(step: number, kind: number, arg: number, me: number, v: SimView): number;
}

/** SIM_NEXT when the strategy needs no consultation before something changes. */
export const NEVER = 0x7fffffff;

/** Is participant `p` runnable? */
export function runnable(v: SimView, p: number): boolean {
  return Atomics.load(v.pa, paWord(p, PA_STATE)) === 1;
}

/** The participant a choice must skip: `me` when it spins, else none (-1). */
export function excluded(kind: number, me: number): number {
  return kind === SP_SPIN ? me : -1;
}

/**
 * The replays' deterministic fallback: `me` keeps running unless it spins; a spinner hands
 * on to the next runnable participant after it, round robin (-1: nobody).
 */
export function nextRunnable(v: SimView, me: number, kind: number): number {
  if (excluded(kind, me) < 0) return me;
  const n = v.hdr[SIM_NPART];
  for (let k = 1; k < n; k++) { const p = (me + k) % n; if (runnable(v, p)) return p; }
  return -1;
}

/** Is `p` marked as spinning (its last scheduling point was a spin)? */
export function spinning(h: Int32Array, p: number): boolean {
  return (h[SIM_SPINNERS] & (1 << p)) !== 0;
}

/** xorshift128 on the shared state words (baton holder only). */
export function simRand(h: Int32Array): number {
  let t = h[SIM_RNG];
  const s = h[SIM_RNG + 3];
  h[SIM_RNG] = h[SIM_RNG + 1];
  h[SIM_RNG + 1] = h[SIM_RNG + 2];
  h[SIM_RNG + 2] = s;
  t ^= t << 11;
  t ^= t >>> 8;
  h[SIM_RNG + 3] = t ^ s ^ (s >>> 19);
  return h[SIM_RNG + 3] >>> 0;
}

