/**
 * `hintsim stress`: many short runs in parallel (piscina), each with its own swarm
 * configuration drawn from (stress seed, run index) (swarm.ts), all fixes on unless
 * --unfix. A run that reports a violation stops there; it is turned into a replay file
 * in the output directory, and the stress run goes on: a sim run's schedule is shrunk; a
 * threads run's failure is searched for in sim mode, steered by what it tells (steer.ts),
 * its attempts run in the same pool, and only when none reproduces it within its budget
 * is the file threads-only (options, no schedule). At the end: every failure grouped by
 * oracle with its replay command, how many threads failures got a sim schedule, and the
 * summed coverage with what was never reached.
 *
 * --steer FILE,...: no swarm runs; the threads-only replay files given are searched for
 * in sim mode the same way (run index = position in the list).
 */
import { mkdirSync } from 'node:fs';
import { hintsimCommand, replayFileCommand, shellPath, writeOwnFile } from '../machine/invocation.js';
import { addToCorpus } from './corpus.js';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Violation } from '../core/oracles.js';
import { formatSize, type Mode, type RunOptions, type Strategy } from '../machine/config.js';
import { fromReplayOptions, makeReplayFile, toReplayOptions } from './replay_file.js';
import { RING_ATTEMPT, STEER_ATTEMPTS_MAX, SteerJob, planOptions, type SteerAttemptResult, type SteeringRecord } from './steer.js';
import type { RingInput } from './ring_schedule.js';
import { addCoverage, coverageReport, emptyCoverage, formatCoverage, type CoverageReport } from '../machine/coverage.js';
import { replayCommand } from '../machine/config.js';
import type { ReplayFile } from './replay_file.js';
import type { ReplayKind, StressRunResult, StressShrinkResult, StressTask } from './stress_task.js';
import { swarmOptions } from './swarm.js';
import { workerExecArgv, workerUrl, workerUrls } from '../machine/worker_url.js';

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
  /** The failure corpus every replay file also goes to (explore/corpus.ts); null none. */
  corpus?: string | null;
  /** Sim mode: this strategy in every run instead of the swarm's draw (--strategy); null the draw. */
  strategy?: Strategy | null;
  /** Time budget for shrinking one failure; failures beyond SHRINK_PER_ORACLE of an oracle are not shrunk. */
  shrinkSeconds: number;
  /** Run only these indices (re-running a failure); null: 0, 1, 2, ... until the budget is spent. */
  only: number[] | null;
  /**
   * Wall-clock budget of the sim search for one threads-mode failure (steer.ts); 0: only the
   * unsteered retry. Like shrinking, only the first SHRINK_PER_ORACLE failures of an oracle
   * get it; later ones get the unsteered retry alone.
   */
  steerSeconds: number;
  /** Bugs planted in every run (debug.ts; tests of the failure paths). */
  debugFaults?: string[];
  /** --steer: no runs; search sim schedules for these threads-only replay files (read and checked by the caller). */
  steer?: { file: string; replay: ReplayFile }[];
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
  /** stress_task.ts ReplayKind: sim-shrunk, sim-recorded, sim-reproduced, sim-steered, threads-only. */
  replay_kind: ReplayKind | null;
  shrink: ReplayFile['shrink'];
  /** A threads-mode failure: its sim search (steer.ts). */
  steering: SteeringRecord | null;
}

/** Threads-mode failures and what became of them. */
export interface ThreadsFailures {
  total: number;
  /** Replay files with a sim schedule: re-found with the run's own options, or by a steered attempt. */
  sim_replay: number;
  /** Of those, found by a steered attempt (not the unsteered retry). */
  steered: number;
  /** Of those, found by re-enacting the threads run's point rings (ring_schedule.ts). */
  ring: number;
  threads_only: number;
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
  threads_failures: ThreadsFailures;
  /** Runs that had each injection point active. */
  inject_runs: Record<string, number>;
  workload_runs: Record<string, number>;
  coverage: CoverageReport;
}

/** Failures of one oracle that get shrunk; later ones keep their recorded schedule. */
export const SHRINK_PER_ORACLE = 3;

