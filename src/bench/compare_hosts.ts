/**
 * `hintsim compare WORKLOAD --host all`: every design on the same workload and seed, in the
 * same units (reporting_cmma.md part C): the seeds' ESSA host with hinting off, unused and
 * full, Xen paging, free page reporting and CMMA. Sim mode is exactly reproducible; threads
 * mode adds a throughput that means something.
 *
 * Columns: host calls (ESSA host: ESSA instructions and batched calls; Xen: mem_event
 * requests; reporting: report calls, i.e. virtqueue kicks; CMMA: intercepts), pages the
 * host freed without I/O, page-outs, page-ins, zero fills, the guest's hinting work per 1000
 * ops (ESSA instructions; reporting: free-list nodes the worker visited plus isolations and
 * put-backs), guest ops/s, the mean model time from a guest free to the host's drop
 * (steps in sim mode; only the hosts that measure it), double paging, violations.
 *
 * Knobs that separate the designs: --opt max_order (how many frees reach a reportable
 * order), --opt report_delay (reuse within the delay costs reporting nothing), --host-mem
 * (CMMA frees nothing without pressure), --opt migrate_at (a migration phase for CMMA).
 * A host's own options are handed to that host's run only.
 */
import { HOST_LIST, hostByName, type Host } from '../hosts/index.js';
import { DEFAULT_SIM_OPS, UsageError, parseNumberFlag, type RunOptions } from '../machine/config.js';
import { runMachine, type RunResult } from '../machine/run.js';

export interface AllHostsRow {
  design: string;
  host: string;
  hinting: string;
  host_calls: number;
  freed_no_io: number;
  host_pageouts: number;
  host_pageins: number;
  zero_fills: number;
  /** ESSA instructions per 1000 ops (reporting: worker list operations per 1000 ops). */
  guest_hint_work_per_1000_ops: number;
  ops: number;
  /** Threads mode only (null in sim mode, where one participant runs at a time and wall time is no measure). */
  ops_per_sec: number | null;
  /** Mean model time from a guest free to the host's drop; null when the host does not measure it. */
  free_to_drop: number | null;
  double_paging: number;
  violations: number;
}

/** The designs in table order: [design name, host, hinting]. */
export const DESIGNS: readonly [string, string, 'off' | 'unused' | 'full'][] = [
  ['off', 'essa', 'off'], ['unused', 'essa', 'unused'], ['full (essa)', 'essa', 'full'],
  ...HOST_LIST.filter((h) => h.name !== 'essa' && h.name !== 'shadow').map((h): [string, string, 'off'] => [h.name, h.name, 'off']),
];

function section(r: RunResult, h: Host): unknown {
  return h.summaryKey ? (r as unknown as Record<string, unknown>)[h.summaryKey] : undefined;
}

function rowOf(design: string, r: RunResult): AllHostsRow {
  const c = r.counters;
  const h = hostByName(r.host);
  const s = section(r, h);
  const f = h.allFigures?.(s, c);
  let work = c.essa_calls + c.essa_batched_pages;
  if (h.name === 'reporting') {
    const k = (s as { counters: Record<string, number> }).counters;
    work = k.nodes_visited + k.isolations + k.putbacks;
  }
  return {
    design, host: r.host, hinting: r.hinting,
    host_calls: f?.host_calls ?? c.essa_calls + c.essa_batches,
    freed_no_io: f?.freed_no_io ?? c.host_frees + c.host_discards,
    host_pageouts: c.host_pageouts, host_pageins: c.host_pageins, zero_fills: c.zero_fills,
    guest_hint_work_per_1000_ops: r.ops ? Number(((1000 * work) / r.ops).toFixed(1)) : 0,
    ops: r.ops, ops_per_sec: r.mode === 'sim' ? null : r.ops_per_sec,
    free_to_drop: f ? f.latency_steps : null,
    double_paging: c.double_paging, violations: r.violations.length,
  };
}

/**
 * Split `--opt` values between the workload and the hosts: a host's option goes to that host's
 * run only. Returns the options of each host; throws a UsageError for a value no host or
 * workload accepts.
 */
export function splitHostOptions(raw: Record<string, string>, workloadOptionNames: readonly string[]): { workload: Record<string, string>; hosts: Map<string, Record<string, number>> } {
  const workload: Record<string, string> = {};
  const hosts = new Map<string, Record<string, number>>();
  for (const [k, v] of Object.entries(raw)) {
    if (workloadOptionNames.includes(k)) { workload[k] = v; continue; }
    const owners = HOST_LIST.filter((h) => h.options?.some((x) => x.name === k));
    if (owners.length === 0) {
      const all = [...workloadOptionNames, ...HOST_LIST.flatMap((h) => (h.options ?? []).map((x) => x.name))];
      throw new UsageError(`--opt: neither the workload nor any host has an option '${k}'; accepted: ${all.join(', ')}`);
    }
    for (const h of owners) {
      const spec = h.options!.find((x) => x.name === k)!;
      const m = hosts.get(h.name) ?? {};
      m[k] = parseNumberFlag(`--opt ${k}`, v, spec.min, spec.max);
      hosts.set(h.name, m);
    }
  }
  return { workload, hosts };
}

/** Run every design (or the `only` ones) on `base` (its host and hinting replaced), each host with its own options. */
export async function compareAllHosts(base: RunOptions, hostOptions: Map<string, Record<string, number>>, only?: readonly string[]): Promise<AllHostsRow[]> {
  for (const [name, opts] of hostOptions) {
    const msg = hostByName(name).checkOptions?.(opts, { ops: base.ops ?? (base.mode === 'sim' ? DEFAULT_SIM_OPS : null), mode: base.mode });
    if (msg) throw new UsageError(msg);
  }
  const rows: AllHostsRow[] = [];
  for (const [design, host, hinting] of DESIGNS) {
    if (only && !only.includes(design)) continue;
    const o: RunOptions = { ...base, host: host as RunOptions['host'], hinting, workloadOptions: { ...base.workloadOptions, ...(hostOptions.get(host) ?? {}) } };
    rows.push(rowOf(design, await runMachine(o)));
  }
  return rows;
}

export function formatAllHosts(rows: AllHostsRow[], title: string, sim: boolean): string {
  const cols: [string, (r: AllHostsRow) => string][] = [
    ['design', (r) => r.design], ['host calls', (r) => String(r.host_calls)], ['freed w/o I/O', (r) => String(r.freed_no_io)],
    ['page-outs', (r) => String(r.host_pageouts)], ['page-ins', (r) => String(r.host_pageins)], ['zero fills', (r) => String(r.zero_fills)],
    ['hint work/1000 ops', (r) => String(r.guest_hint_work_per_1000_ops)],
    ...(sim ? [] : [['ops/s', (r: AllHostsRow) => String(r.ops_per_sec)] as [string, (r: AllHostsRow) => string]]),
    [`free->drop (${sim ? 'steps' : 'ms'})`, (r) => (r.free_to_drop === null ? '-' : String(r.free_to_drop))],
    ['double paging', (r) => String(r.double_paging)], ['violations', (r) => String(r.violations)],
  ];
  const w = cols.map(([h, f]) => Math.max(h.length, ...rows.map((r) => f(r).length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
  return [title, line(cols.map(([h]) => h)), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.map((r) => line(cols.map(([, f]) => f(r))))].join('\n') + '\n';
}
