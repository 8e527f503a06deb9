/**
 * --trace: Chrome trace-event JSON that Perfetto opens: a track per CPU and the host,
 * slices for faults, discard handling and reclaim passes, a violation instant, counters.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';


interface Ev { name: string; ph: string; ts: number; tid: number; args?: Record<string, unknown> }

describe('--trace', () => {
  it('writes parseable trace events with per-participant tracks, balanced slices and the violation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hintsim-trace-'));
    const file = join(dir, 'run.trace.json');
    const r = await cli('run', 'file-churn', '--mode', 'sim', '--ops', '20000', '--mem', '4M', '--host-mem', '256K', '--unfix', 'writable-pvolatile', '--trace', file, '--json');
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { trace?: unknown; violations: { oracle: string }[] };
    expect(out.trace).toBeUndefined(); // the trace goes to the file, not into the JSON
    const t = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Ev[] };
    const names = t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args?.name);
    expect(names).toEqual(['cpu 0', 'cpu 1', 'host']);
    const has = (n: string, ph: string) => t.traceEvents.some((e) => e.name === n && e.ph === ph);
    expect(has('page fault', 'B')).toBe(true);
    expect(has('reclaim pass', 'B')).toBe(true);
    expect(has('ESSA batch', 'i')).toBe(true);
    expect(has('frames', 'C')).toBe(true);
    const viol = t.traceEvents.find((e) => e.name === 'violation');
    expect(viol?.args?.oracle).toBe(out.violations[0].oracle);
    for (const tid of [0, 1, 2]) {
      let depth = 0;
      for (const e of t.traceEvents.filter((x) => x.tid === tid && (x.ph === 'B' || x.ph === 'E'))) {
        depth += e.ph === 'B' ? 1 : -1;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
    }
  });

  it('refuses a path it cannot write, before running anything', async () => {
    const r = await cli('run', '--ops', '10', '--trace', '/nonexistent-dir/x.json');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--trace: cannot write/);
  });
});

describe('states --svg', () => {
  it('renders the executed state diagram with WebAssembly Graphviz', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hintsim-svg-'));
    const file = join(dir, 'essa.svg');
    const r = await cli('states', '--svg', file);
    expect(r.status).toBe(0);
    const svg = readFileSync(file, 'utf8');
    expect(svg).toMatch(/<svg/);
    for (const s of ['Sr', 'Sp', 'Sz', 'Ur', 'Uz', 'Vr', 'Vz', 'Pr', 'Pp']) expect(svg).toContain(`>${s}</text>`);
    expect(svg).toContain('set_stable_if_resident');
    const bad = await cli('states', '--svg', '/nonexistent-dir/e.svg');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--svg: cannot write/);
  });
});
