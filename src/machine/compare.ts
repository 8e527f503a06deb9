/**
 * `hintsim compare WORKLOAD`: the question the design exists to answer. Run the same
 * workload and seed with hinting off, unused and full and compare the host's I/O.
 */
import type { RunOptions } from './config.js';
import { runMachine, type RunResult } from './run.js';

export interface CompareRow {
  hinting: string; host_pageouts: number; host_pageins: number; host_discards: number; host_frees: number;
  swap_bytes_written: number; ops: number; ops_per_sec: number; essa_per_1000_ops: number; batch_factor: number; violations: number;
}

export async function compare(base: RunOptions): Promise<CompareRow[]> {
  const rows: CompareRow[] = [];
  for (const hinting of ['off', 'unused', 'full'] as const) {
    const r: RunResult = await runMachine({ ...base, hinting });
    const c = r.counters;
    const calls = c.essa_calls + c.essa_batches;
    rows.push({
      hinting, host_pageouts: c.host_pageouts, host_pageins: c.host_pageins, host_discards: c.host_discards, host_frees: c.host_frees,
      swap_bytes_written: c.host_swap_bytes_written, ops: r.ops, ops_per_sec: r.ops_per_sec,
      essa_per_1000_ops: r.ops ? Number(((1000 * calls) / r.ops).toFixed(1)) : 0,
      batch_factor: c.essa_batches ? Number(((c.essa_batched_pages + c.essa_calls) / calls).toFixed(1)) : calls ? 1 : 0,
      violations: r.violations.length,
    });
  }
  return rows;
}

export function formatCompare(rows: CompareRow[], title: string): string {
  const cols: [string, (r: CompareRow) => string][] = [
    ['hinting', (r) => r.hinting], ['page-outs', (r) => String(r.host_pageouts)], ['page-ins', (r) => String(r.host_pageins)],
    ['discards', (r) => String(r.host_discards)], ['unused frees', (r) => String(r.host_frees)],
    ['swap written', (r) => `${(r.swap_bytes_written / (1 << 20)).toFixed(1)} MiB`], ['guest ops/s', (r) => String(r.ops_per_sec)],
    ['ESSA/1000 ops', (r) => String(r.essa_per_1000_ops)], ['batch factor', (r) => String(r.batch_factor)], ['violations', (r) => String(r.violations)],
  ];
  const w = cols.map(([h, f]) => Math.max(h.length, ...rows.map((r) => f(r).length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padStart(w[i])).join(' | ') + ' |';
  return [title, line(cols.map(([h]) => h)), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.map((r) => line(cols.map(([, f]) => f(r))))].join('\n') + '\n';
}
