/**
 * The strategy registry. To add a strategy: write strategies/NAME.ts exporting a Strategy
 * (strategy.ts: setup, choose, its words of the SIM_STRAT area and their layout in its
 * header comment), import it here and append it to STRATEGIES. Its name is then accepted
 * wherever STRATEGY_NAMES is consulted (replay files; the CLI's --strategy choices).
 * A strategy's id, the SIM_STRATEGY word, is its index here; ids live only for one run.
 */
import { SIM_STRAT_WORDS } from '../../core/layout.js';
import type { Strategy } from '../strategy.js';
import { dfs } from './dfs.js';
import { pct } from './pct.js';
import { pos } from './pos.js';
import { random } from './random.js';
import { replay } from './replay.js';
import { surw } from './surw.js';
import { keyed } from './keyed.js';
import { ring } from './ring.js';

/** Order = SIM_STRATEGY ids: append only. */
export const STRATEGIES: readonly Strategy[] = [random, pct, replay, keyed, pos, surw, dfs, ring];

for (const s of STRATEGIES) {
  if (s.words > SIM_STRAT_WORDS) throw new Error(`sim strategy ${s.name}: ${s.words} words do not fit the ${SIM_STRAT_WORDS} of SIM_STRAT`);
}

/** The strategies that follow a given schedule: by global step, and by keyed points (schedule.keys). */
export const REPLAY = replay;
export const KEYED = keyed;

/** The bounded exhaustive check's executions (selected by RunOptions.dfs). */
export const DFS = dfs;

/** Re-enacting a threads-mode failure's point rings (selected by RunOptions.ring). */
export const RING = ring;

/** The names --strategy accepts (replay and keyed are selected by a schedule, dfs by hintsim check, ring by a threads failure's rings). */
export const STRATEGY_NAMES: readonly string[] = STRATEGIES.filter((s) => s !== REPLAY && s !== KEYED && s !== DFS && s !== RING).map((s) => s.name);

/** A strategy's id (its SIM_STRATEGY value). */
export function strategyId(s: Strategy): number {
  return STRATEGIES.indexOf(s);
}

/** The strategy of this name, or undefined. */
export function findStrategy(name: string): Strategy | undefined {
  return STRATEGIES.find((s) => s.name === name);
}
