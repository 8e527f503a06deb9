/**
 * The Xen paging host (--host xenpaging): each listed X race is found by a bounded sim
 * hunt with its fix off and named by its oracle; with every fix on the hunting grounds run
 * clean in sim and threads mode; sim mode stays a pure function of the seed with the
 * pager and dom0 taking part; a found race replays exactly; compare gains a Xen row; bad
 * input is one line and exit 2.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../src/bench/compare.js';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { hunt, raceRunOptions } from '../src/explore/hunt.js';
import { fromReplayOptions } from '../src/explore/replay_file.js';
import { runMachine } from '../src/machine/run.js';
import { releaseIdleWorkers, setWorkerReuse, workersStarted } from '../src/machine/worker_pool.js';
import { RACES } from '../src/core/races.js';
import { cli } from './helpers/cli.js';
import { releaseWorkersAfterEach, stable } from './helpers/machine.js';


/** The races issue 7 asks for (and X4), by catalogue number. */
const LISTED: Record<string, string> = {
  X1: 'xp-evict-recount', X2: 'xp-populate-paging-out', X3: 'xp-answer-evict-fail', X4: 'xp-scrub-after-evict', X5: 'xp-load-before-publish',
  X6: 'xp-populate-only-from-paged', X8: 'xp-ring-reserve', X9: 'xp-answer-drops', X11: 'xp-map-first',
};
const race = (id: string) => RACES.find((r) => r.id === id)!;
const sim = { mode: 'sim' as const, strategy: 'random' as const, depth: 3, cpus: null, fixed: true };

releaseWorkersAfterEach();

