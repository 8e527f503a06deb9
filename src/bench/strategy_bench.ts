/**
 * The bench entry `strategies` (issue 15): time to find every catalogued race with each sim
 * strategy (random, pct, pos, surw), the median of 3 hunts per race and strategy (seed shards
 * 1/3, 2/3, 3/3: three disjoint seed sets), and which strategy is best for each race.
 *
 * A hunt's time is its own time to find (HuntResult.seconds: from the hunt's start, pool and
 * workers included, to the seed that fired the race's oracle), not this process's wall time.
 * Each hunt is capped (STRATEGY_HUNT_CAP: 400 seeds of its shard and 4 s; --quick: 40 seeds,
 * 20 s, one hunt, the two QUICK_RACES); a hunt that does not find the
 * race within the cap is "not found", and counts as slower than any found one in the median
 * (so the median of 3 is a time only if at least 2 of the 3 hunts found the race; after two
 * misses the third hunt is skipped, the median being "not found" already).
 *
 * JSON: one entry per race, `time_to_find_<race>` (value: the best strategy's median; baseline:
 * random's; goal: under 1 s; the note names every strategy's median and the best), then the
 * summary `strategy_time_to_find` (the slowest race's best median against the slowest race's
 * random median). The report's `strategies` table has the same figures per race; the text
 * prints it with the best strategy named on each row.
 */
import type { BenchEntry, BenchOptions } from './bench.js';
import { hunt } from '../explore/hunt.js';
import { RACES } from '../core/races.js';
import { STRATEGY_NAMES } from '../sim/strategies/index.js';
import { UsageError, type Strategy } from '../machine/config.js';

/** One race's times: the median per strategy (null: not found within the cap in 2 of 3 hunts). */
export interface StrategyRaceTimes {
  race: string;
  /** Median hunt seconds per strategy name, in STRATEGY_NAMES order; null not found. */
  medians: Record<string, number | null>;
  /** Every hunt's seconds per strategy (null: that hunt did not find it), in shard order. */
  hunts: Record<string, (number | null)[]>;
  /**
   * Every hunt's finding seed as its rank in the hunt's shard (1: the shard's first seed), per
   * strategy (null: not found). Unlike the seconds, this does not depend on the machine's load:
   * it says how many seeds a strategy needs, the seconds what each of its runs costs on top.
   */
  ranks: Record<string, (number | null)[]>;
  /**
   * Median CPU seconds of this process (main thread and every worker thread: the search's own
   * work) per strategy, over the same hunts (null: not found). On a loaded machine the wall
   * seconds grow with the load; these do much less (an idle 2-core machine runs them at about
   * half in wall time, two jobs in parallel).
   */
  cpu_medians: Record<string, number | null>;
  /** The strategy with the least median (null: none found the race). */
  best: string | null;
}

/** The figures of the entry, in the report (BenchReport.strategies). */
export interface StrategyTimes {
  hunts: number;
  cap: { seeds: number; seconds: number; jobs: number };
  races: StrategyRaceTimes[];
}

/** Per-hunt cap: seeds of its shard and seconds of search; a hunt past either has not found the race. */
export const STRATEGY_HUNT_CAP = { seeds: 400, seconds: 4, quickSeeds: 40, quickSeconds: 20 };
/** Worker threads per hunt (the 2-core machine of the issue's goal). */
const JOBS = 2;
/**
 * The races of --quick: two races of different hosts that every strategy found within its first
 * three seeds in each of the 3 shards of a full run (pct misses discard-get-page altogether).
 */
export const QUICK_RACES = ['dirty-in-transit', 'kv-emulated-access-marks-spte'];

/** Median of 3 (or 1) with not-found (null) slower than any time. */
function median(xs: (number | null)[]): number | null {
  const s = xs.map((x) => x ?? Infinity).sort((a, b) => a - b);
  const m = s[(s.length - 1) >> 1];
  return Number.isFinite(m) ? m : null;
}

const fmt = (t: number | null): string => (t === null ? 'not found' : `${t.toFixed(2)} s`);

