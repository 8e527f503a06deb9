/**
 * Main thread, around a sim run: seed the baton's words and the active strategy's, name
 * the first participant (simSetup); read the schedule back (simResult).
 */
import { PA_STATE, SIM_BATON, SIM_DIRTY, SIM_EXCL, SIM_FIRST, SIM_HASH, SIM_NEXT, SIM_NPART, SIM_RNG, SIM_SPINS, SIM_STEP, SIM_STRATEGY, SIM_SWITCHES, paWord } from '../core/layout.js';
import { Prng } from '../core/prng.js';
import { logCapacity, readLog, type ScheduleResult } from './schedule.js';
import { DFS, KEYED, REPLAY, RING, findStrategy, strategyId, STRATEGY_NAMES } from './strategies/index.js';
import type { SimSetupOptions, SimView } from './strategy.js';

/** Seed the sim scheduler words for `n` participants and name the first one to run. */
export function simSetup(v: SimView, o: SimSetupOptions, n: number): void {
  const h = v.hdr;
  const strategy = o.schedule ? (o.schedule.keys ? KEYED : REPLAY) : o.dfs ? DFS : o.ring ? RING : findStrategy(o.strategy);
  if (!strategy || (strategy === REPLAY && !o.schedule)) throw new Error(`sim: unknown strategy '${o.strategy}'; accepted: ${STRATEGY_NAMES.join(', ')}`);
  const rng = new Prng(o.seed, 0x5111);
  h[SIM_NPART] = n;
  for (let i = 0; i < 4; i++) h[SIM_RNG + i] = rng.next() | 1;
  h[SIM_STEP] = 0; h[SIM_HASH] = 0x811c9dc5 | 0; h[SIM_SWITCHES] = 0; h[SIM_EXCL] = 0; h[SIM_SPINS] = 0;
  h[SIM_NEXT] = 1; h[SIM_DIRTY] = 1; // consult the strategy at the first point
  for (let p = 0; p < n; p++) Atomics.store(v.pa, paWord(p, PA_STATE), 1); // all runnable before anyone runs
  h[SIM_STRATEGY] = strategyId(strategy);
  const first = strategy.setup(v, o, n, rng);
  h[SIM_FIRST] = first;
  Atomics.store(h, SIM_BATON, first);
}

/** The schedule of a finished run (the decisions when asked for). */
export function simResult(v: SimView & { readonly slog: Int32Array }, recordSchedule: boolean): ScheduleResult {
  const h = v.hdr;
  const switches = h[SIM_SWITCHES];
  const kept = Math.min(switches, logCapacity(v.slog));
  return {
    steps: h[SIM_STEP], switches, first: h[SIM_FIRST], complete: kept === switches,
    ...(recordSchedule ? { decisions: readLog(v.slog, kept) } : {}),
  };
}
