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
import { hunt } from './hunt.js';
import { RACES } from '../shared/races.js';
import { stress } from './stress.js';
import { DEFAULT_JOBS } from './hunt.js';
import { benchShadow } from './shadow_bench.js';
import { STEER_SECONDS } from './steer.js';

export interface BenchEntry { name: string; value: number; unit: string; baseline: number; ratio: number; goal: string; note: string }
export interface RaceBench {
  id: string; oracle: string;
  sim: { median_seconds: number | null; found: number; hunts: number; shrunk_decisions: number | null; shrunk_steps: number | null };
  threads: { seconds: number | null; found: boolean; budget_seconds: number };
}
/** The soak figure: `hintsim stress` for a fixed budget, all fixes on. */
export interface SoakBench { seconds: number; mode: 'threads'; jobs: number; runs: number; ops: number; ops_per_sec: number; violations: number; seed: number }
export interface BenchReport { node: string; cpus_available: number; entries: BenchEntry[]; races: RaceBench[]; soak?: SoakBench }

/** Default budget of the soak entry (bench --soak-seconds). */
export const SOAK_SECONDS = 20;

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

export interface BenchOptions {
  quick: boolean;
  log: (m: string) => void;
  soakSeconds?: number;
  /** Only one host's entries: 'shadow' is the kscand pathology and the time to find the K races. */
  host?: 'shadow';
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const cores = (await import('node:os')).availableParallelism();
  if (opts.host === 'shadow') {
    const entries = await benchShadow(opts);
    return { node: process.version, cpus_available: cores, entries, races: await timeToFind(opts, (r) => r.host === 'shadow') };
  }
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
    note: 'same seed and op count, orders 0-6; baseline issues one ESSA per page',
  });
  const b0 = await runMachine({ ...DEFAULTS, cpus: 1, ops, workloadOptions: { max_order: 0 } });
  const u0 = await runMachine({ ...DEFAULTS, cpus: 1, ops, batch: false, workloadOptions: { max_order: 0 } });
  entries.push({
    name: 'host_calls_per_freed_page_batched_order0', value: per(b0), unit: 'calls/free', baseline: per(u0),
    ratio: per(u0) / Math.max(per(b0), 1e-9), goal: 'ratio >= 8 (8x fewer host calls)',
    note: 'order-0 pages only: every hint goes through a pcp refill or drain of one batch',
  });
  opts.log('bench: mixed workload, hinting full vs off ...');
  const mixedOpts: Partial<RunOptions> = { workload: 'mixed', memBytes: 16 << 20, hinting: 'full' };
  const mFull = await storm(2, secs, mixedOpts);
  const mOff = await storm(2, secs, { ...mixedOpts, hinting: 'off' });
  entries.push({
    name: 'mixed_ops_per_sec_per_cpu', value: mFull.ops_per_sec / 2, unit: 'ops/s/cpu', baseline: one.ops_per_sec,
    ratio: mFull.ops_per_sec / 2 / one.ops_per_sec, goal: 'value >= 1M ops/s per CPU', note: 'baseline: alloc-storm on 1 CPU in the same run',
  });
  entries.push({
    name: 'hinting_full_vs_off_throughput_mixed', value: mFull.ops_per_sec, unit: 'ops/s', baseline: mOff.ops_per_sec,
    ratio: mFull.ops_per_sec / mOff.ops_per_sec, goal: 'ratio >= 0.85 (overhead <= 15%)',
    note: `host page-outs: full ${mFull.counters.host_pageouts} vs off ${mOff.counters.host_pageouts}`,
  });

  opts.log('bench: sim mode vs threads mode on one CPU ...');
  const simOps = opts.quick ? 20_000 : 100_000;
  const tr = await runMachine({ ...DEFAULTS, cpus: 1, ops: simOps, workload: 'mixed', memBytes: 4 << 20, hinting: 'full' });
  const sr = await runMachine({ ...DEFAULTS, cpus: 1, ops: simOps, workload: 'mixed', memBytes: 4 << 20, hinting: 'full', mode: 'sim' });
  entries.push({
    name: 'sim_vs_threads_one_cpu', value: sr.ops_per_sec, unit: 'ops/s', baseline: tr.ops_per_sec,
    ratio: sr.ops_per_sec / tr.ops_per_sec, goal: 'ratio >= 0.5 (sim within 2x of threads)', note: 'mixed, 1 CPU + host, same op count',
  });

  entries.push(...await benchShadow(opts));

  let soak: SoakBench | undefined;
  const soakSeconds = opts.soakSeconds ?? (opts.quick ? 5 : SOAK_SECONDS);
  if (soakSeconds > 0) {
    opts.log(`bench: stress soak for ${soakSeconds} s (swarm runs, threads mode, every fix on) ...`);
    const seed = 1;
    const s = await stress({ seed, seconds: soakSeconds, ops: null, jobs: DEFAULT_JOBS(), mode: 'threads', unfix: [], out: `bench-soak-${seed}`, shrinkSeconds: 5, only: null, steerSeconds: STEER_SECONDS });
    soak = { seconds: s.seconds, mode: 'threads', jobs: s.jobs, runs: s.runs, ops: s.ops, ops_per_sec: s.ops_per_sec, violations: s.failed_runs, seed };
    entries.push({
      name: 'stress_soak_ops_per_sec', value: s.ops_per_sec, unit: 'ops/s', baseline: two.ops_per_sec, ratio: s.ops_per_sec / two.ops_per_sec,
      goal: 'zero violations', note: `${s.runs} swarm runs, ${s.ops} guest ops in ${s.seconds} s, ${s.failed_runs} failing runs${s.out_dir ? ` (replay files in ${s.out_dir})` : ''}; baseline: one alloc-storm run on 2 CPUs (no start-up costs)`,
    });
  }

  const races = await timeToFind(opts, () => true);
  return { node: process.version, cpus_available: cores, entries, races, ...(soak ? { soak } : {}) };
}

