/**
 * Shrinking (src/explore/shrink.ts): the free-vs-discard race found by the random strategy
 * shrinks to a handful of decisions on a short run, and the shrunk options and schedule
 * replay the same violation exactly.
 */
import { describe, expect, it } from 'vitest';
import { findRace, raceRunOptions } from '../src/explore/hunt.js';
import { DEFAULT_SHRINK_SECONDS, localRunner, preemptionsOf, shrinkSchedule } from '../src/explore/shrink.js';
import { runMachine } from '../src/machine/run.js';
import { setWorkerReuse } from '../src/machine/worker_pool.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';
import { cli } from './helpers/cli.js';

releaseWorkersAfterEach();

describe('shrink', () => {
  it('discard-get-page: from thousands of decisions to at most 14 on a shorter run, and the result replays exactly', async () => {
    setWorkerReuse(true);
    const race = findRace('discard-get-page');
    const opts = raceRunOptions(race, { mode: 'sim', strategy: 'random', depth: 3, cpus: null, fixed: false }, 2); // seed 2 fails at 5000 ops
    const rec = await runMachine({ ...opts, recordSchedule: true });
    const v = rec.violations.find((x) => x.oracle === 'refcount')!;
    expect(v).toBeDefined();
    const sched = { first: rec.schedule!.first, decisions: rec.schedule!.decisions ?? [] };
    expect(sched.decisions.length).toBeGreaterThan(1000);
    // a cap far above what it needs (about 10 s idle): the shrink ends when nothing more comes off
    const s = await shrinkSchedule(opts, sched, 'refcount', rec, 180, (x) => x.oracle === 'refcount' && x.pfn >= 0, localRunner((x) => x.oracle === 'refcount' && x.pfn >= 0));
    expect(s).not.toBeNull();
    expect(s!.schedule.decisions.length).toBeLessThanOrEqual(14);
    expect(s!.steps).toBeLessThan(rec.schedule!.steps);
    expect(s!.preemptions).toBe(preemptionsOf(s!.schedule));
    expect(s!.violation.race).toBe('discard-get-page');
    // the shrunk ground and schedule (keyed, as a replay file holds it) give the same violation at the same step
    const again = await runMachine({ ...s!.opts, schedule: s!.schedule });
    const w = again.violations.find((x) => x.oracle === 'refcount');
    expect(w?.step).toBe(s!.violation.step);
    expect(w?.pfn).toBe(s!.violation.pfn);
  }, 240_000);

  it('stress shrinks each failure with the budget hunt uses (the one the shrunk-length goals are measured with)', async () => {
    const [h, st] = [await cli('hunt', '--help'), await cli('stress', '--help')];
    const def = (text: string): string | undefined => /--shrink-seconds <s>[\s\S]*?\(default: "(\d+)"\)/.exec(text)?.[1];
    expect(def(h.stdout)).toBe(String(DEFAULT_SHRINK_SECONDS));
    expect(def(st.stdout)).toBe(String(DEFAULT_SHRINK_SECONDS));
  });
});
