/**
 * hintsim bench as a user drives it: --list, --only and its bad input, and the soak entry
 * end to end at tiny sizes (the JSON shape, failing runs per oracle, the exit code).
 * The figures themselves are never checked here: bench is not part of the test run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_NAMES, benchEntry, formatBench, goalMet, type BenchReport } from '../src/bench/bench.js';
import { cli, expectUsageErrors, type Cli } from './helpers/cli.js';


async function benchJson(...args: string[]): Promise<{ r: Cli; j: BenchReport }> {
  const r = await cli('bench', ...args, '--json');
  try {
    return { r, j: JSON.parse(r.stdout) as BenchReport };
  } catch {
    throw new Error(`bench ${args.join(' ')} --json: stdout is not JSON (exit ${r.status}); stderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 500)}`);
  }
}

describe('hintsim bench', () => {
  it('--list: one line per entry, its name first, soak marked long', async () => {
    const r = await cli('bench', '--list');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([...BENCH_NAMES]);
    expect(BENCH_NAMES).toContain('soak');
    for (const l of lines) expect(l.length).toBeGreaterThan(20);
    expect(lines.find((l) => l.startsWith('soak '))).toMatch(/100,000,000 guest ops in threads mode, 1,000,000 in sim mode.*long/);
  });

  it('goals: the leading clause decides met; the text marks unmet goals and counts them', () => {
    expect(goalMet('ratio >= 0.85 (overhead <= 15%)', 100, 0.9)).toBe(true);
    expect(goalMet('ratio >= 0.85 (overhead <= 15%)', 100, 0.8)).toBe(false);
    expect(goalMet('value <= 3', 2.5, 9)).toBe(true);
    expect(goalMet('value >= 400000 ops/s per CPU', 399_999, 1)).toBe(false);
    expect(goalMet('ratio <= 1.5', NaN, NaN)).toBe(false); // not measured is not met
    expect(goalMet('report', 1, 1)).toBeNull();
    const e = (name: string, ratio: number, goal: string) => benchEntry({ name, value: ratio, unit: 'x', baseline: 1, ratio, goal, note: '' });
    const text = formatBench({ node: 'v', cpus_available: 2, races: [], entries: [e('fast', 2, 'ratio >= 1'), e('slow', 0.5, 'ratio >= 1'), e('told', 1, 'report')] });
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes(' fast '))).toMatch(/^ {2}met {3}fast /);
    expect(lines.find((l) => l.includes(' slow '))).toMatch(/^ {2}UNMET slow /);
    expect(lines.find((l) => l.includes(' told '))).toMatch(/^ {2}- {5}told /);
    expect(text).toContain('1 of 2 goals UNMET');
  });

  it('bad input: exit 2, one line naming the flag (and for --only, the accepted names), nothing on stdout', async () => {
    const cases: [string[], string][] = [
      [['bench', '--only', 'nosuch'], `--only: unknown entry 'nosuch'; accepted: ${BENCH_NAMES.join(', ')}`],
      [['bench', '--only', 'pcp,soak,bogus'], "--only: unknown entry 'bogus'"],
      [['bench', '--only', 'pcp', '--all'], '--only'],
      [['bench', '--soak-ops-sim', '5000'], '--soak-ops-sim'],
      [['bench', '--only', 'soak', '--soak-ops-threads', 'many'], '--soak-ops-threads'],
      [['bench', '--only', 'soak', '--soak-seed', '-'], '--soak-seed'],
      [['bench', '--only', 'soak', '--debug-fault', 'nosuch'], '--debug-fault'],
    ];
    await expectUsageErrors(cases);
  }, 120_000);

  it('--only soak at tiny sizes, every fix on: both modes, their ops and runs, no failing run, exit 0', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hintsim-soak-')), 'soak');
    const { r, j } = await benchJson('--only', 'soak', '--quick', '--soak-ops-threads', '100000', '--soak-ops-sim', '4000', '--soak-seed', '7', '--soak-out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(j.entries.map((e) => e.name)).toEqual(['soak_threads_ops_per_sec', 'soak_sim_ops_per_sec']);
    expect(j.races).toEqual([]);
    for (const e of j.entries) {
      expect(Object.keys(e)).toEqual(['name', 'value', 'unit', 'baseline', 'ratio', 'goal', 'met', 'note']);
      expect(e.met).toBe(true); // zero failing runs
      expect(e.value).toBeGreaterThan(0);
      expect(e.baseline).toBeGreaterThan(0);
      expect(e.ratio).toBeCloseTo(e.value / e.baseline, 6);
    }
    const s = j.soak!;
    expect(s.seed).toBe(7);
    expect(s.threads).toMatchObject({ mode: 'threads', ops_target: 100_000, failed_runs: 0, by_oracle: {}, sim_replay_files: 0, threads_only_files: 0, out_dir: null });
    expect(s.threads!.ops).toBeGreaterThanOrEqual(100_000);
    expect(s.threads!.runs).toBeGreaterThan(0);
    expect(s.sim).toMatchObject({ mode: 'sim', ops_target: 4000, failed_runs: 0, by_oracle: {}, out_dir: null });
    expect(s.sim!.ops).toBeGreaterThanOrEqual(4000);
    expect(s.sim!.runs).toBeGreaterThan(0);
  }, 300_000);

  it('--only soak with a planted bug: failing runs counted per oracle, replay files counted, exit 1; the text names them', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hintsim-soak-bug-')), 'soak');
    const args = ['--only', 'soak', '--quick', '--soak-ops-threads', '0', '--soak-ops-sim', '3000', '--soak-seed', '7', '--debug-fault', 'buddy-double', '--soak-out', out];
    const { r, j } = await benchJson(...args);
    expect(r.status, r.stderr).toBe(1);
    const m = j.soak!.sim!;
    expect(m.failed_runs).toBeGreaterThan(0);
    expect(m.by_oracle).toEqual({ buddy: m.failed_runs });
    expect(m.sim_replay_files).toBe(m.failed_runs);
    expect(m.threads_only_files).toBe(0);
    expect(m.out_dir).toBe(join(out, 'sim'));
    const text = await cli('bench', ...args);
    expect(text.status).toBe(1);
    expect(text.stderr.split('\n')[0]).toBe('bench: soak seed 7 (bench --only soak --soak-seed 7 runs the same swarm)');
    expect(text.stdout).toContain(`    sim      ${m.ops.toLocaleString('en-US')} guest ops in ${m.runs} runs, `);
    expect(text.stdout).toContain(`: ${m.failed_runs} failing runs: buddy ${m.failed_runs}; ${m.failed_runs} replay in sim mode, 0 threads-only (${join(out, 'sim')})`);
  }, 300_000);
});
