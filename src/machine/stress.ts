/**
 * `hintsim stress`: many short runs in parallel (piscina), each with its own swarm
 * configuration drawn from (stress seed, run index) (swarm.ts), all fixes on unless
 * --unfix. A run that reports a violation stops there; it is turned into a replay file
 * (shrunk in sim mode) in the output directory, and the stress run goes on. At the end:
 * every failure grouped by oracle with its replay command, and the summed coverage with
 * what was never reached.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Violation } from '../shared/oracles.js';
import { formatSize, type Mode, type RunOptions } from './config.js';
import { addCoverage, coverageReport, emptyCoverage, formatCoverage, type CoverageReport } from './coverage.js';
import { replayCommand } from './report_text.js';
import type { ReplayFile } from './replay_file.js';
import type { StressRunResult, StressShrinkResult, StressTask } from './stress_task.js';
import { swarmOptions } from './swarm.js';
import { workerExecArgv, workerUrl, workerUrls } from './worker_url.js';

export interface StressOptions {
  seed: number;
  /** Wall-clock budget for starting runs (null with --ops). */
  seconds: number | null;
  /** Total guest ops budget (null with --seconds). */
  ops: number | null;
  jobs: number;
  mode: Mode;
  unfix: string[];
  /** Directory for replay files, created at the first failure (default stress-<seed>). */
  out: string;
  /** Time budget for shrinking one failure; failures beyond SHRINK_PER_ORACLE of an oracle are not shrunk. */
  shrinkSeconds: number;
  /** Run only these indices (re-running a failure); null: 0, 1, 2, ... until the budget is spent. */
  only: number[] | null;
  onProgress?: (p: StressProgress) => void;
  progressEveryMs?: number;
}

export interface StressProgress {
  elapsedMs: number;
  totalMs: number | null;
  runs: number;
  ops: number;
  totalOps: number | null;
  violations: number;
  inflight: number;
}

export interface StressFailure {
  index: number;
  oracle: string;
  race: string | null;
  pfn: number;
  cpu: number;
  step: number;
  message: string;
  /** Every violation the run reported (the first one stopped it). */
  violations: Violation[];
  /** The run's options as a command line (derived from the stress seed and the index). */
  run_command: string;
  /** The same run re-derived by stress itself. */
  stress_command: string;
  options: { seed: number; workload: string; cpus: number; mem: string; host_mem: string; hinting: string; mode: string; inject: string[]; unfix: string[] };
  replay_file: string | null;
  replay_command: string | null;
  /** sim-shrunk, sim-recorded (not shrunk), sim-reproduced (threads failure re-found in sim mode), threads-only. */
  replay_kind: string | null;
  shrink: ReplayFile['shrink'];
}

export interface StressResult {
  seed: number;
  mode: Mode;
  jobs: number;
  seconds: number;
  runs: number;
  ops: number;
  ops_per_sec: number;
  /** Runs that reported at least one violation. */
  failed_runs: number;
  failures: StressFailure[];
  /** Oracle -> indices of the failing runs whose first violation it was. */
  by_oracle: Record<string, number[]>;
  out_dir: string | null;
  /** Runs that had each injection point active. */
  inject_runs: Record<string, number>;
  workload_runs: Record<string, number>;
  coverage: CoverageReport;
}

/** Failures of one oracle that get shrunk; later ones keep their recorded schedule. */
export const SHRINK_PER_ORACLE = 3;

function stressCommand(o: StressOptions, index: number): string {
  return ['hintsim', 'stress', '--seed', String(o.seed), '--mode', o.mode, ...(o.unfix.length ? ['--unfix', o.unfix.join(',')] : []), '--run', String(index)].join(' ');
}

