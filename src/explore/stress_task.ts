/**
 * A piscina task for `hintsim stress`. Three kinds:
 *  - run:    one swarm run (its own CPU and host workers); the result without the bulky
 *            parts, plus the recorded schedule when a sim run found a violation
 *  - steer:  one sim attempt at a threads-mode failure (steer.ts): did it fail the same
 *            way, and with which schedule (the ring attempt too: ring_schedule.ts)
 *  - shrink: turn a failing sim schedule (a sim run's, or a steer attempt's) into a replay
 *            file: shrink it within the time budget (shrink.ts shrinkSchedule), keeping the
 *            same failure, else keep it as recorded
 * The CPU and host workers of one run serve the next run in this thread (worker_pool.ts).
 */
import type { RunOptions, SimSchedule } from '../machine/config.js';
import type { RunCoverage } from '../machine/coverage.js';
import { shrinkRecord, shrinkSchedule } from './shrink.js';
import { makeReplayFile, toReplayOptions, type Expected, type ReplayFile } from './replay_file.js';
import { recordedSchedule, runMachine, type RunResult } from '../machine/run.js';
import { RING_ATTEMPT, sameFailure, type SteerAttemptResult, type SteeringRecord } from './steer.js';
import { ringInput, ringRecord, type RingInput } from './ring_schedule.js';
import { adoptWorkerUrls } from '../machine/worker_url.js';
import { setWorkerReuse } from '../machine/worker_pool.js';
import type { Violation } from '../core/oracles.js';

export type StressTask =
  | { kind: 'run'; urls: Record<string, string>; execArgv: string[] | undefined; index: number; opts: RunOptions }
  | { kind: 'steer'; urls: Record<string, string>; execArgv: string[] | undefined; index: number; attempt: number; opts: RunOptions; want: Expected;
    /** The ring attempt (attempt RING_ATTEMPT): the rings it re-enacts, for its record. */
    ring?: RingInput }
  | { kind: 'shrink'; urls: Record<string, string>; execArgv: string[] | undefined; index: number; opts: RunOptions; oracle: string;
    violation: Violation; schedule: SimSchedule; shrinkSeconds: number;
    /** A steered schedule: keep its failure while shrinking (steer.ts sameFailure); how it was found. */
    steered: { want: Expected; how: 'sim-reproduced' | 'sim-steered' | 'sim-ring'; steering: SteeringRecord } | null };

export interface StressRunResult {
  index: number;
  ops: number;
  seconds: number;
  steps: number;
  violations: Violation[];
  coverage: RunCoverage;
  /** Sim mode with a violation: the decisions taken (complete), for the replay file. */
  schedule: SimSchedule | null;
  /** Threads mode with a violation: the merged window of its point rings (null: none). */
  ring: RingInput | null;
}

export interface StressShrinkResult {
  index: number;
  replay: ReplayFile;
  /** How the replay file came about. */
  how: ReplayKind;
}

/**
 * sim-shrunk / sim-recorded: a sim run's schedule, shrunk or as recorded; sim-ring: a
 * threads failure found again by re-enacting its point rings (ring_schedule.ts);
 * sim-reproduced: found again by a sim run with its own options; sim-steered: found by a
 * steered attempt (steer.ts); threads-only: no sim schedule found, the options alone.
 */
export type ReplayKind = 'sim-shrunk' | 'sim-recorded' | 'sim-ring' | 'sim-reproduced' | 'sim-steered' | 'threads-only';

const pick = (v: Violation) => ({ oracle: v.oracle, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message });

async function run(t: Extract<StressTask, { kind: 'run' }>): Promise<StressRunResult> {
  const sim = t.opts.mode === 'sim';
  const r: RunResult = await runMachine({ ...t.opts, recordSchedule: sim, recordRing: !sim });
  const failed = r.violations.length > 0;
  return {
    index: t.index, ops: r.ops, seconds: r.seconds, steps: r.schedule?.steps ?? 0, violations: r.violations, coverage: r.coverage,
    schedule: failed && sim ? recordedSchedule(r) : null,
    ring: failed && !sim ? ringInput(r) : null,
  };
}

/** One steered sim attempt at a threads-mode failure. */
async function steer(t: Extract<StressTask, { kind: 'steer' }>): Promise<SteerAttemptResult> {
  const t0 = performance.now();
  const r = await runMachine({ ...t.opts, recordSchedule: true });
  const v = r.violations.find((x) => sameFailure(x, t.want)) ?? null;
  const schedule = v ? recordedSchedule(r) : null;
  const ring = t.attempt === RING_ATTEMPT && t.ring ? { ring: ringRecord(t.ring, r, schedule !== null, (performance.now() - t0) / 1000) } : {};
  return { attempt: t.attempt, matched: schedule !== null, violation: v, schedule, ops: r.ops, ...ring };
}

/** A sim schedule that fails: shrunk within the time budget, else as recorded. */
async function shrink(t: Extract<StressTask, { kind: 'shrink' }>): Promise<StressShrinkResult> {
  const opts: RunOptions = { ...t.opts, recordSchedule: false };
  const sched = t.schedule;
  const match = t.steered ? (v: Violation) => sameFailure(v, t.steered!.want) : (v: Violation) => v.oracle === t.oracle;
  const base = await runMachine({ ...opts, schedule: sched });
  const s = t.shrinkSeconds > 0 ? await shrinkSchedule(opts, sched, t.oracle, base, t.shrinkSeconds, match) : null;
  const how: ReplayKind = t.steered?.how ?? (s ? 'sim-shrunk' : 'sim-recorded');
  // shrinking may move to a nearby seed (shrink.ts reground): the file names the shrunk run's
  const replay = makeReplayFile({
    race: s?.violation.race ?? t.violation.race, seed: s?.opts.seed ?? opts.seed, options: toReplayOptions(s?.opts ?? opts), schedule: s?.schedule ?? sched,
    expected: pick(s?.violation ?? t.violation),
    shrink: shrinkRecord(base.schedule?.steps ?? 0, sched, s),
    replay_kind: how, ...(t.steered ? { steering: t.steered.steering } : {}), ...(t.steered?.steering.ring ? { ring_replay: t.steered.steering.ring } : {}),
  });
  return { index: t.index, replay, how };
}

export default async function stressTask(t: StressTask): Promise<StressRunResult | SteerAttemptResult | StressShrinkResult> {
  adoptWorkerUrls(t.urls, t.execArgv);
  setWorkerReuse(true);
  return t.kind === 'run' ? run(t) : t.kind === 'steer' ? steer(t) : shrink(t);
}
