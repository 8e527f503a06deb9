/**
 * A piscina task for `hintsim stress`. Two kinds:
 *  - run:    one swarm run (its own CPU and host workers); the result without the bulky
 *            parts, plus the recorded schedule when a sim run found a violation
 *  - shrink: turn a failing run into a replay file: in sim mode shrink the recorded
 *            schedule (hunt.ts shrinkSchedule); a threads-mode failure is first re-run in
 *            sim mode with the same options, and shrunk there if it fails the same way
 * The CPU and host workers of one run serve the next run in this thread (worker_pool.ts).
 */
import type { RunOptions, SimSchedule } from './config.js';
import type { RunCoverage } from './coverage.js';
import { shrinkSchedule } from './hunt.js';
import { makeReplayFile, toReplayOptions, type ReplayFile } from './replay_file.js';
import { runMachine, type RunResult } from './run.js';
import { adoptWorkerUrls } from './worker_url.js';
import { setWorkerReuse } from './worker_pool.js';
import type { Violation } from '../shared/oracles.js';

/** Ops of the sim re-run of a threads-mode failure: the threads run's own count, within these bounds. */
export const SIM_REPRO_OPS_MIN = 3_000;
export const SIM_REPRO_OPS_MAX = 20_000;

export type StressTask =
  | { kind: 'run'; urls: Record<string, string>; execArgv: string[] | undefined; index: number; opts: RunOptions }
  | { kind: 'shrink'; urls: Record<string, string>; execArgv: string[] | undefined; index: number; opts: RunOptions; oracle: string;
    violation: Violation; ops: number; schedule: SimSchedule | null; shrinkSeconds: number };

export interface StressRunResult {
  index: number;
  ops: number;
  seconds: number;
  steps: number;
  violations: Violation[];
  coverage: RunCoverage;
  /** Sim mode with a violation: the decisions taken (complete), for the replay file. */
  schedule: SimSchedule | null;
}

export interface StressShrinkResult {
  index: number;
  replay: ReplayFile;
  /** How the replay file came about. */
  how: 'sim-shrunk' | 'sim-recorded' | 'sim-reproduced' | 'threads-only';
}

const pick = (v: Violation) => ({ oracle: v.oracle, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message });

async function run(t: Extract<StressTask, { kind: 'run' }>): Promise<StressRunResult> {
  const sim = t.opts.mode === 'sim';
  const r: RunResult = await runMachine({ ...t.opts, recordSchedule: sim });
  const failed = r.violations.length > 0;
  return {
    index: t.index, ops: r.ops, seconds: r.seconds, steps: r.schedule?.steps ?? 0, violations: r.violations, coverage: r.coverage,
    schedule: failed && sim && r.schedule?.complete ? { first: r.schedule.first, decisions: r.schedule.decisions ?? [] } : null,
  };
}

/** A sim schedule that fires `oracle`: shrunk within the time budget, else as recorded. */
async function simReplay(opts: RunOptions, sched: SimSchedule, oracle: string, first: RunResult | null, v: Violation, seconds: number): Promise<{ replay: ReplayFile; shrunk: boolean }> {
  const base = first ?? await runMachine({ ...opts, schedule: sched });
  const s = seconds > 0 ? await shrinkSchedule(opts, sched, oracle, base, seconds) : null;
  const replay = makeReplayFile({
    race: s?.violation.race ?? v.race, seed: opts.seed, options: toReplayOptions(s?.opts ?? opts), schedule: s?.schedule ?? sched,
    expected: pick(s?.violation ?? v),
    shrink: s ? { steps_before: base.schedule?.steps ?? 0, steps_after: s.steps, decisions_before: sched.decisions.length / 2, decisions_after: s.schedule.decisions.length / 2 } : null,
  });
  return { replay, shrunk: s !== null };
}

async function shrink(t: Extract<StressTask, { kind: 'shrink' }>): Promise<StressShrinkResult> {
  if (t.opts.mode === 'sim' && t.schedule) {
    const { replay, shrunk } = await simReplay(t.opts, t.schedule, t.oracle, null, t.violation, t.shrinkSeconds);
    return { index: t.index, replay, how: shrunk ? 'sim-shrunk' : 'sim-recorded' };
  }
  if (t.opts.mode === 'threads') {
    // Threads mode cannot be replayed exactly: try the same options in sim mode first.
    const simOpts: RunOptions = { ...t.opts, mode: 'sim', seconds: null, ops: Math.min(SIM_REPRO_OPS_MAX, Math.max(SIM_REPRO_OPS_MIN, Math.round(t.ops))), recordSchedule: true };
    const r = await runMachine(simOpts);
    const v = r.violations.find((x) => x.oracle === t.oracle);
    if (v && r.schedule?.complete) {
      const sched: SimSchedule = { first: r.schedule.first, decisions: r.schedule.decisions ?? [] };
      const { replay } = await simReplay({ ...simOpts, recordSchedule: false }, sched, t.oracle, r, v, t.shrinkSeconds);
      return { index: t.index, replay, how: 'sim-reproduced' };
    }
  }
  const replay = makeReplayFile({ race: t.violation.race, seed: t.opts.seed, options: toReplayOptions(t.opts), schedule: t.schedule, expected: pick(t.violation), shrink: null });
  return { index: t.index, replay, how: t.opts.mode === 'sim' ? 'sim-recorded' : 'threads-only' };
}

export default async function stressTask(t: StressTask): Promise<StressRunResult | StressShrinkResult> {
  adoptWorkerUrls(t.urls, t.execArgv);
  setWorkerReuse(true);
  return t.kind === 'run' ? run(t) : shrink(t);
}
