/**
 * `hintsim bench --only shrink`: how short the shrunk counterexamples are (issue 16's goals:
 * discard-get-page <= 14 decisions, discard-grace <= 18, every other ESSA race <= 50, every
 * race <= 100). For each reproduced race: one sim hunt, then shrinking with the hunt's default
 * budget (DEFAULT_SHRINK_SECONDS, a cap; HINTSIM_BENCH_RACES=id,id: only those races); each entry is the shrunk schedule's decisions against the recorded
 * schedule's, the same run's, with the scheduling steps of both in the note.
 */
import { RACES } from '../core/races.js';
import { DEFAULT_JOBS, hunt } from '../explore/hunt.js';
import { DEFAULT_SHRINK_SECONDS, preemptionsOf } from '../explore/shrink.js';
import { decodeSchedule } from '../sim/schedule.js';
import type { BenchEntry, BenchOptions } from './bench.js';
import { benchRaceFilter } from './strategy_bench.js';

/** Shrink budget per race: hunt's default --shrink-seconds (a cap: a shrink stops when nothing more comes off). */
export const SHRINK_BENCH_SECONDS = DEFAULT_SHRINK_SECONDS;

/** The decisions goal of a race. */
function goalOf(id: string, host: string): number {
  return id === 'discard-get-page' ? 14 : id === 'discard-grace' ? 18 : host === 'essa' ? 50 : 100;
}

export async function benchShrink(b: { opts: BenchOptions; entries: BenchEntry[] }): Promise<void> {
  const keep = benchRaceFilter(); // HINTSIM_BENCH_RACES=id,id: only those
  const races = RACES.filter((r) => r.reproduced && keep(r) && (!b.opts.quick || r.id === 'discard-get-page' || r.id === 'discard-grace'));
  for (const r of races) {
    b.opts.log(`bench: shrink ${r.id} ...`);
    const t0 = performance.now();
    const h = await hunt({ id: r.id, seeds: 400, seconds: 60, jobs: DEFAULT_JOBS(), shard: [1, 1], mode: 'sim', strategy: 'random', depth: 3, cpus: null, shrink: true, shrinkSeconds: SHRINK_BENCH_SECONDS, fixed: false });
    const s = h.replay?.shrink;
    if (!h.found || !s) {
      b.entries.push({ name: `shrink_${r.id}`, value: NaN, unit: 'decisions', baseline: NaN, ratio: NaN, goal: `value <= ${goalOf(r.id, r.host)} decisions`, note: h.found ? 'found, but its replay did not reproduce: not shrunk' : `not found in ${h.seeds_tried} seeds` });
      continue;
    }
    const goal = goalOf(r.id, r.host);
    b.entries.push({
      name: `shrink_${r.id}`, value: s.decisions_after, unit: 'decisions', baseline: s.decisions_before, ratio: s.decisions_after / Math.max(1, s.decisions_before),
      goal: `value <= ${goal} decisions`, // judged by the bench (goalMet), marked UNMET in the text
      note: `seed ${h.seed} (shrunk run: seed ${h.replay!.seed}); scheduling steps ${s.steps_before} recorded -> ${s.steps_after} shrunk; preemptions ${preemptionsOf(decodeSchedule(h.replay!.schedule)!)}; hunt+shrink ${((performance.now() - t0) / 1000).toFixed(1)} s (${r.host} host)`,
    });
  }
}
