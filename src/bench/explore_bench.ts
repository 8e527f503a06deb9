/**
 * The bench entries of issue 15 (registered in bench.ts with one line):
 *  - check_reduction: schedules `hintsim check` explores on a small fixed ground at bound 2
 *    with DPOR and sleep sets vs without (--no-reduction); the same visited-state table both
 *    times. Goal of the issue: 10x fewer.
 *  - strategies (bench/strategy_bench.ts): time to find every race per sim strategy (median of
 *    3 hunts), the best named per race.
 */
import type { BenchEntry, BenchOptions } from './bench.js';
import { check } from '../explore/check.js';
import { strategyTimes } from './strategy_bench.js';

interface Run { opts: BenchOptions; entries: BenchEntry[] }

async function checkReduction(b: Run): Promise<void> {
  const ops = b.opts.quick ? 4 : 8;
  b.opts.log(`bench: check discard-get-page --fixed, bound 2, ${ops} ops, with and without reduction ...`);
  const base = { id: 'discard-get-page', fixed: true, preemptions: 2, ops, cpus: 2, seconds: 600, seed: 1 };
  const on = await check({ ...base, reduce: true });
  const off = await check({ ...base, reduce: false });
  b.entries.push({
    name: 'check_reduction', value: on.schedules, unit: 'schedules', baseline: off.schedules, ratio: off.schedules / Math.max(on.schedules, 1),
    goal: 'ratio >= 10 (DPOR + sleep sets: 10x fewer schedules)',
    note: `discard-get-page every fix on, 2 CPUs, ${ops} ops, bound 2: ${on.schedules} schedules / ${on.states} states in ${on.seconds.toFixed(1)} s` +
      ` (${on.exhausted ? 'exhausted' : 'NOT exhausted'}) vs ${off.schedules} / ${off.states} in ${off.seconds.toFixed(1)} s without (${off.exhausted ? 'exhausted' : 'NOT exhausted'})`,
  });
}

export const EXPLORE_BENCH = [
  { name: 'check', what: 'hintsim check: schedules explored with DPOR and sleep sets vs without, discard-get-page fixed, bound 2', run: checkReduction },
  { name: 'strategies', long: true, what: 'time to find every race per sim strategy (random, pct, pos, surw; median of 3 hunts each, sim mode); names the best per race', run: strategyTimes },
];
