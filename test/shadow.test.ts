/**
 * --host shadow: KVM's shadow MMU of 2.6.2x and RHEL3's kscand (seed 004). The pathology in
 * numbers (traps per 1000 user ops with the scanner and without, and how much of it the
 * 2008 fix removes), every K hunting ground clean with its fixes on in both modes,
 * determinism, a hunt's replay file replayed exactly, and one-line usage errors. Each K
 * race's own hunt (fix off, its oracle fires) runs in races.test.ts with the rest of the
 * catalogue.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { hunt, raceRunOptions } from '../src/explore/hunt.js';
import { runMachine, type RunResult } from '../src/machine/run.js';
import { kscandCases } from '../src/hosts/shadow/shadow_bench.js';
import { setWorkerReuse } from '../src/machine/worker_pool.js';
import { RACES } from '../src/core/races.js';
import { cli } from './helpers/cli.js';
import { releaseWorkersAfterEach, stable } from './helpers/machine.js';


const KSCAND: RunOptions = { ...DEFAULTS, workload: 'kscand', host: 'shadow', hinting: 'off', memBytes: 4 << 20, cpus: 2, mode: 'sim', ops: 3000, seed: 1 };

releaseWorkersAfterEach();

describe('--host shadow', () => {
  it('catalogues K1 K2 K4 K5 K7 K9 as shadow-host races with their oracles', () => {
    const k = RACES.filter((r) => r.host === 'shadow');
    expect(k.map((r) => r.catalogue).sort()).toEqual(['K1', 'K2', 'K4', 'K5', 'K7', 'K9']);
    expect(Object.fromEntries(k.map((r) => [r.catalogue, r.oracle]))).toEqual({
      K1: 'false_flood', K2: 'shadow_coherence', K4: 'false_flood', K5: 'stale_shadow', K7: 'tlb', K9: 'shadow_thrash',
    });
    for (const r of k) expect(r.reproduced).toBe(true);
  });

  it('the kscand pathology shows in traps per op, and the 2008 fix removes most of it', async () => {
    setWorkerReuse(true);
    const [none, fixed, unfixed, unshadow] = await kscandCases({ run: runMachine, defaults: DEFAULTS }, 4000);
    const t = (c: typeof none): number => c.traps_per_1000_user_ops;
    // without the fix the scanner floods the kernel table K again and again
    expect(unfixed.counters.kernel_table_floods).toBeGreaterThan(50);
    expect(fixed.counters.kernel_table_floods).toBe(0);
    expect(t(unfixed)).toBeGreaterThan(2 * t(none));
    // with it the scanner still pays its emulations (2 kmap writes and the A-bit clear), no rebuilds
    expect(fixed.counters.emulations_kmap).toBeGreaterThan(0);
    expect(t(fixed)).toBeGreaterThan(t(none));
    expect(t(unfixed) - t(fixed)).toBeGreaterThan(0.5 * (t(unfixed) - t(none)));
    expect(fixed.modelled_user_ops_per_ms).toBeGreaterThan(unfixed.modelled_user_ops_per_ms);
    // Arcangeli's alternative: the A-bit clear unshadows the table instead of being emulated
    expect(unshadow.counters.a_clear_unshadows).toBeGreaterThan(0);
    expect(unshadow.counters.emulations_a_clear).toBe(0);
    expect(fixed.counters.emulations_a_clear).toBeGreaterThan(0);
  }, 60_000);

  it('run --json reports the shadow MMU counters and traps per 1000 ops', async () => {
    const r = await cli('run', 'kscand', '--mode', 'sim', '--ops', '1500', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as RunResult;
    expect(j.host).toBe('shadow');
    expect(j.violations).toEqual([]);
    const s = j.shadow!;
    for (const k of ['exits', 'insn_emulation', 'mmu_shadow_zapped', 'unshadows', 'mmu_flooded', 'mmu_recycled', 'emulations_kmap', 'kscand_scanned']) {
      expect(s.counters[k], k).toBeGreaterThanOrEqual(0);
    }
    expect(s.counters.exits).toBeGreaterThan(0);
    expect(s.counters.kscand_scanned).toBeGreaterThan(0);
    expect(s.traps_per_1000_ops).toBeCloseTo((s.counters.exits * 1000) / j.ops, 0);
    expect(j.accounting?.total).toBeGreaterThan(0); // the leak and buddy oracles ran with the kernel table's frames accounted for
  });

  it('sim mode stays deterministic with the shadow host: same seed, same result and trace_hash', async () => {
    setWorkerReuse(true);
    for (const unfix of [[], ['kv-emulated-access-marks-spte']]) {
      const a = await runMachine({ ...KSCAND, unfix });
      const b = await runMachine({ ...KSCAND, unfix });
      expect(stable(b)).toEqual(stable(a));
      const c = await runMachine({ ...KSCAND, unfix, seed: 2 });
      expect(c.trace_hash).not.toBe(a.trace_hash);
    }
  }, 60_000);

  it('every K hunting ground runs clean with every fix on, in sim and threads mode', async () => {
    setWorkerReuse(true);
    for (const r of RACES.filter((x) => x.host === 'shadow')) {
      for (const mode of ['sim', 'threads'] as const) {
        const o = raceRunOptions(r, { mode, strategy: 'random', depth: 3, cpus: null, fixed: true }, 3);
        const res = await runMachine(mode === 'threads' ? { ...o, seconds: 0.4 } : o);
        expect(res.violations, `${r.id} ${mode}: ${res.violations[0]?.message}`).toEqual([]);
        expect(res.shadow!.counters.exits, `${r.id} ${mode}`).toBeGreaterThan(0);
      }
    }
  }, 90_000);

  it('a hunt with a K fix off finds its race, and its replay file replays the same violation', async () => {
    const h = await hunt({ id: 'kv-zap-on-a-clear', seeds: 4, seconds: 60, jobs: 2, shard: [1, 1], mode: 'sim', strategy: 'random', depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: false });
    expect(h.found).toBe(true);
    expect(h.violation?.oracle).toBe('shadow_coherence');
    expect(h.replay?.options.host).toBe('shadow');
    const out = join(mkdtempSync(join(tmpdir(), 'hintsim-shadow-')), 'k2.json');
    writeFileSync(out, JSON.stringify(h.replay));
    const [r, wrongHost] = await Promise.all([cli('replay', out, '--json'), cli('replay', out, '--host', 'essa')]);
    expect(r.status).toBe(1);
    const rj = JSON.parse(r.stdout) as RunResult & { replay: { reproduced: boolean } };
    expect(rj.replay.reproduced).toBe(true);
    const v = rj.violations.find((x) => x.oracle === 'shadow_coherence')!;
    expect(v.race).toBe('kv-zap-on-a-clear');
    expect(v.step).toBe(h.replay?.expected.step);
    expect(v.message).toMatch(/accessed bit clear/);
    expect(wrongHost.status).toBe(2);
    expect(wrongHost.stderr).toMatch(/^hintsim: --host: .*recorded with --host shadow/);
  }, 90_000);

  it('bad input is one line on stderr and exit 2, before anything runs', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'kscand', '--host', 'kvm'], /^hintsim: --host: 'kvm' is not accepted; use one of essa, xenpaging, shadow/],
      [['run', 'kscand', '--opt', 'kmap_halves=3'], /^hintsim: --opt kmap_halves: 3 is out of range; accepted: 1\.\.2/],
      [['run', 'kscand', '--unfix', 'kv-no-such-fix'], /^hintsim: --unfix: unknown race id 'kv-no-such-fix'/],
      [['hunt', 'kv-remote-flush', '--host', 'essa'], /^hintsim: --host: race 'kv-remote-flush' belongs to the shadow host/],
    ];
    const rs = await Promise.all(cases.map(([args]) => cli(...args)));
    rs.forEach((r, i) => {
      expect(r.status, cases[i][0].join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i][1]);
    });
  }, 60_000);
});
