/**
 * The command line as a user runs it: a spawned `node --import tsx src/cli.ts ...` process,
 * its exit code, its stdout and its stderr (DESIGN.md section 5 is the contract).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, type Cli } from './helpers/cli.js';

const PAGE = 4096;

/** The parsed `run --json` object (loosely typed: the test checks the shape itself). */
interface RunJson {
  workload: string; seed: number; mode: string; cpus: number; mem: string; hinting: string;
  ops: number; seconds: number; ops_per_sec: number; trace_hash: string;
  violations: { race: string | null; oracle: string; pfn: number; cpu: number; step: number; message: string }[];
  counters: Record<string, number>;
  per_cpu: { cpu: number; ops: number }[];
  state_mix: Record<string, number>;
  accounting: Record<string, number> | null;
  planted_pfn?: number;
}

async function runJson(...args: string[]): Promise<{ r: Cli; j: RunJson }> {
  const r = await cli('run', ...args, '--json');
  let j: RunJson;
  try {
    j = JSON.parse(r.stdout) as RunJson;
  } catch {
    throw new Error(`run ${args.join(' ')} --json: stdout is not one JSON object (exit ${r.status}); stderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 500)}`);
  }
  return { r, j };
}

const VALID = ['Sr', 'Sp', 'Sz', 'Ur', 'Uz', 'Vr', 'Vz', 'Pr'];

describe('hintsim run --json', () => {
  it('alloc-storm on 2 CPUs for 1 s: exit 0, the documented fields, every frame accounted for', async () => {
    const { r, j } = await runJson('alloc-storm', '--cpus', '2', '--seconds', '1');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);

    expect(j.workload).toBe('alloc-storm');
    expect(j.seed).toBe(1);
    expect(j.mode).toBe('threads');
    expect(j.cpus).toBe(2);
    expect(j.violations).toEqual([]);
    expect(j.ops).toBeGreaterThan(0);
    expect(Number.isInteger(j.ops)).toBe(true);
    expect(j.seconds).toBeGreaterThan(0);
    expect(typeof j.ops_per_sec).toBe('number');
    expect(j.trace_hash).toMatch(/^[0-9a-f]+$/);
    for (const k of ['essa_calls', 'essa_batches', 'discard_faults', 'host_discards', 'host_pageouts',
      'host_pageins', 'addressing_exceptions', 'host_frees', 'allocs', 'frees']) {
      expect(j.counters, `counters.${k}`).toHaveProperty(k);
      expect(typeof j.counters[k], `counters.${k}`).toBe('number');
    }
    // A clean anonymous workload never touches an unused page nor gets a discard fault.
    expect(j.counters.addressing_exceptions).toBe(0);
    expect(j.counters.discard_faults).toBe(0);
    // Everything allocated was freed again by the end of the run.
    expect(j.counters.allocs).toBe(j.counters.frees);

    // Per-CPU ops add up to the total.
    expect(j.per_cpu.map((p) => p.cpu)).toEqual([0, 1]);
    expect(j.per_cpu.reduce((s, p) => s + p.ops, 0)).toBe(j.ops);

    // Accounting: the default 64 MiB guest is 16384 frames, and the parts add up to it.
    const frames = (64 << 20) / PAGE;
    expect(j.accounting).not.toBeNull();
    const acc = j.accounting!;
    expect(acc.total).toBe(frames);
    const parts = Object.entries(acc).filter(([k]) => k !== 'total').reduce((s, [, v]) => s + v, 0);
    expect(parts).toBe(frames);

    // The state mix covers every frame, with valid states only.
    expect(Object.values(j.state_mix).reduce((s, x) => s + x, 0)).toBe(frames);
    for (const s of Object.keys(j.state_mix)) expect(VALID).toContain(s);
  });

  it('--ops N runs exactly N operations, split over the CPUs', async () => {
    const { r, j } = await runJson('--cpus', '2', '--ops', '30001', '--mem', '16M');
    expect(r.status).toBe(0);
    expect(j.violations).toEqual([]);
    expect(j.ops).toBe(30001);
    expect(j.per_cpu.map((p) => p.ops).sort()).toEqual([15000, 15001]);
    expect(j.mem).toBe('16M');
    expect(j.accounting!.total).toBe((16 << 20) / PAGE);
  });

  it('--no-batch issues single ESSA calls instead of batched host calls', async () => {
    const { r, j } = await runJson('--cpus', '2', '--ops', '30000', '--mem', '16M', '--no-batch');
    expect(r.status).toBe(0);
    expect(j.violations).toEqual([]);
    expect(j.counters.essa_calls).toBeGreaterThan(0);
    expect(j.counters.essa_batches).toBe(0);
  });
});

