/**
 * The bench entries of issue 15 (registered in bench.ts with one line):
 *  - check_reduction: schedules `hintsim check` explores on a small fixed ground at bound 2
 *    with DPOR and sleep sets vs without (--no-reduction); the same visited-state table both
 *    times. Goal of the issue: 10x fewer.
 *  - strategy_time_to_find: median hunt time (3 hunts, seed shards 1/3..3/3) per strategy for
 *    the free-vs-discard races; the entry compares the best strategy with random and its note
 *    names the best per race and every median.
 */
import type { BenchEntry, BenchOptions } from './bench.js';
import { check } from '../explore/check.js';
import { hunt } from '../explore/hunt.js';
import { STRATEGY_NAMES } from '../sim/strategies/index.js';
import type { Strategy } from '../machine/config.js';

interface Run { opts: BenchOptions; entries: BenchEntry[] }

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

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

async function strategyTimes(b: Run): Promise<void> {
  const hunts = b.opts.quick ? 1 : 3;
  const races = ['discard-get-page', 'discard-grace'];
  const notes: string[] = [];
  let best = Infinity, rnd = 0;
  for (const id of races) {
    const med: Record<string, number | null> = {};
    for (const s of STRATEGY_NAMES) {
      b.opts.log(`bench: time to find ${id} with --strategy ${s} ...`);
      const times: number[] = [];
      for (let k = 1; k <= hunts; k++) {
        const h = await hunt({ id, seeds: 300, seconds: 60, jobs: 2, shard: [k, hunts], mode: 'sim', strategy: s as Strategy, depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: false, corpus: null });
        if (h.found) times.push(h.seconds);
      }
      med[s] = median(times);
    }
    const found = Object.entries(med).filter((e): e is [string, number] => e[1] !== null).sort((a, b) => a[1] - b[1]);
    if (found.length) best = Math.min(best, found[0][1]);
    rnd = Math.max(rnd, med.random ?? 0);
    notes.push(`${id}: best ${found[0]?.[0] ?? 'none'}; ${Object.entries(med).map(([s, t]) => `${s} ${t === null ? 'not found' : `${t.toFixed(2)} s`}`).join(', ')}`);
  }
  b.entries.push({
    name: 'strategy_time_to_find', value: best, unit: 's (median hunt)', baseline: rnd, ratio: rnd / Math.max(best, 1e-9),
    goal: 'value < 1 s: the best strategy finds each race within a second of search', note: notes.join('; '),
  });
}

export const EXPLORE_BENCH = [
  { name: 'check', what: 'hintsim check: schedules explored with DPOR and sleep sets vs without, discard-get-page fixed, bound 2', run: checkReduction },
  { name: 'strategies', long: true, what: 'time to find discard-get-page and discard-grace per sim strategy (median of 3 hunts each); names the best', run: strategyTimes },
];
