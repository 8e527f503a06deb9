/**
 * The least preemption bound at which `hintsim check` finds each race with its fix off
 * (its own small ground and seed, explore/check.ts): measured, not written by hand. Regenerate with
 *   node --import tsx scripts/race-bounds.ts [--seconds S] [--max K] [--ops N] [ID...]
 * (ops: the ground's op budget, 40 unless a ground acts at a later op; see the script)
 * bound: the fewest preemptions (0: no interleaving needed, a sequential protocol bug);
 * null: not found with any bound up to searched_to, every one of them exhausted (the table
 * prints "> searched_to"; -1: not even bound 0 was exhausted in the time given, "-").
 * A race with no entry was not measured ("-").
 */
export interface RaceBound { bound: number | null; searched_to: number; ops: number; cpus: number; seed: number; schedules: number; seconds: number }

export const RACE_BOUNDS: Record<string, RaceBound> = {
  'cmma-essa-vs-migration': { bound: null, searched_to: 1, ops: 320, cpus: 2, seed: 1, schedules: 2068, seconds: 60 },
  'cmma-memslot-remove-count': { bound: null, searched_to: 0, ops: 620, cpus: 2, seed: 1, schedules: 1036, seconds: 60.1 },
  'cmma-nodat-not-reset': { bound: 0, searched_to: 0, ops: 620, cpus: 2, seed: 1, schedules: 1, seconds: 0.3 },
  'cmma-unused-after-freelist': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 1194, seconds: 60.2 },
  'cmma-zap-without-recheck': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 1757, seconds: 60.1 },
  'dirty-in-transit': { bound: null, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 419, seconds: 60.1 },
  'discard-get-page': { bound: 1, searched_to: 1, ops: 20, cpus: 2, seed: 16, schedules: 147, seconds: 4.5 },
  'discard-grace': { bound: 1, searched_to: 1, ops: 40, cpus: 2, seed: 245, schedules: 330, seconds: 5.1 },
  'discard-vs-map': { bound: null, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 496, seconds: 60.3 },
  'double-removal': { bound: null, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 741, seconds: 60.2 },
  'fpr-report-without-isolation': { bound: null, searched_to: 2, ops: 40, cpus: 2, seed: 1, schedules: 1275, seconds: 21.1 },
  'fpr-reported-flag-not-cleared': { bound: null, searched_to: 2, ops: 40, cpus: 2, seed: 1, schedules: 1275, seconds: 14.5 },
  'fpr-request-lost': { bound: null, searched_to: 2, ops: 40, cpus: 2, seed: 1, schedules: 3942, seconds: 30 },
  'fpr-rotate-list-head': { bound: null, searched_to: 2, ops: 40, cpus: 2, seed: 1, schedules: 1275, seconds: 13.4 },
  'fpr-stale-next-after-unlock': { bound: null, searched_to: 2, ops: 40, cpus: 2, seed: 1, schedules: 1505, seconds: 18.3 },
  'grace-early': { bound: null, searched_to: 0, ops: 40, cpus: 3, seed: 1, schedules: 1844, seconds: 60 },
  'grace-idle': { bound: null, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 220, seconds: 60 },
  'kv-emulated-access-marks-spte': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 3477, seconds: 60.4 },
  'kv-fork-detector-reset': { bound: 0, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 1, seconds: 1.2 },
  'kv-remote-flush': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 2966, seconds: 60 },
  'kv-shadow-lru': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 894, seconds: 60 },
  'kv-unshadow-on-user-write': { bound: 0, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 1, seconds: 2.5 },
  'kv-zap-on-a-clear': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 447, seconds: 60.5 },
  'lazy-batch-freed': { bound: null, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 831, seconds: 60.4 },
  'msync-revolatile': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 3571, seconds: 60.2 },
  'state-change-lock': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 5113, seconds: 60 },
  'uptodate-clear-order': { bound: null, searched_to: 0, ops: 40, cpus: 3, seed: 1, schedules: 1582, seconds: 60.1 },
  'vmscan-isolation': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 3247, seconds: 60 },
  'volatile-recheck': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 2615, seconds: 60 },
  'writable-pvolatile': { bound: null, searched_to: 0, ops: 40, cpus: 2, seed: 1, schedules: 534, seconds: 60 },
  'xp-answer-drops': { bound: null, searched_to: -1, ops: 40, cpus: 2, seed: 1, schedules: 0, seconds: 0 },
  'xp-answer-evict-fail': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 2144, seconds: 60 },
  'xp-evict-recount': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 2250, seconds: 60 },
  'xp-load-before-publish': { bound: 1, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 133, seconds: 5.4 },
  'xp-map-first': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 1940, seconds: 60.1 },
  'xp-populate-only-from-paged': { bound: null, searched_to: -1, ops: 40, cpus: 4, seed: 1, schedules: 0, seconds: 0 },
  'xp-populate-paging-out': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 856, seconds: 60.1 },
  'xp-ring-reserve': { bound: 1, searched_to: 1, ops: 40, cpus: 4, seed: 1, schedules: 514, seconds: 15.5 },
  'xp-scrub-after-evict': { bound: null, searched_to: 1, ops: 40, cpus: 2, seed: 1, schedules: 1417, seconds: 60 },
};

/** The races table's "preemptions" cell. */
export function preemptionsCell(id: string): string {
  const b = RACE_BOUNDS[id];
  if (!b) return '-';
  if (b.bound === null) return b.searched_to >= 0 ? `> ${b.searched_to}` : '-';
  return b.bound === 0 ? '0 (sequential protocol bug)' : String(b.bound);
}
