/**
 * The least preemption bound at which `hintsim check` finds each race with its fix off
 * (its own small ground and seed, explore/check.ts): measured, not written by hand. Regenerate with
 *   node --import tsx scripts/race-bounds.ts [--seconds S] [--max K] [ID...]
 * bound: the fewest preemptions (0: no interleaving needed, a sequential protocol bug);
 * null: not found with any bound up to searched_to, every one of them exhausted (the table
 * prints "> searched_to"; -1: not even bound 0 was exhausted in the time given, "-").
 * A race with no entry was not measured ("-").
 */
export interface RaceBound { bound: number | null; searched_to: number; ops: number; cpus: number; seed: number; schedules: number; seconds: number }

export const RACE_BOUNDS: Record<string, RaceBound> = {
  'discard-get-page': { bound: 1, searched_to: 1, ops: 40, cpus: 2, seed: 17, schedules: 355, seconds: 15.5 },
  'discard-grace': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 11179, seconds: 150 },
};

/** The races table's "preemptions" cell. */
export function preemptionsCell(id: string): string {
  const b = RACE_BOUNDS[id];
  if (!b) return '-';
  if (b.bound === null) return b.searched_to >= 0 ? `> ${b.searched_to}` : '-';
  return b.bound === 0 ? '0 (sequential protocol bug)' : String(b.bound);
}
