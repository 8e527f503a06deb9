/**
 * The strategy registry. A strategy's id (the SIM_STRATEGY word) is its index here: add a
 * strategy by writing its file next to these and appending it to STRATEGIES (never
 * reorder: ids are not persisted, but keep the list stable for readers of the header).
 */
import type { Strategy } from '../strategy.js';
import { pct } from './pct.js';
import { random } from './random.js';
import { replay } from './replay.js';

export const STRATEGIES: readonly Strategy[] = [random, pct, replay];

/** The strategy that follows a given schedule. */
export const REPLAY = replay;

/** The names --strategy accepts (replay is selected by a schedule). */
export const STRATEGY_NAMES: readonly string[] = STRATEGIES.filter((s) => s !== REPLAY).map((s) => s.name);

/** A strategy's id (its SIM_STRATEGY value). */
export function strategyId(s: Strategy): number {
  return STRATEGIES.indexOf(s);
}

/** The strategy of this name, or undefined. */
export function findStrategy(name: string): Strategy | undefined {
  return STRATEGIES.find((s) => s.name === name);
}