/** One race, every strategy: `hunts` hunts each (seed shards k/hunts). */
export async function raceStrategyTimes(id: string, hunts: number, cap: { seeds: number; seconds: number }, log: (m: string) => void): Promise<StrategyRaceTimes> {
  const medians: Record<string, number | null> = {};
  const all: Record<string, (number | null)[]> = {};
  const ranks: Record<string, (number | null)[]> = {};
  const cpu: Record<string, number | null> = {};
  for (const s of STRATEGY_NAMES) {
    const times: (number | null)[] = [];
    const rk: (number | null)[] = [];
    const cs: (number | null)[] = [];
    for (let k = 1; k <= hunts; k++) {
      if (times.filter((t) => t === null).length > hunts >> 1) break; // the median is "not found" already
      const c0 = process.cpuUsage();
      const h = await hunt({
        id, seeds: cap.seeds, seconds: cap.seconds, jobs: JOBS, shard: [k, hunts], mode: 'sim', strategy: s as Strategy,
        depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: false, corpus: null,
      });
      const c = process.cpuUsage(c0);
      times.push(h.found ? h.seconds : null);
      cs.push(h.found ? (c.user + c.system) / 1e6 : null);
      rk.push(h.seed !== null ? (h.seed - k) / hunts + 1 : null); // shard k/n: seeds k, k+n, ...
    }
    all[s] = times;
    ranks[s] = rk;
    cpu[s] = median(cs);
    medians[s] = median(times);
  }
  const found = STRATEGY_NAMES.filter((s) => medians[s] !== null).sort((a, b) => medians[a]! - medians[b]!);
  const r: StrategyRaceTimes = { race: id, medians, hunts: all, ranks, cpu_medians: cpu, best: found[0] ?? null };
  log(`bench: ${id}: ${STRATEGY_NAMES.map((s) => `${s} ${fmt(medians[s])} (seed ranks ${ranks[s].map((x) => x ?? '-').join('/')})`).join(', ')}; best ${r.best ?? 'none'}`);
  return r;
}

/** Every race of `ids`, every strategy. */
export async function measureStrategyTimes(ids: readonly string[], opts: Pick<BenchOptions, 'quick' | 'log'>): Promise<StrategyTimes> {
  const hunts = opts.quick ? 1 : 3;
  const cap = opts.quick ? { seeds: STRATEGY_HUNT_CAP.quickSeeds, seconds: STRATEGY_HUNT_CAP.quickSeconds } : { seeds: STRATEGY_HUNT_CAP.seeds, seconds: STRATEGY_HUNT_CAP.seconds };
  const races: StrategyRaceTimes[] = [];
  for (const [i, id] of ids.entries()) {
    opts.log(`bench: time to find ${id} (${i + 1}/${ids.length}) with ${STRATEGY_NAMES.join(', ')}, ${hunts} hunt${hunts > 1 ? 's' : ''} each ...`);
    races.push(await raceStrategyTimes(id, hunts, cap, opts.log));
  }
  return { hunts, cap: { ...cap, jobs: JOBS }, races };
}

