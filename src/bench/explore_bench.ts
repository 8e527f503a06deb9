/**
 * The bench entries of issue 15 (registered in bench.ts with one line):
 *  - check_reduction: schedules `hintsim check` explores on a small fixed ground at bound 2
 *    with DPOR and sleep sets vs without (--no-reduction); the same visited-state table both
 *    times (and, in the note, DPOR without happens-before). Goal of the issue: 10x fewer.
 *  - check_grounds (long): the free-vs-discard grounds (discard-get-page, discard-grace) as
 *    `hintsim check ID` runs them: with the fix off, bounds 0..2 until the violation (its
 *    least preemption bound); with every fix on, bound 2 within 600 s. One entry per race:
 *    value the fixed search's wall time, baseline the fix-off find's in the same run; met
 *    when the fixed search is exhausted within 600 s and the fix-off one finds the race.
 *  - strategies (bench/strategy_bench.ts): time to find every race per sim strategy (median of
 *    3 hunts), the best named per race.
 */
import type { BenchEntry, BenchOptions } from './bench.js';
import { check, checkOps, checkSeed } from '../explore/check.js';
import { strategyTimes } from './strategy_bench.js';

interface Run { opts: BenchOptions; entries: BenchEntry[] }

async function checkReduction(b: Run): Promise<void> {
  const ops = b.opts.quick ? 4 : 8;
  b.opts.log(`bench: check discard-get-page --fixed, bound 2, ${ops} ops, with and without reduction ...`);
  const base = { id: 'discard-get-page', fixed: true, preemptions: 2, ops, cpus: 2, seconds: 600, seed: 1 };
  const on = await check({ ...base, reduce: true });
  const noHb = await check({ ...base, reduce: true, hb: false });
  const off = await check({ ...base, reduce: false });
  b.entries.push({
    name: 'check_reduction', value: on.schedules, unit: 'schedules', baseline: off.schedules, ratio: off.schedules / Math.max(on.schedules, 1),
    goal: 'ratio >= 10 (DPOR + sleep sets: 10x fewer schedules)',
    note: `discard-get-page every fix on, 2 CPUs, ${ops} ops, bound 2: ${on.schedules} schedules / ${on.states} states in ${on.seconds.toFixed(1)} s` +
      ` (${on.exhausted ? 'exhausted' : 'NOT exhausted'}) vs ${off.schedules} / ${off.states} in ${off.seconds.toFixed(1)} s without (${off.exhausted ? 'exhausted' : 'NOT exhausted'});` +
      ` DPOR without its happens-before refinement: ${noHb.schedules} schedules`,
  });
}

/** Seconds the fixed bound-2 search of a free-vs-discard ground may take (the issue's goal). */
const GROUND_SECONDS = 600;

async function checkGrounds(b: Run): Promise<void> {
  for (const id of ['discard-get-page', 'discard-grace']) {
    const base = { id, preemptions: 2, ops: checkOps(id), cpus: 2, seed: checkSeed(id), reduce: true };
    b.opts.log(`bench: check ${id} (${base.ops} ops, seed ${base.seed}): fix off, bounds 0..2 ...`);
    const off = await check({ ...base, fixed: false, seconds: GROUND_SECONDS });
    b.opts.log(`bench: check ${id} --fixed, bound 2, at most ${GROUND_SECONDS} s ...`);
    const on = await check({ ...base, fixed: true, seconds: GROUND_SECONDS });
    const found = off.violation !== null;
    b.entries.push({
      name: `check_${id}`, value: on.seconds, unit: 's', baseline: off.seconds, ratio: on.seconds / Math.max(off.seconds, 1e-3),
      goal: `every fix on: bound 2 exhausted within ${GROUND_SECONDS} s on 2 CPUs; fix off: found, with its least preemption bound`,
      met: on.exhausted && on.seconds <= GROUND_SECONDS && found,
      note: `${base.ops} ops, seed ${base.seed}, 2 CPUs. Every fix on, bound 2: ${on.schedules} schedules, ${on.states} states, ${on.seconds.toFixed(1)} s, ` +
        `${on.exhausted ? 'exhausted (clean)' : on.violation ? `VIOLATION ${on.violation.oracle}` : 'NOT exhausted'}. Fix off: ` +
        (found ? `${off.violation!.oracle} found after ${off.schedules} schedules in ${off.seconds.toFixed(1)} s, least preemption bound ${off.least_preemptions ?? '? (a smaller bound was not exhausted)'}` :
          `not found (${off.schedules} schedules, ${off.seconds.toFixed(1)} s)`),
    });
  }
}

export const EXPLORE_BENCH = [
  { name: 'check', what: 'hintsim check: schedules explored with DPOR and sleep sets vs without, discard-get-page fixed, bound 2', run: checkReduction },
  { name: 'check_grounds', long: true, what: `hintsim check on the free-vs-discard grounds: fix off found (least bound), every fix on bound 2 exhausted within ${GROUND_SECONDS} s`, run: checkGrounds },
  { name: 'strategies', long: true, what: 'time to find every race per sim strategy (random, pct, pos, surw; median of 3 hunts each, sim mode); names the best per race', run: strategyTimes },
];