/** Time to find each reproduced race the filter keeps: sim hunts (median) and one threads hunt. */
async function timeToFind(opts: BenchOptions, keep: (r: (typeof RACES)[number]) => boolean): Promise<RaceBench[]> {
  const races: RaceBench[] = [];
  const hunts = opts.quick ? 1 : 3;
  for (const r of RACES.filter((x) => x.reproduced && keep(x))) {
    opts.log(`bench: time to find ${r.id} ...`);
    const times: number[] = [];
    let shrunk: { d: number; s: number } | null = null;
    for (let k = 1; k <= hunts; k++) {
      const h = await hunt({ id: r.id, seeds: 400, seconds: 60, jobs: 2, shard: [k, hunts], mode: 'sim', strategy: 'random', depth: 3, cpus: null, shrink: k === 1, shrinkSeconds: 10, fixed: false });
      if (h.found) times.push(h.seconds);
      if (k === 1 && h.replay?.shrink) shrunk = { d: h.replay.shrink.decisions_after, s: h.replay.shrink.steps_after };
    }
    times.sort((a, b) => a - b);
    const budget = opts.quick ? 10 : 30;
    const th = await hunt({ id: r.id, seeds: 1000, seconds: budget, jobs: 2, shard: [1, 1], mode: 'threads', strategy: 'random', depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: false });
    races.push({
      id: r.id, oracle: r.oracle,
      sim: { median_seconds: times.length ? Number(times[times.length >> 1].toFixed(2)) : null, found: times.length, hunts, shrunk_decisions: shrunk?.d ?? null, shrunk_steps: shrunk?.s ?? null },
      threads: { seconds: th.found ? Number(th.seconds.toFixed(2)) : null, found: th.found, budget_seconds: budget },
    });
  }
  return races;
}

export function formatBench(b: BenchReport): string {
  const lines = [`hintsim bench (node ${b.node}, ${b.cpus_available} cores)`];
  for (const e of b.entries) {
    lines.push(`  ${e.name.padEnd(36)} ${e.value.toLocaleString('en-US', { maximumFractionDigits: 3 })} ${e.unit}  vs baseline ${e.baseline.toLocaleString('en-US', { maximumFractionDigits: 3 })}  ratio ${e.ratio.toFixed(2)}  (goal: ${e.goal})`);
  }
  if (b.races.length) {
    lines.push('  time to find (sim: median of the hunts that found it; threads: one hunt)');
    for (const r of b.races) {
      lines.push(`    ${r.id.padEnd(20)} sim ${r.sim.median_seconds ?? '-'} s (${r.sim.found}/${r.sim.hunts} found, shrunk to ${r.sim.shrunk_decisions ?? '-'} decisions)   threads ${r.threads.found ? `${r.threads.seconds} s` : `not found in ${r.threads.budget_seconds} s`}`);
    }
  }
  return lines.join('\n') + '\n';
}
