/**
 * `hintsim compare WORKLOAD`: the question the design exists to answer. Run the same
 * workload and seed with hinting off, unused and full and compare the host's I/O; with
 * `--host xenpaging` also Xen paging, whose pager knows nothing of guest page states
 * (xenpaging_kvm.md 3.1-3.2: wasted writes of free and clean pages, double paging, vCPU
 * stalls while the pager pages in).
 */
import type { RunOptions } from '../machine/config.js';
import { runMachine, type RunResult } from '../machine/run.js';
import { HOST_LIST, hostByName } from '../hosts/index.js';

export interface CompareRow {
  host: string; hinting: string; host_pageouts: number; host_pageins: number; host_discards: number; host_frees: number;
  swap_bytes_written: number;
  /** Host page-outs of frames free in the guest / of clean page-cache frames / for xenpaging evictions that then failed. */
  wasted_writes_free: number; wasted_writes_clean_cache: number; wasted_writes_failed_evict: number;
  double_paging: number;
  /** vCPU pauses while the host pages in (xenpaging; the ESSA host pages in inline on the faulting CPU), and their length. */
  vcpu_pauses: number; vcpu_stall: number; stall_unit: 'steps' | 'us';
  ops: number; ops_per_sec: number; essa_per_1000_ops: number;
  /** Host calls (single ESSA + batches) per file operation (file-churn, mixed; 0 for workloads without files). */
  essa_per_file_op: number;
  batch_factor: number; violations: number;
}

function row(r: RunResult, host: string): CompareRow {
  const c = r.counters;
  const h = hostByName(host);
  const x = h.compareRow && h.summaryKey ? h.compareRow.figures((r as unknown as Record<string, unknown>)[h.summaryKey]) : undefined;
  const calls = c.essa_calls + c.essa_batches;
  return {
    host, hinting: r.hinting, host_pageouts: c.host_pageouts, host_pageins: c.host_pageins, host_discards: c.host_discards, host_frees: c.host_frees,
    swap_bytes_written: c.host_swap_bytes_written,
    wasted_writes_free: c.wasted_writes_free, wasted_writes_clean_cache: c.wasted_writes_clean_cache,
    wasted_writes_failed_evict: x?.wasted_writes_failed_evict ?? 0, double_paging: c.double_paging,
    vcpu_pauses: x?.vcpu_pauses ?? 0, vcpu_stall: x?.vcpu_stall ?? 0, stall_unit: r.mode === 'sim' ? 'steps' : 'us',
    ops: r.ops, ops_per_sec: r.ops_per_sec,
    essa_per_1000_ops: r.ops ? Number(((1000 * calls) / r.ops).toFixed(1)) : 0,
    essa_per_file_op: c.file_ops ? Number((calls / c.file_ops).toFixed(2)) : 0,
    batch_factor: c.essa_batches ? Number(((c.essa_batched_pages + c.essa_calls) / calls).toFixed(1)) : calls ? 1 : 0,
    violations: r.violations.length,
  };
}

/** The ESSA host with hinting off, unused and full; with `others`, then each host with a compare row (Xen paging, whose guest issues no hints). */
export async function compare(base: RunOptions, others = false): Promise<CompareRow[]> {
  const rows: CompareRow[] = [];
  for (const hinting of ['off', 'unused', 'full'] as const) rows.push(row(await runMachine({ ...base, host: 'essa', hinting }), 'essa'));
  if (others) for (const h of HOST_LIST) if (h.compareRow) rows.push(row(await runMachine({ ...base, host: h.name, hinting: h.compareRow.hinting }), h.name));
  return rows;
}

export function formatCompare(rows: CompareRow[], title: string): string {
  const xen = rows.some((r) => hostByName(r.host).compareRow !== undefined); // a host row: its host-specific columns too
  const cols: [string, (r: CompareRow) => string][] = [
    ...(xen ? [['host', (r: CompareRow) => r.host] as [string, (r: CompareRow) => string]] : []),
    ['hinting', (r) => r.hinting], ['page-outs', (r) => String(r.host_pageouts)], ['page-ins', (r) => String(r.host_pageins)],
    ['discards', (r) => String(r.host_discards)], ['unused frees', (r) => String(r.host_frees)],
    ['wasted: free', (r) => String(r.wasted_writes_free)], ['wasted: clean cache', (r) => String(r.wasted_writes_clean_cache)],
    ...(xen ? [['wasted: failed evict', (r: CompareRow) => String(r.wasted_writes_failed_evict)] as [string, (r: CompareRow) => string]] : []),
    ['double paging', (r) => String(r.double_paging)],
    ...(xen ? [
      ['vCPU pauses', (r: CompareRow) => String(r.vcpu_pauses)] as [string, (r: CompareRow) => string],
      ['paused', (r: CompareRow) => (r.vcpu_pauses ? (r.stall_unit === 'steps' ? `${r.vcpu_stall} steps` : `${(r.vcpu_stall / 1000).toFixed(1)} ms`) : '0')] as [string, (r: CompareRow) => string],
    ] : []),
    ['swap written', (r) => `${(r.swap_bytes_written / (1 << 20)).toFixed(1)} MiB`], ['guest ops/s', (r) => String(r.ops_per_sec)],
    ['ESSA/1000 ops', (r) => String(r.essa_per_1000_ops)],
    ...(rows.some((r) => r.essa_per_file_op > 0) ? [['ESSA/file op', (r: CompareRow) => String(r.essa_per_file_op)] as [string, (r: CompareRow) => string]] : []), ['batch factor', (r) => String(r.batch_factor)], ['violations', (r) => String(r.violations)],
  ];
  const w = cols.map(([h, f]) => Math.max(h.length, ...rows.map((r) => f(r).length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padStart(w[i])).join(' | ') + ' |';
  return [title, line(cols.map(([h]) => h)), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.map((r) => line(cols.map(([, f]) => f(r))))].join('\n') + '\n';
}