function stressCommand(o: StressOptions, index: number): string {
  if (o.steer) return [hintsimCommand(), 'stress', '--seed', String(o.seed), '--steer', shellPath(o.steer[index].file)].join(' ');
  return [hintsimCommand(), 'stress', '--seed', String(o.seed), '--mode', o.mode, ...(o.unfix.length ? ['--unfix', o.unfix.join(',')] : []),
    ...(o.debugFaults?.length ? ['--debug-fault', o.debugFaults.join(',')] : []), ...(o.strategy ? ['--strategy', o.strategy] : []), '--run', String(index)].join(' ');
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
  /** Threads-mode failures whose sim search goes on, oldest first. */
  const steering: { job: SteerJob; f: StressFailure; shrinkSeconds: number }[] = [];
  let nextIndex = 0;
  let onlyPos = 0;
  let runs = 0;
  let ops = 0;
  let plannedOps = 0;
  let failedRuns = 0;
  let outMade = false;
  let failure: unknown = null;
  const inflight = new Set<Promise<void>>();

  /** The options of run `index`: the swarm's, with the planted bugs. */
  const runOptions = (index: number): RunOptions => {
    const drawn = swarmOptions(base, index);
    const opts = o.strategy && drawn.mode === 'sim' ? { ...drawn, strategy: o.strategy } : drawn;
    return o.debugFaults?.length ? { ...opts, debugFaults: [...o.debugFaults] } : opts;
  };

  /** The next run to start, or null when the budget is spent. */
  const nextRun = (): { index: number; opts: RunOptions } | null => {
    if (failure || o.steer) return null;
    if (o.only) {
      if (onlyPos >= o.only.length) return null;
      const index = o.only[onlyPos++];
      return { index, opts: runOptions(index) };
    }
    if (performance.now() >= deadline) return null;
    if (o.ops !== null) {
      // sim runs have a known op count: the set of runs is a pure function of the budget
      if (o.mode === 'sim' ? plannedOps >= o.ops : ops + inflight.size * (runs ? ops / runs : 0) >= o.ops) return null;
    }
    const index = nextIndex++;
    const opts = runOptions(index);
    plannedOps += opts.ops ?? 0;
    return { index, opts };
  };

  const writeFile = (f: StressFailure, replay: ReplayFile, how: ReplayKind): void => {
    if (!outMade) { mkdirSync(o.out, { recursive: true }); outMade = true; }
    const file = join(o.out, `run-${f.index}-${f.oracle}.replay.json`);
    writeOwnFile(file, JSON.stringify(replay, null, 2) + '\n');
    if (o.corpus) addToCorpus(o.corpus, replay);
    f.replay_file = file;
    f.replay_command = replayFileCommand(file);
    f.replay_kind = how;
    f.shrink = replay.shrink;
    f.steering = replay.steering ?? f.steering;
  };
  const writeReplay = (r: StressShrinkResult): void => writeFile(failures.find((x) => x.index === r.index)!, r.replay, r.how);

  /** Record a failing run; the first SHRINK_PER_ORACLE of an oracle get the shrink and steer budgets. */
  const addFailure = (index: number, opts: RunOptions, v: Violation, violations: Violation[]): { f: StressFailure; budgeted: boolean } => {
    failedRuns++;
    (byOracle[v.oracle] ??= []).push(index);
    const f: StressFailure = {
      index, oracle: v.oracle, race: v.race, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message, violations,
      run_command: replayCommand(opts), stress_command: stressCommand(o, index),
      options: { seed: opts.seed, workload: opts.workload, cpus: opts.cpus, mem: formatSize(opts.memBytes), host_mem: formatSize(opts.hostMemBytes ?? opts.memBytes / 2), hinting: opts.hinting, mode: opts.mode, inject: opts.inject, unfix: opts.unfix },
      replay_file: null, replay_command: null, replay_kind: null, shrink: null, steering: null,
    };
    failures.push(f);
    return { f, budgeted: byOracle[v.oracle].length <= SHRINK_PER_ORACLE };
  };

  /** A threads-mode failure: search it in sim mode (steer.ts). */
  const startSteering = (f: StressFailure, key: number, opts: RunOptions, v: Violation, runOps: number | null, budgeted: boolean, ring: RingInput | null): void => {
    const job = new SteerJob({ seed: o.seed, key, opts, violation: v, ops: runOps, ring }, budgeted ? o.steerSeconds : 0, STEER_ATTEMPTS_MAX);
    steering.push({ job, f, shrinkSeconds: budgeted ? o.shrinkSeconds : 0 });
  };

  const onRun = (opts: RunOptions, r: StressRunResult): void => {
    runs++;
    ops += r.ops;
    addCoverage(coverage, r.coverage);
    for (const p of opts.inject) injectRuns[p] = (injectRuns[p] ?? 0) + 1;
    workloadRuns[opts.workload] = (workloadRuns[opts.workload] ?? 0) + 1;
    if (r.violations.length === 0) return;
    const v = r.violations[0];
    const { f, budgeted } = addFailure(r.index, opts, v, r.violations);
    if (opts.mode === 'threads') { startSteering(f, r.index, opts, v, r.ops, budgeted, r.ring); return; }
    if (!r.schedule) {
      writeFile(f, makeReplayFile({ race: v.race, seed: opts.seed, options: toReplayOptions(opts), schedule: null, expected: pick(v), shrink: null, replay_kind: 'sim-recorded' }), 'sim-recorded');
      return;
    }
    shrinkQueue.push({
      kind: 'shrink', urls, execArgv, index: r.index, opts, oracle: v.oracle, violation: v, schedule: r.schedule,
      shrinkSeconds: budgeted ? o.shrinkSeconds : 0, steered: null,
    });
  };

  /** Searches that are over: a shrink task for a found schedule, else a threads-only file. */
  const settleSteering = (): void => {
    const now = performance.now();
    for (let i = 0; i < steering.length;) {
      const { job, f, shrinkSeconds } = steering[i];
      const out = job.outcome(now);
      if (!out) { i++; continue; }
      steering.splice(i, 1);
      f.steering = out.record;
      const want = { oracle: f.oracle, pfn: f.pfn, cpu: f.cpu, step: f.step, message: f.message };
      if (out.found) {
        const v = out.found.violation!;
        const byRing = out.found.attempt === RING_ATTEMPT;
        // the ring run's recorded schedule replays without the rings
        const opts = byRing ? { ...job.ringOptions(), ring: null } : planOptions(job.input.opts, out.record.plan!);
        shrinkQueue.push({
          kind: 'shrink', urls, execArgv, index: f.index, opts, oracle: v.oracle, violation: v,
          schedule: out.found.schedule!, shrinkSeconds, steered: { want, how: byRing ? 'sim-ring' : out.found.attempt === 0 ? 'sim-reproduced' : 'sim-steered', steering: out.record },
        });
      } else {
        const opts = job.input.opts;
        writeFile(f, makeReplayFile({ race: f.race, seed: opts.seed, options: toReplayOptions(opts), schedule: null, expected: want, shrink: null, replay_kind: 'threads-only', steering: out.record, ...(out.record.ring ? { ring_replay: out.record.ring } : {}) }), 'threads-only');
      }
    }
  };

  /** The next steer attempt to start (the oldest search first), or null. */
  const nextSteer = (): { task: StressTask; job: SteerJob } | null => {
    const now = performance.now();
    for (const { job, f } of steering) {
      const a = job.next(now);
      if (a) {
        const want = { oracle: f.oracle, pfn: f.pfn, cpu: f.cpu, step: f.step, message: f.message };
        return { job, task: { kind: 'steer', urls, execArgv, index: f.index, attempt: a.attempt, opts: a.opts, want, ...(a.attempt === RING_ATTEMPT ? { ring: job.input.ring! } : {}) } };
      }
    }
    return null;
  };

  // --steer: the failures are the files'
  for (const [i, s] of (o.steer ?? []).entries()) {
    const opts = fromReplayOptions(s.replay.options, s.replay.seed, null);
    const e = s.replay.expected;
    const v: Violation = { race: s.replay.race, oracle: e.oracle as Violation['oracle'], pfn: e.pfn, cpu: e.cpu, step: e.step, message: e.message };
    const { f } = addFailure(i, opts, v, [v]);
    startSteering(f, s.replay.seed, opts, v, null, true, null); // asked for by name: every file gets the budget (a file keeps no rings)
  }

  type TaskResult = StressRunResult | SteerAttemptResult | StressShrinkResult;
  const launch = (task: StressTask, done: (x: TaskResult) => void): void => {
    const p: Promise<void> = (pool.run(task) as Promise<TaskResult>)
      .then(done, (e: unknown) => { failure ??= e; })
      .finally(() => { inflight.delete(p); });
    inflight.add(p);
  };

  const progress = (): StressProgress => ({
    elapsedMs: performance.now() - t0, totalMs: o.seconds !== null && !o.only && !o.steer ? o.seconds * 1000 : null, runs, ops,
    totalOps: o.ops, violations: failedRuns, inflight: inflight.size,
  });
  const timer = o.onProgress ? setInterval(() => o.onProgress!(progress()), o.progressEveryMs ?? 200) : null;
  try {
    for (;;) {
      settleSteering();
      while (inflight.size < o.jobs && !failure) {
        const s = shrinkQueue.shift();
        if (s) { launch(s, (x) => writeReplay(x as StressShrinkResult)); continue; }
        const a = nextSteer();
        if (a) { launch(a.task, (x) => a.job.done(x as SteerAttemptResult, performance.now())); continue; }
        const n = nextRun();
        if (!n) break;
        launch({ kind: 'run', urls, execArgv, index: n.index, opts: n.opts }, (x) => onRun(n.opts, x as StressRunResult));
      }
      if (inflight.size === 0 && failure) break;
      if (inflight.size === 0) {
        settleSteering();
        if (shrinkQueue.length === 0 && steering.length === 0) break;
        continue;
      }
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
  const threadsFailures = failures.filter((f) => f.steering !== null);
  const simReplay = threadsFailures.filter((f) => f.replay_kind === 'sim-ring' || f.replay_kind === 'sim-reproduced' || f.replay_kind === 'sim-steered');
  return {
    seed: o.seed, mode: o.mode, jobs: o.jobs, seconds: Number(seconds.toFixed(2)), runs, ops, ops_per_sec: Math.round(ops / Math.max(seconds, 1e-6)),
    failed_runs: failedRuns, failures, by_oracle: byOracle, out_dir: outMade ? o.out : null,
    threads_failures: {
      total: threadsFailures.length, sim_replay: simReplay.length, steered: simReplay.filter((f) => f.replay_kind === 'sim-steered').length,
      ring: simReplay.filter((f) => f.replay_kind === 'sim-ring').length,
      threads_only: threadsFailures.filter((f) => f.replay_kind === 'threads-only').length,
    },
    inject_runs: sortedByKey(injectRuns), workload_runs: sortedByKey(workloadRuns), coverage: coverageReport(coverage),
  };
}

const pick = (v: Violation) => ({ oracle: v.oracle, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message });

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

function replayHow(f: StressFailure): string {
  const sh = f.shrink;
  switch (f.replay_kind) {
    case 'sim-shrunk': case 'sim-ring': case 'sim-reproduced': case 'sim-steered': {
      const found = f.replay_kind === 'sim-ring' ? `found again in sim mode by re-enacting the threads run's last ${f.steering?.ring?.window_points ?? 0} scheduling points, `
        : f.replay_kind === 'sim-reproduced' ? 'found again in sim mode with its own options, '
        : f.replay_kind === 'sim-steered' ? `found in sim mode by steered attempt ${f.steering?.found_at} (${steerHow(f.steering!)}), ` : '';
      if (!sh) return `${found}exact schedule`;
      return `${found}${sh.decisions_after < sh.decisions_before
        ? `shrunk ${sh.decisions_before} -> ${sh.decisions_after} decisions, ${sh.steps_before} -> ${sh.steps_after} steps` : `${sh.decisions_before} decisions, nothing smaller found in the shrink budget`}`;
    }
    case 'sim-recorded': return 'the recorded schedule, not shrunk';
    case 'threads-only': return `threads mode: the same options, not the same interleaving (${f.steering?.ring ? 'its point rings re-enacted and ' : ''}${f.steering?.attempts ?? 0} sim attempt${f.steering?.attempts === 1 ? '' : 's'} in ${f.steering?.seconds ?? 0} s did not fail the same way)`;
    default: return String(f.replay_kind);
  }
}

/** What a steered attempt changed: strategy, injection points added, the pfn favoured. */
function steerHow(s: SteeringRecord): string {
  const p = s.plan!;
  const strat = p.strategy === 'pct' ? `pct depth ${p.depth}` : `random, a switch every ${p.switch_every} points`;
  return [`seed ${p.seed}`, strat, p.inject_added.length ? `+${p.inject_added.join(',')}` : '', p.inject_pfn !== null ? `favouring pfn ${p.inject_pfn}` : ''].filter(Boolean).join(', ');
}

/** The threads-failures line: how many got a sim schedule. */
export function formatThreadsFailures(t: ThreadsFailures): string {
  return `${t.total} in threads mode: ${t.sim_replay} replay in sim mode (${t.ring} found by re-enacting their point rings, ${t.steered} by steering), ${t.threads_only} threads-only`;
}

function sortedByKey(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The human summary: totals, failures grouped by oracle with their replay commands, coverage. */
export function formatStress(r: StressResult): string {
  const out: string[] = [];
  out.push(`hintsim stress: seed ${r.seed}, ${r.mode} mode, ${r.jobs} jobs: ${n(r.runs)} runs, ${n(r.ops)} guest ops in ${r.seconds.toFixed(1)} s (${n(r.ops_per_sec)} ops/s)`);
  // stress --steer runs no swarm runs: no workloads, injection or coverage to show
  if (r.runs > 0) out.push(`  workloads    ${Object.entries(r.workload_runs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (r.runs > 0) out.push(`  injection    ${Object.entries(r.inject_runs).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} (runs with the point active)`);
  if (r.failures.length === 0) {
    out.push('  violations   none');
  } else {
    out.push(`  violations   ${r.failed_runs} failing runs`);
    if (r.threads_failures.total > 0) out.push(`  failures     ${formatThreadsFailures(r.threads_failures)}`);
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
  if (r.runs > 0) out.push(formatCoverage(r.coverage).trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
  return out.join('\n') + '\n';
}
