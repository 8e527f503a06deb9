/**
 * From a threads-mode failure's point rings (core/point_ring.ts) to a sim run that tries to
 * re-enact them (sim/strategies/ring.ts), tried before any other sim search of the failure
 * (stress: before steering; hunt --mode threads: the only one).
 *
 * The window: each participant's ring holds its last RING_POINTS points, so a busy
 * participant's ring covers less time than an idle one's. The merged sequence is complete
 * only from the latest first stamp of a ring that wrapped; points before it are dropped.
 * Each participant's first point in the window is its gate (where the head of the sim run
 * stops it); every later point in stamp order is the end of one segment of its participant,
 * and a change of participant between two consecutive points is a decision.
 *
 * The sim run: the failing run's options in sim mode, each CPU's op budget the threads run's
 * ops plus RING_OPS_SLACK (so that it can reach its gate on a somewhat longer path), the
 * schedule recorded with keys: when it fails the same way (steer.ts sameFailure), that
 * recorded schedule is the replay file's, and it replays without the rings.
 */
import { RING_POINTS, type RingPoint } from '../core/point_ring.js';
import type { RunOptions } from '../machine/config.js';
import { SIM_REPRO_OPS_MAX, SIM_REPRO_OPS_MIN } from './steer.js';
import type { RunResult } from '../machine/run.js';
import type { RingFollow, RingOutcome } from '../sim/strategies/ring.js';

/**
 * A CPU's op budget in the ring run: the threads run's ops times this, plus RING_OPS_MIN (the
 * threads run stopped at its failure), and at least the unsteered retry's share.
 */
export const RING_OPS_SLACK = 1.2;
export const RING_OPS_MIN = 100;
/**
 * Points the head may have to run (the gates summed) before the ring attempt is not tried: a
 * sim run does about 0.1-1 million points a second, and the attempt must not cost more than
 * a steering budget.
 */
export const RING_HEAD_POINTS_MAX = 2_000_000;

/** What a threads run's rings say, for the sim run and the replay file. */
export interface RingInput {
  follow: RingFollow;
  /** Points in the merged window, and each participant's points passed in the whole threads run. */
  window_points: number;
  passed: number[];
  /** Each CPU's ops in the threads run. */
  cpu_ops: number[];
}

/** How the ring attempt went (replay file `ring_replay`, stress JSON). */
export interface RingRecord {
  window_points: number;
  decisions: number;
  gates: number[];
  /** Did the sim run fail the same way? */
  reproduced: boolean;
  /** Not tried, and why (the window starts too far into the run); null: tried. */
  skipped: string | null;
  /** The sim run's violation when it failed some other way (oracle and message kind), else null. */
  other: { oracle: string; message: string } | null;
  outcome: RingOutcome | null;
  seconds: number;
}

/** The merged window of a run's rings; null when nothing was recorded. */
export function ringInput(r: Pick<RunResult, 'rings' | 'per_cpu'>): RingInput | null {
  if (!r.rings) return null;
  const { points, passed } = r.rings;
  const all = points.flat();
  if (all.length === 0) return null;
  // the window starts at the latest first stamp of a ring that wrapped (stamps compared as
  // signed differences: the ticket may wrap around 2^32 in a long run)
  let start: number | null = null;
  for (let p = 0; p < points.length; p++) {
    if (passed[p] <= RING_POINTS || points[p].length === 0) continue;
    const s = points[p][0].stamp;
    if (start === null || ((s - start) | 0) > 0) start = s;
  }
  const base = start ?? Math.min(...all.map((x) => x.stamp));
  const win = all.filter((x) => ((x.stamp - base) | 0) >= 0).sort((a, b) => ((a.stamp - base) | 0) - ((b.stamp - base) | 0));
  return { follow: ringFollow(points, win), window_points: win.length, passed: [...passed], cpu_ops: r.per_cpu.map((c) => c.ops) };
}

/** Gates and decisions of a merged window (stamp order). */
export function ringFollow(points: RingPoint[][], win: RingPoint[]): RingFollow {
  const gates = points.map((ps) => (ps.length ? ps[ps.length - 1].count : 0)); // no point in the window: it stood at its last
  const seen = new Array<boolean>(points.length).fill(false);
  const events: RingPoint[] = [];
  for (const x of win) {
    if (!seen[x.who]) { seen[x.who] = true; gates[x.who] = x.count; continue; }
    events.push(x);
  }
  const decisions: RingFollow['decisions'] = [];
  for (let i = 0; i + 1 < events.length; i++) {
    const a = events[i], b = events[i + 1];
    if (a.who !== b.who) decisions.push({ who: a.who, kind: a.kind, arg: a.arg, count: a.count, to: b.who });
  }
  return { gates, first: events.length ? events[0].who : win.length ? win[0].who : 0, decisions };
}

/** The sim run that re-enacts a threads failure's rings. */
export function ringRunOptions(threads: RunOptions, input: RingInput): RunOptions {
  // at least steering's unsteered retry's share (steer.ts): past a divergence the run is one
  const share = Math.ceil(Math.min(SIM_REPRO_OPS_MAX, Math.max(SIM_REPRO_OPS_MIN, 2 * input.cpu_ops.reduce((a, b) => a + b, 0))) / input.cpu_ops.length);
  const opsPerCpu = input.cpu_ops.map((x) => Math.max(share, Math.round(x * RING_OPS_SLACK) + RING_OPS_MIN));
  return {
    ...threads, mode: 'sim', seconds: null, ops: opsPerCpu.reduce((a, b) => a + b, 0), opsPerCpu,
    schedule: null, ring: input.follow, recordRing: false, recordSchedule: true, recordKeys: true, trace: false,
  };
}

/** Why the ring attempt is not tried (null: it is). */
export function ringSkip(input: RingInput): string | null {
  const head = input.follow.gates.reduce((a, b) => a + b, 0);
  return head > RING_HEAD_POINTS_MAX ? `the window starts ${head} scheduling points into the run (more than ${RING_HEAD_POINTS_MAX})` : null;
}

/** The replay file's `ring_replay` record of a ring attempt (run null: not tried). */
export function ringRecord(input: RingInput, run: Pick<RunResult, 'violations' | 'ring_replay'> | null, reproduced: boolean, seconds: number): RingRecord {
  const v = run?.violations[0];
  return {
    window_points: input.window_points, decisions: input.follow.decisions.length, gates: [...input.follow.gates], reproduced, skipped: run ? null : ringSkip(input),
    other: !reproduced && v ? { oracle: v.oracle, message: v.message.slice(0, 120) } : null,
    outcome: run?.ring_replay ?? null, seconds: Number(seconds.toFixed(2)),
  };
}

/** One line: how the ring attempt went. */
export function formatRingRecord(r: RingRecord): string {
  const o = r.outcome;
  if (r.skipped) return `rings: not re-enacted: ${r.skipped}`;
  const how = o === null ? 'the sim run did not start'
    : `${o.followed} of ${o.decisions} decisions followed (${o.same_key} at the recorded point)${o.diverged ? `, diverged at decision ${o.diverged.decision} (${o.diverged.why}, step ${o.diverged.step})` : ''}${o.head_end_step < 0 ? ', the head never reached the window' : ''}`;
  return `rings: ${r.window_points} points in the window; ${how}; ${r.reproduced ? 'reproduced' : r.other ? `failed otherwise (${r.other.oracle})` : 'not reproduced'}`;
}