describe('hinting on vs off (same seed, same work, host under pressure)', () => {
  // One CPU, a wave from 10% to 60% of a 16 MiB guest against an 8 MiB host budget: the held
  // set overshoots the budget at every wave top, so both hosts must reclaim. (With 2 CPUs the
  // workload's waves are phase-shifted so their sum stays flat, and the page-out counts of
  // the two modes overlap from run to run.)
  const common = ['--cpus', '1', '--ops', '1000000', '--mem', '16M', '--seed', '3', '--opt', 'wave=50000'];

  it('unused hints let the host drop free frames without I/O; the blind host pages out more', async () => {
    const [on, off] = [await runJson(...common, '--hinting', 'unused'), await runJson(...common, '--hinting', 'off')];
    for (const x of [on, off]) {
      expect(x.r.status, x.r.stderr).toBe(0);
      expect(x.j.violations).toEqual([]);
      expect(x.j.ops).toBe(1_000_000);
    }
    expect(on.j.hinting).toBe('unused');
    expect(off.j.hinting).toBe('off');

    expect(on.j.counters.essa_batches).toBeGreaterThan(0);
    expect(on.j.counters.host_frees).toBeGreaterThan(0);

    expect(off.j.counters.essa_calls + off.j.counters.essa_batches).toBe(0);
    expect(off.j.counters.host_frees).toBe(0);
    // With no hints every free frame is stable to the host: no unused frames anywhere.
    expect(Object.keys(off.j.state_mix).filter((s) => s.startsWith('U'))).toEqual([]);

    expect(off.j.counters.host_pageouts).toBeGreaterThan(0);
    expect(off.j.counters.host_pageouts).toBeGreaterThan(on.j.counters.host_pageouts);
  });
});

describe('hintsim run (human output)', () => {
  it('prints the seed and "violations   none"', async () => {
    const r = await cli('run', '--cpus', '2', '--seconds', '0.5', '--mem', '16M', '--seed', '4242');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('violations   none');
    expect(r.stdout).toMatch(/\bseed 4242\b/);
    expect(r.stdout).toContain('alloc-storm');
    expect(r.stdout.trim().startsWith('{')).toBe(false);
  });

  it('a planted bug gives exit 1, names the oracle and prints a rerun command', async () => {
    const r = await cli('run', '--cpus', '2', '--seconds', '3', '--mem', '16M', '--debug-fault', 'double-free');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/violations {3}[1-9]/);
    expect(r.stdout).toContain('[refcount]');
    expect(r.stdout).toMatch(/rerun with: +npx hintsim run alloc-storm --seed 1 --cpus 2 .*--debug-fault double-free/);
  });

  it('--json with a planted bug: exit 1 and the violation in the JSON', async () => {
    const { r, j } = await runJson('--cpus', '2', '--seconds', '3', '--mem', '16M', '--debug-fault', 'double-free');
    expect(r.status).toBe(1);
    expect(j.violations.length).toBeGreaterThan(0);
    expect(j.violations.some((v) => v.oracle === 'refcount' && v.pfn === j.planted_pfn)).toBe(true);
  });
});

describe('bad input: exit 2, one line on stderr naming the flag, nothing on stdout', () => {
  const cases: [string[], string][] = [
    [['run', '--cpus', '0'], '--cpus'],
    [['run', '--cpus', 'abc'], '--cpus'],
    [['run', '--cpus', '17'], '--cpus'],
    [['run', '--mem', '12Q'], '--mem'],
    [['run', '--mem', '1000'], '--mem'],
    [['run', '--hinting', 'bogus'], '--hinting'],
    [['run', 'nosuch'], 'nosuch'],
    [['run', '--unfix', 'nosuch'], '--unfix'],
    [['run', '--opt', 'nosuch=1'], '--opt'],
    [['run', '--opt', 'fill=1000'], '--opt fill'],
    [['run', '--frobnicate'], '--frobnicate'],
    [['run', '--seconds', '1', '--ops', '5'], '--ops'],
  ];
  for (const [args, flag] of cases) {
    it(`hintsim ${args.join(' ')}`, async () => {
      const r = await cli(...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      expect(lines, r.stderr).toHaveLength(1);
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(lines[0]).toContain(flag);
    });
  }

  it('names what is accepted where there is a list', async () => {
    const [hint, wl, opt, unfix] = await Promise.all([
      cli('run', '--hinting', 'bogus'), cli('run', 'nosuch'), cli('run', '--opt', 'nosuch=1'), cli('run', '--unfix', 'nosuch'),
    ]);
    expect(hint.stderr).toMatch(/off.*unused/);
    expect(wl.stderr).toContain('alloc-storm');
    expect(opt.stderr).toMatch(/fill.*wave/);
    expect(unfix.stderr).toContain('nosuch');
  });
});

describe('hintsim workloads / states', () => {
  it('workloads --json lists alloc-storm with its options', async () => {
    const r = await cli('workloads', '--json');
    expect(r.status).toBe(0);
    const ws = JSON.parse(r.stdout) as { name: string; description: string; options: { name: string; default: number; min: number; max: number }[]; oracles: string[] }[];
    const a = ws.find((w) => w.name === 'alloc-storm');
    expect(a).toBeDefined();
    expect(a!.description.length).toBeGreaterThan(0);
    const names = a!.options.map((o) => o.name);
    for (const n of ['fill', 'fill_low', 'wave', 'max_order']) expect(names).toContain(n);
    for (const o of a!.options) {
      expect(o.min).toBeLessThanOrEqual(o.default);
      expect(o.default).toBeLessThanOrEqual(o.max);
    }
    expect(a!.oracles).toContain('use_after_free');
  });

  it('states --dot is a Graphviz digraph with the 8 valid states', async () => {
    const r = await cli('states', '--dot');
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('digraph')).toBe(true);
    expect(r.stdout.trimEnd().endsWith('}')).toBe(true);
    for (const s of VALID) expect(r.stdout).toMatch(new RegExp(`^\\s*${s}\\b`, 'm'));
    // a few edges every reader expects: host free, host page-out, discard, zero fill
    for (const e of ['Ur -> Uz', 'Sr -> Sp', 'Vr -> Vz', 'Sz -> Sr']) expect(r.stdout).toContain(e);
  });
});