/** The entries of a measurement: one per race, then the summary. */
export function strategyEntries(t: StrategyTimes): BenchEntry[] {
  const how = `median of ${t.hunts} hunt${t.hunts > 1 ? 's' : ''} (${t.cap.jobs} jobs, each capped at ${t.cap.seeds} seeds / ${t.cap.seconds} s)`;
  const entries: BenchEntry[] = t.races.map((r) => {
    const value = r.best ? r.medians[r.best]! : NaN;
    const baseline = r.medians.random ?? NaN;
    return {
      name: `time_to_find_${r.race}`, value, unit: `s (${r.best ?? 'none'})`, baseline, ratio: baseline / value,
      goal: 'value < 1 s: the best strategy finds the race within a second of search',
      note: `best ${r.best ?? 'none (no strategy found it within the cap)'}; ${STRATEGY_NAMES.map((s) => `${s} ${fmt(r.medians[s])} (CPU ${fmt(r.cpu_medians[s])}; finding seed's rank in its shard: ${r.ranks[s].map((x) => x ?? '-').join('/')})`).join(', ')}; ${how}; baseline: random`,
    };
  });
  const bestOf = t.races.map((r) => (r.best ? r.medians[r.best]! : Infinity));
  const rndOf = t.races.map((r) => r.medians.random ?? Infinity);
  const worst = Math.max(...bestOf), worstRnd = Math.max(...rndOf);
  const under = bestOf.filter((x) => x < 1).length;
  const wins = STRATEGY_NAMES.map((s) => `${s} ${t.races.filter((r) => r.best === s).length}`).join(', ');
  const over = t.races.filter((_, i) => bestOf[i] >= 1).map((r) => `${r.race} ${fmt(r.best ? r.medians[r.best] : null)}`);
  entries.push({
    name: 'strategy_time_to_find', value: Number.isFinite(worst) ? worst : NaN, unit: 's (slowest race, best strategy)',
    baseline: Number.isFinite(worstRnd) ? worstRnd : NaN, ratio: worstRnd / worst,
    goal: 'value < 1 s: the best strategy finds every race within a second of search',
    note: `${under} of ${t.races.length} races under 1 s; best per race: ${wins}; ${over.length ? `1 s or more: ${over.join(', ')}` : 'none at 1 s or more'}; ${how}; baseline: the slowest race's random median`,
  });
  return entries;
}

/** The races this entry measures: all in the catalogue (--quick: QUICK_RACES), or those `keep` keeps. */
export function strategyRaces(quick: boolean, keep: (r: (typeof RACES)[number]) => boolean = () => true): string[] {
  return RACES.filter((r) => (quick ? QUICK_RACES.includes(r.id) : true) && keep(r)).map((r) => r.id);
}

/** The environment variable that restricts the per-race entries (strategies, shrink) to some races. */
export const BENCH_RACES_ENV = 'HINTSIM_BENCH_RACES';

/**
 * HINTSIM_BENCH_RACES=id,id (bench only): the `strategies` and `shrink` entries measure only
 * these races, for work on a few of them (each entry takes minutes over the whole catalogue).
 * Unset or empty: every race. An unknown id is a usage error naming the accepted ones.
 */
export function benchRaceFilter(env: string | undefined = process.env[BENCH_RACES_ENV]): (r: { id: string }) => boolean {
  if (env === undefined || env.trim() === '') return () => true;
  const ids = env.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const id of ids) {
    if (!RACES.some((r) => r.id === id)) throw new UsageError(`${BENCH_RACES_ENV}: unknown race '${id}'; accepted: ${RACES.map((r) => r.id).join(', ')}`);
  }
  return (r) => ids.includes(r.id);
}

/** The text table: one row per race, every strategy's median, the best named. */
export function formatStrategyTimes(t: StrategyTimes): string[] {
  const w = Math.max(4, ...t.races.map((r) => r.race.length));
  const lines = [`  time to find per strategy (sim, median of ${t.hunts} hunt${t.hunts > 1 ? 's' : ''}, each capped at ${t.cap.seeds} seeds / ${t.cap.seconds} s, ${t.cap.jobs} jobs; - not found)`];
  lines.push(`    ${'race'.padEnd(w)}  ${STRATEGY_NAMES.map((s) => s.padStart(7)).join(' ')}  best`);
  for (const r of t.races) {
    const cells = STRATEGY_NAMES.map((s) => (r.medians[s] === null ? '-' : `${r.medians[s]!.toFixed(2)}`).padStart(7)).join(' ');
    lines.push(`    ${r.race.padEnd(w)}  ${cells}  ${r.best ?? 'none'}${r.best && r.medians[r.best]! >= 1 ? ' (1 s or more)' : ''}`);
  }
  return lines;
}

/** The entry's run: every race (--quick: QUICK_RACES; HINTSIM_BENCH_RACES: those), entries and the report's table. */
export async function strategyTimes(b: { opts: BenchOptions; entries: BenchEntry[]; strategies?: StrategyTimes }): Promise<void> {
  const t = await measureStrategyTimes(strategyRaces(b.opts.quick, benchRaceFilter()), b.opts);
  b.strategies = t;
  b.entries.push(...strategyEntries(t));
}
