/**
 * bench's `strategies` entry (bench/strategy_bench.ts): per race, every strategy's median time
 * to find and the best one named, in the JSON entries, the report's table and the text. The
 * times themselves are never checked (bench is not part of the test run): the quick run's two
 * races, one hunt per strategy, show the shape; the medians' rules are checked on given hunts.
 */
import { describe, expect, it } from 'vitest';
import { formatBench, type BenchReport } from '../src/bench/bench.js';
import { BENCH_RACES_ENV, QUICK_RACES, benchRaceFilter, strategyEntries, strategyRaces, type StrategyTimes } from '../src/bench/strategy_bench.js';
import { STRATEGY_NAMES } from '../src/sim/strategies/index.js';
import { cli, expectUsageErrors } from './helpers/cli.js';

describe('bench --only strategies', () => {
  it('--quick: one entry per race naming the best strategy and every median, a summary, the table in the text', async () => {
    const r = await cli('bench', '--only', 'strategies', '--quick', '--json', { timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as BenchReport;
    expect(j.entries.map((e) => e.name)).toEqual([...QUICK_RACES.map((id) => `time_to_find_${id}`), 'strategy_time_to_find']);
    const t = j.strategies!;
    expect(t.hunts).toBe(1);
    expect(t.races.map((x) => x.race)).toEqual(QUICK_RACES);
    for (const [i, race] of t.races.entries()) {
      expect(Object.keys(race.medians)).toEqual([...STRATEGY_NAMES]);
      // Both quick races are found in a few seeds by at least one strategy: a best is named,
      // and it is the strategy with the least median.
      expect(STRATEGY_NAMES).toContain(race.best);
      const found = STRATEGY_NAMES.map((s) => race.medians[s]).filter((m): m is number => m !== null);
      expect(race.medians[race.best!]).toBe(Math.min(...found));
      const e = j.entries[i];
      expect(e.value).toBe(race.medians[race.best!]);
      expect(e.unit).toContain(race.best!);
      expect(e.note).toMatch(new RegExp(`^best ${race.best};`));
      for (const s of STRATEGY_NAMES) expect(e.note).toContain(`${s} `);
      expect(e.met).toBe(e.value < 1);
      for (const s of STRATEGY_NAMES) if (race.ranks[s][0] !== null) expect(race.ranks[s][0]).toBeGreaterThanOrEqual(1);
    }
    const text = formatBench(j);
    for (const race of t.races) expect(text).toMatch(new RegExp(`^ {4}${race.race} .* ${race.best}( \\(1 s or more\\))?$`, 'm'));
    expect(text).toMatch(/race +random +pct +pos +surw +best/);
  }, 200_000);

  it('medians count a miss as slower than any time; the best is the least median; the summary takes the slowest race', () => {
    const t: StrategyTimes = {
      hunts: 3, cap: { seeds: 400, seconds: 4, jobs: 2 },
      races: [
        { race: 'a', medians: { random: 0.8, pct: null, pos: 0.5, surw: 2 }, hunts: {}, ranks: { random: [1, 2, 1], pct: [null, null], pos: [1, 1, 1], surw: [3, 4, 9] }, cpu_medians: { random: 1.4, pct: null, pos: 0.9, surw: 3 }, best: 'pos' },
        { race: 'b', medians: { random: null, pct: 1.5, pos: null, surw: null }, hunts: {}, ranks: { random: [null, null], pct: [5, 6, 7], pos: [null, null], surw: [null, null] }, cpu_medians: { random: null, pct: 2.8, pos: null, surw: null }, best: 'pct' },
      ],
    };
    const [a, b, sum] = strategyEntries(t);
    expect(a).toMatchObject({ name: 'time_to_find_a', value: 0.5, baseline: 0.8, ratio: 0.8 / 0.5 });
    expect(a.note).toContain('pct not found');
    expect(b.name).toBe('time_to_find_b');
    expect(b.value).toBe(1.5);
    expect(b.baseline).toBeNaN(); // random did not find it: no baseline
    expect(sum).toMatchObject({ name: 'strategy_time_to_find', value: 1.5 });
    expect(sum.note).toMatch(/^1 of 2 races under 1 s; best per race: random 0, pct 1, pos 1, surw 0; 1 s or more: b 1\.50 s;/);
  });

  it('HINTSIM_BENCH_RACES restricts the per-race entries to the races it names; an unknown id is a usage error', async () => {
    expect(strategyRaces(false, benchRaceFilter(' state-change-lock,msync-revolatile '))).toEqual(['msync-revolatile', 'state-change-lock']); // catalogue order
    expect(strategyRaces(false, benchRaceFilter(''))).toEqual(strategyRaces(false));
    expect(() => benchRaceFilter('msync-revolatile,nope')).toThrow(/^HINTSIM_BENCH_RACES: unknown race 'nope'; accepted: discard-get-page, /);
    const r = await cli('bench', '--only', 'shrink', { env: { [BENCH_RACES_ENV]: 'nope' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--only accepts the entry and names it among the accepted ones when misspelt', async () => {
    await expectUsageErrors([[['bench', '--only', 'strategy'], "--only: unknown entry 'strategy'; accepted: "]]);
    const r = await cli('bench', '--list');
    expect(r.stdout).toMatch(/^strategies +time to find every race per sim strategy .*long/m);
  });
});
