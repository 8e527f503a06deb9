/**
 * Issue 17: the per-CPU batches of the boundary hints (high-order pcp lists, page_alloc.ts)
 * and the threads-mode spin accounting a run reports.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { runMachine } from '../src/machine/run.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';

releaseWorkersAfterEach();

const storm = (extra: Partial<RunOptions>): RunOptions => ({
  ...DEFAULTS, workload: 'alloc-storm', mode: 'sim', cpus: 2, ops: 6000, seed: 5, memBytes: 2 << 20, hostMemBytes: 2 << 20, pcpBatch: 31, ...extra, // a batch holds 15, 7 and 3 blocks of orders 1, 2, 3: all three have lists
});

describe('boundary hints in per-CPU batches (orders 0-3)', () => {
  it('alloc-storm on the ESSA host: every host call carries a batch of pages, and the end-of-run checks account for the high-order lists', async () => {
    const r = await runMachine(storm({}));
    expect(r.violations).toEqual([]);
    expect(r.accounting).not.toBeNull(); // buddy + pcp lists of every order + owned = every frame
    const c = r.counters;
    expect(c.essa_calls).toBe(0);
    expect(c.essa_batched_pages / c.essa_batches).toBeGreaterThanOrEqual(8); // orders 4-6 go alone, but carry 16-64 pages
    // orders 1-3 come from the pcp lists too: nearly every allocation is a pcp hit (orders 4-6 are rare)
    expect(c.pcp_hits).toBeGreaterThan(0.95 * c.allocs);
  }, 60_000);

  it('unbatched, or with hinting off, higher-order blocks go to and from the buddy one by one, as before', async () => {
    const u = await runMachine(storm({ batch: false }));
    expect(u.violations).toEqual([]);
    expect(u.accounting).not.toBeNull();
    expect(u.counters.essa_batches).toBe(0);
    const off = await runMachine(storm({ hinting: 'off' }));
    expect(off.violations).toEqual([]);
    expect(off.counters.pcp_hits).toBeLessThan(0.95 * off.counters.allocs); // only order 0 is served by a pcp list
  }, 60_000);
});

describe('spin accounting (threads mode)', () => {
  it('a threads run reports per CPU the time spent spinning and asleep on busy words, within its CPU time; a sim run has none', async () => {
    const o: RunOptions = { ...DEFAULTS, workload: 'mixed', cpus: 2, ops: 4000, memBytes: 4 << 20, hinting: 'full' };
    const t = await runMachine(o);
    expect(t.violations).toEqual([]);
    const s = t.spin!;
    expect(s).toBeDefined();
    for (const k of ['spin_ms', 'sleep_ms', 'run_ms', 'cpu_ms'] as const) expect(s[k]).toHaveLength(2);
    for (let c = 0; c < 2; c++) {
      expect(s.spin_ms[c]).toBeGreaterThanOrEqual(0);
      expect(s.spin_ms[c] + s.sleep_ms[c]).toBeLessThanOrEqual(s.run_ms[c] + 1);
    }
    expect(s.share).toBeGreaterThanOrEqual(0);
    expect(s.share).toBeLessThanOrEqual(1);
    const sim = await runMachine({ ...o, mode: 'sim', ops: 1000 });
    expect(sim.spin).toBeUndefined();
  }, 60_000);
});
