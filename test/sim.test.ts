/**
 * Sim mode: determinism, hunt -> replay file -> replay, and replay-file validation.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/machine/config.js';
import { runMachine, type RunResult } from '../src/machine/run.js';
import { releaseIdleWorkers, setWorkerReuse, workersStarted } from '../src/machine/worker_pool.js';
import { cli } from './helpers/cli.js';
import { releaseWorkersAfterEach, stable } from './helpers/machine.js';


releaseWorkersAfterEach();

describe('sim mode', () => {
  it('is a pure function of seed and options: same JSON and trace_hash twice, another seed differs', async () => {
    for (const strategy of ['random', 'pct'] as const) {
      const o = { ...DEFAULTS, workload: 'mixed', mode: 'sim' as const, strategy, memBytes: 4 << 20, hostMemBytes: 256 << 10, hinting: 'full' as const, ops: 3000, seed: 11 };
      const a = await runMachine(o);
      const b = await runMachine(o);
      expect(stable(b)).toEqual(stable(a));
      expect(a.schedule?.switches).toBeGreaterThan(0);
      const c = await runMachine({ ...o, seed: 12 });
      expect(c.trace_hash).not.toBe(a.trace_hash);
    }
  });

  it('a worker reused from an earlier run gives exactly what a fresh one gives', async () => {
    const o = { ...DEFAULTS, workload: 'mixed', mode: 'sim' as const, memBytes: 2 << 20, hostMemBytes: 256 << 10, hinting: 'full' as const, ops: 2000, seed: 5 };
    const fresh = await runMachine(o);
    setWorkerReuse(true);
    try {
      // Leave different state behind: other workload, lazy batch on, fixes off, threads mode.
      await runMachine({ ...o, workload: 'file-churn', seed: 9, unfix: ['lazy-batch-freed'], workloadOptions: { lazy_volatile: 16 }, hostMemBytes: 512 << 10 });
      await runMachine({ ...o, mode: 'threads', ops: 3000, hinting: 'unused', workload: 'alloc-storm', hostMemBytes: 512 << 10 });
      const before = workersStarted();
      const again = await runMachine(o);
      expect(workersStarted()).toBe(before); // all three came from the earlier runs
      expect(stable(again)).toEqual(stable(fresh));
    } finally {
      setWorkerReuse(false);
      await releaseIdleWorkers();
    }
  });

  it('rejects --seconds in sim mode (wall time would break determinism)', async () => {
    const r = await cli('run', '--mode', 'sim', '--seconds', '1');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--seconds.*--ops/);
  });

  it('hunt writes a replay file whose replay reports the same violation at the same step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hintsim-'));
    const out = join(dir, 'dgp.json');
    const h = await cli('hunt', 'discard-get-page', '--seeds', '60', '--jobs', '2', '--shrink-seconds', '4', '--out', out, '--json', { timeout: 240_000 });
    expect(h.status).toBe(0);
    const hj = JSON.parse(h.stdout) as { found: boolean; seed: number; violation: { oracle: string; step: number; pfn: number } };
    expect(hj.found).toBe(true);
    expect(hj.violation.oracle).toBe('refcount');
    const file = JSON.parse(readFileSync(out, 'utf8')) as { version: number; expected: { step: number; pfn: number; oracle: string }; schedule: { decisions: number[]; keys?: number[] } };
    expect(file.expected.oracle).toBe('refcount');
    // a shrunk hunt's schedule is keyed (version 3): four words per decision
    expect(file.version).toBe(3);
    expect(file.schedule.keys?.length).toBe(2 * file.schedule.decisions.length);
    const r = await cli('replay', out, '--json');
    expect(r.status).toBe(1); // violations found
    const rj = JSON.parse(r.stdout) as RunResult & { replay: { reproduced: boolean } };
    expect(rj.replay.reproduced).toBe(true);
    const v = rj.violations.find((x) => x.oracle === 'refcount')!;
    expect(v.step).toBe(file.expected.step);
    expect(v.pfn).toBe(file.expected.pfn);

    // the same file, tampered with, from another version, or not JSON: refused with exit 2
    const tampered = join(dir, 'tampered.json');
    const j = JSON.parse(readFileSync(out, 'utf8')) as { seed: number; version: number };
    writeFileSync(tampered, JSON.stringify({ ...j, seed: j.seed + 1 }));
    const t = await cli('replay', tampered);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/checksum/);
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ ...j, version: 99 }));
    expect((await cli('replay', other)).stderr).toMatch(/version 99/);
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{not json');
    const k = await cli('replay', junk);
    expect(k.status).toBe(2);
    expect(k.stdout).toBe('');
    expect((await cli('replay', join(dir, 'missing.json'))).status).toBe(2);
  }, 240_000);

  it('hunt with an unknown race id or a bad shard is a usage error', async () => {
    const a = await cli('hunt', 'no-such-race');
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/unknown race id 'no-such-race'; accepted: discard-get-page/);
    const b = await cli('hunt', 'discard-grace', '--shard', '3/2');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--shard/);
  });
});
