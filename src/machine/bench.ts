/**
 * `hintsim bench`: every figure is a ratio against a baseline measured in the same run,
 * because these machines are noisy. Never part of the test run.
 */
import { __free_pages, alloc_pages, pageAllocInit } from '../guest/page_alloc.js';
import { ctxInit, V } from '../shared/ctx.js';
import { PAGE_WORDS, PG_COUNT } from '../shared/layout.js';
import { bootMachine } from './boot.js';
import { DEFAULTS, type RunOptions } from './config.js';
import { runMachine, type RunResult } from './run.js';

export interface BenchEntry { name: string; value: number; unit: string; baseline: number; ratio: number; goal: string; note: string }
export interface BenchReport { node: string; cpus_available: number; entries: BenchEntry[] }

function timeLoop(ms: number, body: (n: number) => void): number {
  const chunk = 10_000;
  let total = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) { body(chunk); total += chunk; t = performance.now(); }
  return total / ((t - t0) / 1000);
}

/** pcp alloc+free pairs per second on one CPU vs raw CAS pairs on the same buffer. */
function benchPcp(ms: number): BenchEntry {
  const o: RunOptions = { ...DEFAULTS, cpus: 1 };
  const v = bootMachine(o);
  ctxInit(v, 0);
  pageAllocInit();
  const warm = alloc_pages(0, false);
  __free_pages(warm, 0);
  const pairs = timeLoop(ms, (n) => { for (let i = 0; i < n; i++) __free_pages(alloc_pages(0, false), 0); });
  const idx = warm * PAGE_WORDS + PG_COUNT;
  const page = V.page;
  const cas = timeLoop(ms, (n) => {
    for (let i = 0; i < n; i++) { Atomics.compareExchange(page, idx, -1, 0); Atomics.compareExchange(page, idx, 0, -1); }
  });
  return {
    name: 'pcp_alloc_free_pairs_per_cpu', value: Math.round(pairs), unit: 'pairs/s', baseline: Math.round(cas),
    ratio: pairs / cas, goal: 'ratio >= 0.35 (about 10M pairs/s)', note: 'baseline: two Atomics.compareExchange on the same SharedArrayBuffer word',
  };
}

async function storm(cpus: number, seconds: number, extra: Partial<RunOptions> = {}): Promise<RunResult> {
  const r = await runMachine({ ...DEFAULTS, cpus, seconds, ...extra });
  if (r.violations.length) throw new Error(`bench run had violations: ${r.violations[0].message}`);
  return r;
}

export async function runBench(opts: { quick: boolean; log: (m: string) => void }): Promise<BenchReport> {
  const ms = opts.quick ? 200 : 1000;
  const secs = opts.quick ? 0.5 : 3;
  const entries: BenchEntry[] = [];
  opts.log('bench: pcp alloc/free vs raw CAS ...');
  entries.push(benchPcp(ms));

  opts.log('bench: alloc-storm on 1 and 2 CPUs ...');
  const one = await storm(1, secs);
  const two = await storm(2, secs);
  entries.push({
    name: 'alloc_storm_2cpu_scaling', value: two.ops_per_sec, unit: 'ops/s', baseline: one.ops_per_sec,
    ratio: two.ops_per_sec / one.ops_per_sec, goal: 'ratio >= 1.7', note: 'alloc-storm, 2 CPUs vs 1 CPU, hinting unused, host worker running',
  });

  opts.log('bench: hinting on vs off ...');
  const off = await storm(2, secs, { hinting: 'off' });
  entries.push({
    name: 'hinting_unused_vs_off_throughput', value: two.ops_per_sec, unit: 'ops/s', baseline: off.ops_per_sec,
    ratio: two.ops_per_sec / off.ops_per_sec, goal: 'ratio >= 0.85 (overhead <= 15%)',
    note: `host page-outs: hinting ${two.counters.host_pageouts} vs off ${off.counters.host_pageouts}`,
  });

  opts.log('bench: host calls per freed page, batched vs unbatched ...');
  const ops = opts.quick ? 50_000 : 400_000;
  const b = await runMachine({ ...DEFAULTS, cpus: 1, ops });
  const u = await runMachine({ ...DEFAULTS, cpus: 1, ops, batch: false });
  const per = (r: RunResult): number => (r.counters.essa_calls + r.counters.essa_batches) / Math.max(1, r.counters.frees);
  entries.push({
    name: 'host_calls_per_freed_page_batched', value: per(b), unit: 'calls/free', baseline: per(u),
    ratio: per(u) / Math.max(per(b), 1e-9), goal: 'ratio >= 8 (8x fewer host calls)',
    note: 'same seed and op count; baseline issues one ESSA per page',
  });
  return { node: process.version, cpus_available: (await import('node:os')).availableParallelism(), entries };
}

export function formatBench(b: BenchReport): string {
  const lines = [`hintsim bench (node ${b.node}, ${b.cpus_available} cores)`];
  for (const e of b.entries) {
    lines.push(`  ${e.name.padEnd(36)} ${e.value.toLocaleString('en-US', { maximumFractionDigits: 3 })} ${e.unit}  vs baseline ${e.baseline.toLocaleString('en-US', { maximumFractionDigits: 3 })}  ratio ${e.ratio.toFixed(2)}  (goal: ${e.goal})`);
  }
  return lines.join('\n') + '\n';
}