export async function stress(o: StressOptions): Promise<StressResult> {
  const t0 = performance.now();
  const deadline = o.seconds !== null ? t0 + o.seconds * 1000 : Infinity;
  const base = { seed: o.seed, mode: o.mode, unfix: o.unfix };
  const pool = new Piscina({ filename: workerUrl('stress_task').href, minThreads: o.jobs, maxThreads: o.jobs, idleTimeout: 1000 });
  const urls = workerUrls();
  const execArgv = workerExecArgv();
  const coverage = emptyCoverage();
  const failures: StressFailure[] = [];
  const byOracle: Record<string, number[]> = {};
  const injectRuns: Record<string, number> = {};
  const workloadRuns: Record<string, number> = {};
  const shrinkQueue: StressTask[] = [];
  let nextIndex = 0;
  let onlyPos = 0;
  let runs = 0;
  let ops = 0;
  let plannedOps = 0;
  let failedRuns = 0;
  let outMade = false;
  let failure: unknown = null;
  const inflight = new Set<Promise<void>>();

  /** The next run to start, or null when the budget is spent. */
  const nextRun = (): { index: number; opts: RunOptions } | null => {
    if (failure) return null;
    if (o.only) {
      if (onlyPos >= o.only.length) return null;
      const index = o.only[onlyPos++];
      return { index, opts: swarmOptions(base, index) };
    }
    if (performance.now() >= deadline) return null;
    if (o.ops !== null) {
      // sim runs have a known op count: the set of runs is a pure function of the budget
      if (o.mode === 'sim' ? plannedOps >= o.ops : ops + inflight.size * (runs ? ops / runs : 0) >= o.ops) return null;
    }
    const index = nextIndex++;
    const opts = swarmOptions(base, index);
    plannedOps += opts.ops ?? 0;
    return { index, opts };
  };

  const writeReplay = (r: StressShrinkResult): void => {
    const f = failures.find((x) => x.index === r.index)!;
    if (!outMade) { mkdirSync(o.out, { recursive: true }); outMade = true; }
    const file = join(o.out, `run-${r.index}-${f.oracle}.replay.json`);
    writeFileSync(file, JSON.stringify(r.replay, null, 2) + '\n');
    f.replay_file = file;
    f.replay_command = `hintsim replay ${file}`;
    f.replay_kind = r.how;
    f.shrink = r.replay.shrink;
  };

  const onRun = (opts: RunOptions, r: StressRunResult): void => {
    runs++;
    ops += r.ops;
    addCoverage(coverage, r.coverage);
    for (const p of opts.inject) injectRuns[p] = (injectRuns[p] ?? 0) + 1;
    workloadRuns[opts.workload] = (workloadRuns[opts.workload] ?? 0) + 1;
    if (r.violations.length === 0) return;
    failedRuns++;
    const v = r.violations[0];
    (byOracle[v.oracle] ??= []).push(r.index);
    failures.push({
      index: r.index, oracle: v.oracle, race: v.race, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message, violations: r.violations,
      run_command: replayCommand(opts), stress_command: stressCommand(o, r.index),
      options: { seed: opts.seed, workload: opts.workload, cpus: opts.cpus, mem: formatSize(opts.memBytes), host_mem: formatSize(opts.hostMemBytes ?? opts.memBytes / 2), hinting: opts.hinting, mode: opts.mode, inject: opts.inject, unfix: opts.unfix },
      replay_file: null, replay_command: null, replay_kind: null, shrink: null,
    });
    const shrinkable = byOracle[v.oracle].length <= SHRINK_PER_ORACLE;
    shrinkQueue.push({
      kind: 'shrink', urls, execArgv, index: r.index, opts, oracle: v.oracle, violation: v, ops: r.ops, schedule: r.schedule,
      shrinkSeconds: shrinkable ? o.shrinkSeconds : 0,
    });
  };

  const launch = (task: StressTask, done: (x: StressRunResult | StressShrinkResult) => void): void => {
    const p: Promise<void> = (pool.run(task) as Promise<StressRunResult | StressShrinkResult>)
      .then(done, (e: unknown) => { failure ??= e; })
      .finally(() => { inflight.delete(p); });
    inflight.add(p);
  };

  const progress = (): StressProgress => ({
    elapsedMs: performance.now() - t0, totalMs: o.seconds !== null && !o.only ? o.seconds * 1000 : null, runs, ops,
    totalOps: o.ops, violations: failedRuns, inflight: inflight.size,
  });
  const timer = o.onProgress ? setInterval(() => o.onProgress!(progress()), o.progressEveryMs ?? 200) : null;
  try {
    for (;;) {
      while (inflight.size < o.jobs && !failure) {
        const s = shrinkQueue.shift();
        if (s) { launch(s, (x) => writeReplay(x as StressShrinkResult)); continue; }
        const n = nextRun();
        if (!n) break;
        launch({ kind: 'run', urls, execArgv, index: n.index, opts: n.opts }, (x) => onRun(n.opts, x as StressRunResult));
      }
      if (inflight.size === 0 && shrinkQueue.length === 0) break;
      if (inflight.size === 0 && failure) break;
      await Promise.race(inflight);
    }
    if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  } finally {
    if (timer) clearInterval(timer);
    await pool.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  failures.sort((a, b) => a.index - b.index);
  for (const k of Object.keys(byOracle)) byOracle[k].sort((a, b) => a - b);
  return {
    seed: o.seed, mode: o.mode, jobs: o.jobs, seconds: Number(seconds.toFixed(2)), runs, ops, ops_per_sec: Math.round(ops / Math.max(seconds, 1e-6)),
    failed_runs: failedRuns, failures, by_oracle: byOracle, out_dir: outMade ? o.out : null,
    inject_runs: sortedByKey(injectRuns), workload_runs: sortedByKey(workloadRuns), coverage: coverageReport(coverage),
  };
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

function replayHow(f: StressFailure): string {
  const sh = f.shrink;
  switch (f.replay_kind) {
    case 'sim-shrunk': case 'sim-reproduced':
      if (!sh) return 'exact schedule';
      return `${f.replay_kind === 'sim-reproduced' ? 'found again in sim mode, ' : ''}${sh.decisions_after < sh.decisions_before
        ? `shrunk ${sh.decisions_before} -> ${sh.decisions_after} decisions, ${sh.steps_before} -> ${sh.steps_after} steps` : `${sh.decisions_before} decisions, nothing smaller found in the shrink budget`}`;
    case 'sim-recorded': return 'the recorded schedule, not shrunk';
    case 'threads-only': return 'threads mode: the same options, not the same interleaving (a sim run with them did not fail)';
    default: return String(f.replay_kind);
  }
}

function sortedByKey(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The human summary: totals, failures grouped by oracle with their replay commands, coverage. */
export function formatStress(r: StressResult): string {
  const out: string[] = [];
  out.push(`hintsim stress: seed ${r.seed}, ${r.mode} mode, ${r.jobs} jobs: ${n(r.runs)} runs, ${n(r.ops)} guest ops in ${r.seconds.toFixed(1)} s (${n(r.ops_per_sec)} ops/s)`);
  out.push(`  workloads    ${Object.entries(r.workload_runs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push(`  injection    ${Object.entries(r.inject_runs).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} (runs with the point active)`);
  if (r.failures.length === 0) {
    out.push('  violations   none');
  } else {
    out.push(`  violations   ${r.failed_runs} failing runs`);
    for (const [oracle, idx] of Object.entries(r.by_oracle).sort()) {
      out.push(`  [${oracle}] ${idx.length} run${idx.length === 1 ? '' : 's'}`);
      for (const f of r.failures.filter((x) => x.oracle === oracle)) {
        out.push(`    run ${f.index}${f.race ? ` (race ${f.race})` : ''}: pfn ${f.pfn}, ${f.cpu === f.options.cpus ? 'host' : `cpu ${f.cpu}`}, step ${f.step}: ${f.message.length > 300 ? `${f.message.slice(0, 300)}...` : f.message}`);
        out.push(`      options:  ${f.run_command}`);
        out.push(`      rerun:    ${f.stress_command}`);
        if (f.replay_command) out.push(`      replay:   ${f.replay_command}   (${replayHow(f)})`);
      }
    }
  }
  out.push(formatCoverage(r.coverage).trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
  return out.join('\n') + '\n';
}
