/**
 * The race catalogue: every fix of the series is on by default; `--unfix ID` turns one off.
 * Bit i of CTL_UNFIX is set when RACES[i] is unfixed. Only races whose toggle exists in
 * the model are listed (a listed id always changes behaviour).
 */
export interface RaceEntry {
  id: string;
  name: string;
  catalogue: string;      // R-number in reference/hinting.md
  interleaving: string[];
  oracle: string;
  fix: string;
  source: string;
  workload: string;
  workloadOptions?: Record<string, number>;
}

export const RACES: RaceEntry[] = [];

export function raceIndex(id: string): number {
  return RACES.findIndex((r) => r.id === id);
}

export function unfixMask(ids: readonly string[]): number {
  let m = 0;
  for (const id of ids) {
    const i = raceIndex(id);
    if (i < 0) throw new Error(`unknown race id '${id}'`);
    m |= 1 << i;
  }
  return m;
}

export function raceName(idx1: number): string | null {
  return idx1 > 0 ? RACES[idx1 - 1]?.id ?? null : null;
}
