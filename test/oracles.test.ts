/**
 * Every oracle can fire: each planted bug (src/core/debug.ts) must be caught by the oracle
 * it was planted for, on the page it was planted on where the oracle names one, and the same
 * machine without a planted bug stays clean.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { runMachine, type RunResult } from '../src/machine/run.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';

// A small guest with a tight host budget gets host reclaim going within milliseconds, so
// the host-side bugs show up early; `seconds` is only an upper bound, since a violation
// stops the run.
const BASE: RunOptions = {
  ...DEFAULTS,
  cpus: 2,
  seconds: 3,
  memBytes: 16 << 20,
  hostMemBytes: 4 << 20,
  workloadOptions: { wave: 20000 },
};

function run(over: Partial<RunOptions>): Promise<RunResult> {
  return runMachine({ ...BASE, ...over, workloadOptions: { ...BASE.workloadOptions, ...over.workloadOptions } });
}

function show(r: RunResult): string {
  return JSON.stringify({ planted_pfn: r.planted_pfn, violations: r.violations }, null, 1);
}

releaseWorkersAfterEach();

describe('oracles fire on planted bugs', () => {
  it('control: the same machine without a planted bug has no violations', async () => {
    const r = await run({ seconds: 1 });
    expect(r.violations, show(r)).toEqual([]);
    expect(r.ops).toBeGreaterThan(0);
    expect(r.planted_pfn).toBeUndefined();
    expect(r.counters.host_pageouts + r.counters.host_frees).toBeGreaterThan(0); // the host did reclaim
    expect(r.accounting).not.toBeNull();
  });

  it('skip-set-stable -> use_after_free on the planted page', async () => {
    const r = await run({ debugFaults: ['skip-set-stable'] });
    expect(r.planted_pfn).toBeGreaterThanOrEqual(0);
    expect(r.violations.length, show(r)).toBeGreaterThan(0);
    expect(r.violations.some((v) => v.oracle === 'use_after_free' && v.pfn === r.planted_pfn), show(r)).toBe(true);
    expect(r.counters.addressing_exceptions).toBeGreaterThan(0);
  });

  it('double-free -> refcount on the planted page', async () => {
    const r = await run({ debugFaults: ['double-free'] });
    expect(r.planted_pfn).toBeGreaterThanOrEqual(0);
    expect(r.violations.some((v) => v.oracle === 'refcount' && v.pfn === r.planted_pfn), show(r)).toBe(true);
  });

  it('host-lose-page -> integrity: the stamp reads back as zeros', async () => {
    const r = await run({ debugFaults: ['host-lose-page'] });
    expect(r.planted_pfn).toBeGreaterThanOrEqual(0);
    const v = r.violations.find((x) => x.oracle === 'integrity');
    expect(v, show(r)).toBeDefined();
    expect(v!.message).toContain('0/0/0/0');
    expect(v!.pfn).toBeGreaterThanOrEqual(0);
  });

  it('host-up -> invalid_state on the planted page, reported by the host', async () => {
    const r = await run({ debugFaults: ['host-up'] });
    expect(r.planted_pfn).toBeGreaterThanOrEqual(0);
    const v = r.violations.find((x) => x.oracle === 'invalid_state' && x.pfn === r.planted_pfn);
    expect(v, show(r)).toBeDefined();
    expect(v!.cpu).toBe(BASE.cpus); // the host participant's id is ncpus
    expect(v!.message).toContain('Up');
  });

  it('leak -> leak on the planted page (1 CPU)', async () => {
    // One CPU: with several CPUs each one plants its own leak, planted_pfn keeps only the
    // first and the leak oracle reports the lowest leaked pfn (see the report).
    const r = await run({ cpus: 1, seconds: null, ops: 100_000, debugFaults: ['leak'] });
    expect(r.planted_pfn).toBeGreaterThanOrEqual(0);
    expect(r.violations.some((v) => v.oracle === 'leak' && v.pfn === r.planted_pfn), show(r)).toBe(true);
    expect(r.accounting).toBeNull();
  });

  it('leak -> leak on 2 CPUs, naming a page that is allocated but held by nobody', async () => {
    const r = await run({ seconds: null, ops: 100_000, debugFaults: ['leak'] });
    const v = r.violations.find((x) => x.oracle === 'leak');
    expect(v, show(r)).toBeDefined();
    expect(v!.pfn).toBeGreaterThanOrEqual(0);
    expect(v!.message).toMatch(/_count=0\b/); // page_count 1: allocated, never freed
  });

  it('buddy-double -> buddy', async () => {
    const r = await run({ debugFaults: ['buddy-double'] });
    expect(r.planted_pfn).toBeGreaterThanOrEqual(0);
    expect(r.violations.some((v) => v.oracle === 'buddy'), show(r)).toBe(true);
  });

  it('hang -> liveness naming cpu 0, and the run still ends', async () => {
    const r = await run({ debugFaults: ['hang'], watchdogMs: 500 });
    const v = r.violations.find((x) => x.oracle === 'liveness');
    expect(v, show(r)).toBeDefined();
    expect(v!.cpu).toBe(0);
    expect(v!.message).toMatch(/\bcpu 0\b/);
    expect(v!.message).toMatch(/no progress for 500 ms/);
    // every participant's last step is listed
    expect(v!.message).toMatch(/cpu 1: last step/);
    expect(v!.message).toMatch(/host: last step/);
    expect(r.accounting).toBeNull();
  });
});
