/**
 * Issue 13: the soak failures with every fix on, kept as regression tests.
 *
 * - test/cases/soak-sim-liveness.replay.json (and the second sim soak's run): a livelock
 *   of the pct strategy, not of the model: when every runnable participant was spinning,
 *   pct chose among them by priority, so the two highest spinners handed the baton back
 *   and forth while the one that could progress (CPU 3, priority 0, in the middle of a
 *   truncation the others waited for) never ran again. Now spinners are tried in turn.
 * - test/cases/soak-threads-bug_on.replay.json: a hole in R19's fix (R19b,
 *   `volatile-recheck`): make_volatile read the flags before the counts, so it could miss
 *   msync's PG_dirty (set just before msync dropped its extra reference) and make a dirty
 *   page P with a clean change bit; the host discarded it. Reproduced deterministically
 *   by a sim hunt with the fix off; the same seed is clean with it on.
 * - A third soak failure, "256 faults in a row on one access": two CPUs truncating one file
 *   at once made truncate_count even in the middle of the first truncation, so a fault
 *   mapped the page behind its unmap pass and the page left the cache under a live pte.
 *   Truncations of a file are serialised now (truncate_count's writer side is a lock, as
 *   i_mutex is in Linux). A sim run with the soak run's options shows it on the old model.
 * - A fourth, a lost write (integrity) with hinting unused or full: the s390 SetPageUptodate
 *   of the era set PG_uptodate before it cleared the change bit, so another CPU could map the
 *   page, write, and have its write wiped out (R34, `uptodate-clear-order`). The change bit
 *   is cleared first now. Its hunting ground at seed 87 (model 3; 62 on model 2) shows it with the fix off.
 * Both files were written by model 1 and are refused as another model version; so is a
 * model-2 file (test/cases/model2-discard-get-page.replay.json, the golden replay of model 2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { findRace, raceRunOptions } from '../src/explore/hunt.js';
import { fromReplayOptions, MODEL_VERSION, type ReplayFile } from '../src/explore/replay_file.js';
import { runMachine } from '../src/machine/run.js';
import { cli } from './helpers/cli.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';

const root = join(import.meta.dirname, '..');
const caseFile = (name: string): ReplayFile => JSON.parse(readFileSync(join(root, 'test/cases', name), 'utf8')) as ReplayFile;

releaseWorkersAfterEach();

describe('soak regressions (issue 13)', () => {
  it('the model-1 case files are refused as another model version, naming the command that reruns them', async () => {
    for (const name of ['soak-sim-liveness.replay.json', 'soak-threads-bug_on.replay.json']) {
      const r = await cli('replay', join('test/cases', name));
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`was recorded by model 1 and this hintsim runs model ${MODEL_VERSION}`);
      expect(lines[0]).toContain(`hintsim run file-churn --seed ${caseFile(name).seed}`);
    }
  }, 60_000);

  it.each([
    { model: 2, what: 'before the minor-fault optimisation', seed: 1 },
    { model: 3, what: 'before the high-order pcp lists', seed: 2 },
  ])('a model-$model replay file ($what) is refused the same way, naming hunt and the rerun command', async ({ model, seed }) => {
    const r = await cli('replay', `test/cases/model${model}-discard-get-page.replay.json`);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`was recorded by model ${model} and this hintsim runs model ${MODEL_VERSION}`);
    expect(lines[0]).toContain('hintsim hunt discard-get-page');
    expect(lines[0]).toContain(`hintsim run mixed --seed ${seed} `);
  }, 60_000);

  it('sim soak livelock (pct with every participant spinning): both soak runs now finish clean', async () => {
    const a: RunOptions = fromReplayOptions(caseFile('soak-sim-liveness.replay.json').options, caseFile('soak-sim-liveness.replay.json').seed, null);
    // the second sim soak's failing run (stress seed 721898881, run 19)
    const b: RunOptions = {
      ...DEFAULTS, workload: 'mixed', seed: 1184401880, cpus: 4, memBytes: 8 << 20, hostMemBytes: 4 << 20, ops: 3442, mode: 'sim',
      strategy: 'pct', depth: 3, hinting: 'full', inject: ['stall-fault', 'stall-volatile', 'host-reclaim-touched', 'free-burst'],
      workloadOptions: { files: 1, file_pages: 20, writable_pct: 99, private_pct: 0, idle_pct: 28, idle_len: 596, mlock_pct: 0, lazy_volatile: 29, anon_pct: 87 },
    };
    for (const o of [a, b]) {
      const r = await runMachine(o);
      expect(r.violations).toEqual([]);
      expect(r.ops).toBe(o.ops); // every op ran: nobody was left spinning
      expect(r.schedule?.complete).toBe(true);
    }
  }, 120_000);

  it('volatile-recheck (R19b): its hunting ground at seed 57 (the first seed a hunt finds) fails with the fix off and is clean with it on', async () => {
    // test/races.test.ts hunts the race from seed 1; this pins the seed it finds so the fixed
    // control runs the very schedule that breaks the unfixed model.
    const race = findRace('volatile-recheck');
    const unfixed = await runMachine(raceRunOptions(race, { mode: 'sim', strategy: 'random', depth: 3, cpus: null, fixed: false }, 57));
    expect(unfixed.violations[0]?.oracle).toBe('bug_on');
    expect(unfixed.violations[0]?.message).toMatch(/^page_discard: discarded page is dirty, under writeback or private; .*flags=locked\|uptodate\|dirty\|lru\|writable/);
    const fixed = await runMachine(raceRunOptions(race, { mode: 'sim', strategy: 'random', depth: 3, cpus: null, fixed: true }, 57));
    expect(fixed.violations).toEqual([]);
    expect(fixed.counters.msyncs).toBeGreaterThan(0);
    expect(fixed.counters.host_discards).toBeGreaterThan(0);
  }, 120_000);

  it('truncate vs truncate (256 faults in a row on one access): the soak run\'s options in sim mode, seeds 20 and 36, finish clean', async () => {
    // On the model before the fix both seeds report bug_on "file 0 index N: 256 faults in a
    // row on one read (a mapped page that is in no cache?)".
    for (const seed of [20, 36]) {
      const r = await runMachine({
        ...DEFAULTS, workload: 'file-churn', seed, cpus: 4, memBytes: 1 << 20, hostMemBytes: 64 << 10, ops: 6000, mode: 'sim',
        hinting: 'full', batch: false, inject: ['stall-volatile', 'host-reclaim-touched', 'free-burst'],
        workloadOptions: { files: 1, file_pages: 4, private_pct: 75, anon_mem_pct: 49, idle_len: 16, anon_wave: 0, anon_pct: 0 },
      });
      expect(r.violations).toEqual([]);
      expect(r.ops).toBe(6000);
      expect(r.counters.truncates).toBeGreaterThan(100);
    }
  }, 120_000);

  it('uptodate-clear-order (R34): its hunting ground at seed 87 loses a write with the fix off and is clean with it on', async () => {
    // seed 87: the one the model-3 golden hunt found (62 on model 2, before the minor-fault optimisation)
    const race = findRace('uptodate-clear-order');
    const unfixed = await runMachine(raceRunOptions(race, { mode: 'sim', strategy: 'random', depth: 3, cpus: null, fixed: false }, 87));
    expect(unfixed.violations[0]?.oracle).toBe('integrity');
    expect(unfixed.violations[0]?.message).toMatch(/a write was lost/);
    const fixed = await runMachine(raceRunOptions(race, { mode: 'sim', strategy: 'random', depth: 3, cpus: null, fixed: true }, 87));
    expect(fixed.violations).toEqual([]);
    expect(fixed.counters.file_writes).toBeGreaterThan(1000);
  }, 120_000);
});