describe('xenpaging host', () => {
  it('the catalogue lists X1 X2 X3 X4 X5 X6 X8 X9 X11 as races of the xenpaging host, and `hintsim races` says so', async () => {
    for (const [x, id] of Object.entries(LISTED)) {
      const r = race(id);
      expect(r, id).toBeDefined();
      expect(r.catalogue).toBe(x);
      expect(r.host).toBe('xenpaging');
      expect(r.reproduced).toBe(true);
    }
    const out = await cli('races');
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('xp-map-first  (X11, xenpaging host)');
    expect(out.stdout).toMatch(/discard-get-page {2}\(R1, essa host\)/);
  });

  for (const [x, id] of Object.entries(LISTED)) {
    it(`hunt ${id} (${x}): its fix off, a bounded sim hunt on the xenpaging host finds the ${race(id).oracle} oracle`, async () => {
      const h = await hunt({ id, seeds: 16, seconds: 60, jobs: 2, shard: [1, 1], mode: 'sim', strategy: 'random', depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: false });
      expect(h.found, `${id}: not found in ${h.seeds_tried} seeds`).toBe(true);
      expect(h.violation?.oracle).toBe(race(id).oracle);
      expect(h.replay?.options.host).toBe('xenpaging');
      expect(h.replay?.options.unfix).toContain(id);
    }, 90_000);
  }

  it('with every fix on, each hunting ground runs clean in sim mode: pages go out and come back, nothing is left unanswered', async () => {
    const grounds = ['xp-map-first', 'xp-populate-paging-out', 'xp-populate-only-from-paged', 'xp-ring-reserve', 'xp-answer-drops'];
    for (const id of grounds) {
      for (const seed of [1, 2]) {
        const r = await runMachine(raceRunOptions(race(id), sim, seed));
        expect(r.violations, `${id} seed ${seed}`).toEqual([]);
        const x = r.xen!;
        expect(r.counters.host_pageouts).toBeGreaterThan(0);
        expect(r.counters.host_pageins).toBeGreaterThan(0);
        expect(x.counters.vcpu_pauses).toBeGreaterThan(0);
        expect(x.ring_unanswered).toBe(0);
        expect(x.p2m.paging_out ?? 0).toBe(0);
        expect(x.p2m.paging_in ?? 0).toBe(0);
        expect(x.paged_pages).toBe(0); // the pager paged everything back when it stopped
      }
    }
  }, 120_000);

  it('with every fix on, threads mode runs clean for a few seconds (real parallel vCPUs, pager, dom0 and balloon)', async () => {
    const o: RunOptions = { ...raceRunOptions(race('xp-answer-drops'), { ...sim, mode: 'threads' }, 3), ringSlots: 64, seconds: 2.5 };
    const r = await runMachine(o);
    expect(r.violations).toEqual([]);
    expect(r.host).toBe('xenpaging');
    expect(r.xen!.counters.pager_loads).toBeGreaterThan(0);
    expect(r.xen!.counters.dom0_io_writes).toBeGreaterThan(0);
    expect(r.xen!.counters.balloon_out).toBeGreaterThan(0);
    expect(r.xen!.counters.essa_ignored).toBe(0); // hunting grounds run with hinting off
  }, 60_000);

  it('sim mode stays a pure function of the seed with the pager and dom0: same JSON and trace_hash twice, another seed differs', async () => {
    const o: RunOptions = { ...DEFAULTS, host: 'xenpaging', mode: 'sim', workload: 'mixed', memBytes: 1 << 20, hostMemBytes: 512 << 10, hinting: 'full', ops: 2500, seed: 5, workloadOptions: { files: 2, file_pages: 32 } };
    const a = await runMachine(o);
    const b = await runMachine(o);
    expect(stable(b)).toEqual(stable(a));
    expect(a.violations).toEqual([]);
    expect(a.xen!.counters.essa_ignored).toBeGreaterThan(0); // the guest's hints reach the hypervisor and are ignored
    expect(a.counters.host_discards).toBe(0);
    const c = await runMachine({ ...o, seed: 6 });
    expect(c.trace_hash).not.toBe(a.trace_hash);
    // Reused pager, dom0 and CPU workers (hunts reuse them) give what fresh ones give, after leaving other state behind.
    setWorkerReuse(true);
    try {
      await runMachine({ ...o, seed: 9, unfix: ['xp-map-first', 'xp-evict-recount'], workload: 'alloc-storm', workloadOptions: { balloon: 16 } });
      await runMachine({ ...o, seed: 9 });
      const before = workersStarted();
      const again = await runMachine(o);
      expect(workersStarted()).toBe(before);
      expect(stable(again)).toEqual(stable(a));
    } finally {
      setWorkerReuse(false);
      await releaseIdleWorkers();
    }
  }, 60_000);

  it('a found race replays exactly from its replay file (here a liveness report after which the vCPUs give up)', async () => {
    const h = await hunt({ id: 'xp-answer-drops', seeds: 16, seconds: 60, jobs: 2, shard: [1, 1], mode: 'sim', strategy: 'random', depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: false });
    expect(h.found).toBe(true);
    const rf = h.replay!;
    const r = await runMachine(fromReplayOptions(rf.options, rf.seed, rf.schedule));
    const v = r.violations.find((x) => x.oracle === rf.expected.oracle)!;
    expect(v.step).toBe(rf.expected.step);
    expect(v.pfn).toBe(rf.expected.pfn);
    expect(v.message).toBe(rf.expected.message);
  }, 60_000);

  it('compare --host xenpaging: the xenpaging row writes free guest pages to its page file and pauses vCPUs; the ESSA host with hinting does not', async () => {
    const o: RunOptions = { ...DEFAULTS, mode: 'sim', workload: 'alloc-storm', memBytes: 1 << 20, hostMemBytes: 512 << 10, ops: 3000, seed: 1, workloadOptions: { wave: 1000, max_order: 2 } };
    const rows = await compare(o, true);
    expect(rows.map((r) => `${r.host}/${r.hinting}`)).toEqual(['essa/off', 'essa/unused', 'essa/full', 'xenpaging/off']);
    const [off, unused, , xen] = rows;
    for (const r of rows) expect(r.violations).toBe(0);
    expect(xen.host_pageouts).toBeGreaterThan(0);
    expect(xen.wasted_writes_free).toBeGreaterThan(unused.wasted_writes_free);
    expect(off.wasted_writes_free).toBeGreaterThan(unused.wasted_writes_free);
    expect(xen.vcpu_pauses).toBeGreaterThan(0);
    expect(off.vcpu_pauses).toBe(0);
  }, 60_000);

  it('bad input is one line naming the flag, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['run', '--host', 'x'], /^hintsim: --host: 'x' is not accepted; use one of essa, xenpaging/],
      [['run', '--host', 'xenpaging', '--ring-slots', '3'], /^hintsim: --ring-slots: 3 is not accepted; use a power of two from 2 to 64/],
      [['run', '--host', 'xenpaging', '--cpus', '16'], /^hintsim: --cpus: 16 is out of range with --host xenpaging/],
      [['hunt', 'xp-map-first', '--host', 'essa'], /^hintsim: --host: race 'xp-map-first' belongs to the xenpaging host/],
      [['compare', '--host', 'nope'], /^hintsim: --host: 'nope' is not accepted/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  }, 60_000);
});
