/**
 * Steering a threads-mode failure into sim mode. A threads run cannot be replayed: stress
 * re-runs its options in sim mode, and when that does not fail the same way it searches
 * further, steered by what the failure tells:
 *   - the oracle, the page and the message (a function name, the page's flags and host
 *     state, its history ring): they name the code path, and so the fault-injection points
 *     that widen its windows (RELATED_POINTS)
 *   - the failing pfn (and for a lost write, the pfn the write went to): the injection
 *     points favour it (inject.ts, --inject-pfn)
 *   - seeds and strategies: random with several switch rates, pct with depths 2..4
 * Attempt 0 is the unsteered retry (the run's own options and seed). Attempt k > 0 is a pure
 * function of (stress seed, run index, k, the failure) (with --steer FILE the file's run
 * seed stands for the index): the same failure gets the same attempts on any machine. The wall clock only decides how many are tried; of those that
 * reproduce it, the lowest attempt wins (the job waits for the lower ones still running).
 *
 * Before attempt 0, when the threads run recorded its point rings (core/point_ring.ts), the
 * ring attempt re-enacts their window (explore/ring_schedule.ts, sim/strategies/ring.ts): it
 * runs alongside the first attempts but comes first: when it reproduces the failure, it wins
 * over any attempt.
 *
 * "The same failure": the same oracle, a pfn on both sides or on neither, and the same
 * message kind (its first MESSAGE_KIND_CHARS characters before any ';', digits as '#').
 */
import type { Violation } from '../core/oracles.js';
import { INJECT_NAMES } from '../core/inject.js';
import { Prng } from '../core/prng.js';
import { PAGE_SIZE } from '../core/layout.js';
import { DEFAULTS, type RunOptions, type SimSchedule, type Strategy } from '../machine/config.js';
import { streamOf } from './swarm.js';
import { ringRecord, ringRunOptions, ringSkip, type RingInput, type RingRecord } from './ring_schedule.js';

/**
 * Ops of a sim attempt: twice the threads run's count (it stopped at the failure, and a
 * sim interleaving may need longer to get there), within these bounds; every fifth
 * attempt, and every attempt of a --steer file (whose count is unknown), the maximum.
 */
export const SIM_REPRO_OPS_MIN = 3_000;
export const SIM_REPRO_OPS_MAX = 20_000;
/** Attempts per failure at most, whatever the time budget (a fixed bound). */
export const STEER_ATTEMPTS_MAX = 64;
/** Default wall-clock budget of the search for one failure (stress --steer-seconds). */
export const STEER_SECONDS = 20;
export const MESSAGE_KIND_CHARS = 40;
const SWITCH_EVERY_CHOICES = [2, 4, 8, 32, 128];

/** What identifies a failure (a Violation or a replay file's `expected`). */
export interface FailureKey { oracle: string; pfn: number; message: string }

/** What stress knows of a threads-mode failure. */
export interface SteerInput {
  /** The attempts are drawn from the stress seed and this key: the run index, or (stress --steer) the file's run seed. */
  seed: number;
  key: number;
  /** The failing run's options (threads mode). */
  opts: RunOptions;
  violation: FailureKey;
  /** Guest ops the threads run did (null: unknown, e.g. a replay file). */
  ops: number | null;
  /** The threads run's point rings, merged (null: none recorded, e.g. a replay file). */
  ring?: RingInput | null;
}

/** One attempt: a sim run's choices, as written in the replay file's `steering`. */
export interface SteerPlan {
  attempt: number;
  seed: number;
  strategy: Strategy;
  depth: number;
  switch_every: number;
  inject: string[];
  /** Points added to the run's own (empty for attempt 0). */
  inject_added: string[];
  inject_pfn: number | null;
  ops: number;
}

/** How a threads-mode failure's sim search went (replay file `steering`, stress JSON). */
export interface SteeringRecord {
  /** The failure searched for. */
  from: { oracle: string; pfn: number; message_kind: string };
  /** The points and pfns the failure pointed at. */
  related_points: string[];
  pfns: number[];
  /** Attempts finished (more than found_at + 1 when later ones ran alongside); the one that reproduced it (null: none did, or the rings did). */
  attempts: number;
  found_at: number | null;
  plan: SteerPlan | null;
  /** What reproduced it: the rings' re-enactment, a steered attempt (attempt 0 included), or nothing. */
  found_by: 'ring' | 'steering' | null;
  /** The ring attempt (null: no rings recorded). */
  ring: RingRecord | null;
  seconds: number;
  budget_seconds: number;
}

/** The message's kind: what a failure says, without the numbers and the page dump. */
export function messageKind(message: string): string {
  const semi = message.indexOf(';');
  return (semi >= 0 ? message.slice(0, semi) : message).replace(/\d+/g, '#').slice(0, MESSAGE_KIND_CHARS);
}

/** Does `v` fail the same way as `want` (same oracle, a pfn or none on both, same message kind)? */
export function sameFailure(v: FailureKey, want: FailureKey): boolean {
  return v.oracle === want.oracle && (v.pfn >= 0) === (want.pfn >= 0) && messageKind(v.message) === messageKind(want.message);
}

/**
 * Where a failure message points, as injection points. Three parts of a message are read:
 * its head (the function and what broke, before the first ';'), the page dump's flags and
 * host state, and the page's history ring (history.ts names).
 */
const HEAD_POINTS: readonly [RegExp, readonly string[]][] = [
  [/discard/, ['stall-fault', 'stall-discard', 'host-reclaim-touched', 'host-pressure']],
  [/volatile/, ['stall-volatile', 'host-reclaim-touched']],
  [/dirty|msync|make_stable|lost/, ['stall-msync', 'writeback-delay']],
  [/writeback/, ['writeback-delay']],
  [/lost|garbage|read version|zero/, ['host-pressure', 'host-reclaim-touched']],
  [/free|refcount|_count|buddy|underflow|reference/, ['free-burst']],
  [/idle|sign-off|discard list|no progress/, ['idle-long']],
];
const PAGE_POINTS: readonly [RegExp, readonly string[]][] = [
  [/flags=\S*dirty/, ['stall-msync']],
  [/flags=\S*writeback/, ['writeback-delay']],
  [/host=[VP]/, ['stall-volatile', 'host-reclaim-touched']],
  [/host=.z/, ['host-pressure']],
];
const HISTORY_POINTS: Record<string, readonly string[]> = {
  make_volatile: ['stall-volatile'], make_stable: ['stall-msync'], set_dirty: ['stall-msync'], writeback: ['writeback-delay'],
  discard: ['stall-fault', 'stall-discard'], host_reclaim: ['host-reclaim-touched', 'host-pressure'], free: ['free-burst'],
};
const ORACLE_POINTS: Record<string, readonly string[]> = {
  integrity: ['host-pressure'], liveness: ['idle-long'], use_after_free: ['host-pressure'], refcount: ['free-burst'],
};

/** The injection points a failure points at, in INJECT_NAMES order. */
export function relatedPoints(v: FailureKey): string[] {
  const want = new Set<string>(ORACLE_POINTS[v.oracle] ?? []);
  const add = (pts: readonly string[]): void => { for (const p of pts) want.add(p); };
  const semi = v.message.indexOf(';');
  const head = semi >= 0 ? v.message.slice(0, semi) : v.message;
  const rest = semi >= 0 ? v.message.slice(semi) : '';
  for (const [re, pts] of HEAD_POINTS) if (re.test(head)) add(pts);
  for (const [re, pts] of PAGE_POINTS) if (re.test(rest)) add(pts);
  for (const m of rest.matchAll(/\b([a-z_]+)@p\d+\(/g)) add(HISTORY_POINTS[m[1]] ?? []);
  return INJECT_NAMES.filter((n) => want.has(n));
}

/** The pfns a failure names: its own, and for a lost write the page the write went to. */
export function failurePfns(v: FailureKey, nframes: number): number[] {
  const out: number[] = [];
  const add = (p: number): void => { if (p >= 0 && p < nframes && !out.includes(p)) out.push(p); };
  add(v.pfn);
  const m = /last write went to pfn (\d+)/.exec(v.message);
  if (m) add(Number(m[1]));
  return out;
}

function reproOps(ops: number | null): number {
  return ops === null ? SIM_REPRO_OPS_MAX : Math.min(SIM_REPRO_OPS_MAX, Math.max(SIM_REPRO_OPS_MIN, Math.round(2 * ops)));
}

/** Attempt `k` for this failure: a pure function of (input, k). */
export function steerPlan(s: SteerInput, k: number): SteerPlan {
  const ops = reproOps(s.ops);
  if (k === 0) {
    return { attempt: 0, seed: s.opts.seed, strategy: DEFAULTS.strategy, depth: DEFAULTS.depth, switch_every: DEFAULTS.switchEvery, inject: [...s.opts.inject], inject_added: [], inject_pfn: null, ops };
  }
  const rng = new Prng(s.seed, streamOf(`steer/${s.key}/${k}`));
  const seed = rng.next() & 0x7fffffff;
  const pct = (k & 1) === 0; // odd attempts random, even ones pct
  const switchEvery = SWITCH_EVERY_CHOICES[rng.below(SWITCH_EVERY_CHOICES.length)];
  const depth = 2 + rng.below(3);
  const related = relatedPoints(s.violation);
  // every other odd/even pair takes all related points; the others a random half of them
  const all = (k & 2) !== 0;
  const chosen = all ? related : related.filter(() => rng.chance(0.5));
  const inject = INJECT_NAMES.filter((n) => s.opts.inject.includes(n) || chosen.includes(n));
  const pfns = failurePfns(s.violation, s.opts.memBytes / PAGE_SIZE);
  // two attempts in three favour a failing pfn (taking turns when the message names two)
  const favour = k % 3 !== 0 && pfns.length > 0 && inject.length > 0;
  return {
    attempt: k, seed, strategy: pct ? 'pct' : 'random', depth: pct ? depth : DEFAULTS.depth, switch_every: pct ? DEFAULTS.switchEvery : switchEvery,
    inject, inject_added: inject.filter((n) => !s.opts.inject.includes(n)), inject_pfn: favour ? pfns[(k >> 1) % pfns.length] : null,
    ops: k % 5 === 0 ? SIM_REPRO_OPS_MAX : ops,
  };
}

/** The sim run options of a plan. */
export function planOptions(base: RunOptions, p: SteerPlan): RunOptions {
  return {
    ...base, mode: 'sim', seconds: null, ops: p.ops, seed: p.seed, strategy: p.strategy, depth: p.depth, switchEvery: p.switch_every,
    inject: [...p.inject], injectPfn: p.inject_pfn, schedule: null, recordSchedule: true,
  };
}

/** The ring attempt's number in SteerAttemptResult (it comes before attempt 0). */
export const RING_ATTEMPT = -1;

/** One finished attempt: did it fail the same way (then with its complete schedule)? The ring attempt also says how it went. */
export interface SteerAttemptResult { attempt: number; matched: boolean; violation: Violation | null; schedule: SimSchedule | null; ops: number; ring?: RingRecord }

/**
 * The search for one failure, driven by stress's loop: `next` hands out attempts while the
 * budget lasts, `done` records them, `outcome` says when the search is over.
 */
export class SteerJob {
  private launched = 0;
  private running = 0;
  private readonly results: (SteerAttemptResult | undefined)[] = [];
  private t0 = -1;
  private t1 = -1;
  /** The ring attempt: 0 none (no rings), 1 to start, 2 running, 3 done. */
  private ringState: number;
  private ringResult: SteerAttemptResult | null = null;

  constructor(readonly input: SteerInput, readonly budgetSeconds: number, readonly attemptsMax: number) {
    this.ringState = input.ring && ringSkip(input.ring) === null ? 1 : 0;
  }

  /** The best finished match so far: the ring attempt's, else the lowest attempt's. */
  private best(): SteerAttemptResult | null {
    if (this.ringResult?.matched) return this.ringResult;
    for (const r of this.results) if (r?.matched) return r;
    return null;
  }

  /** The ring attempt's run options (the threads run's, re-enacting its rings). */
  ringOptions(): RunOptions {
    return ringRunOptions(this.input.opts, this.input.ring!);
  }

  /** The next attempt to start at wall-clock `now` (ms), or null (none may start now); attempt RING_ATTEMPT has no plan. */
  next(now: number): { plan: SteerPlan | null; attempt: number; opts: RunOptions } | null {
    if (this.t0 < 0) this.t0 = now;
    if (this.ringState === 1) { this.ringState = 2; this.running++; return { plan: null, attempt: RING_ATTEMPT, opts: this.ringOptions() }; }
    if (this.launched >= this.attemptsMax || this.best() !== null) return null;
    if (this.launched > 0 && now - this.t0 >= this.budgetSeconds * 1000) return null;
    const plan = steerPlan(this.input, this.launched++);
    this.running++;
    return { plan, attempt: plan.attempt, opts: planOptions(this.input.opts, plan) };
  }

  done(r: SteerAttemptResult, now: number): void {
    this.running--;
    if (r.attempt === RING_ATTEMPT) { this.ringResult = r; this.ringState = 3; } else this.results[r.attempt] = r;
    this.t1 = now;
  }

  /**
   * Over when a match has no lower attempt still running, or when nothing runs and no
   * attempt may start any more. Null while the search goes on.
   */
  outcome(now: number): { found: SteerAttemptResult | null; record: SteeringRecord } | null {
    const best = this.best();
    let over: boolean;
    if (this.ringState === 1 || this.ringState === 2) {
      over = false; // the ring attempt comes first: wait for it
    } else if (best) {
      over = true;
      for (let k = 0; k < best.attempt; k++) if (this.results[k] === undefined) over = false;
    } else {
      over = this.running === 0 && this.t0 >= 0 && (this.launched >= this.attemptsMax || now - this.t0 >= this.budgetSeconds * 1000);
    }
    if (!over) return null;
    const v = this.input.violation;
    const tried = this.results.filter((r) => r !== undefined).length;
    return {
      found: best,
      record: {
        from: { oracle: v.oracle, pfn: v.pfn, message_kind: messageKind(v.message) },
        related_points: relatedPoints(v), pfns: failurePfns(v, this.input.opts.memBytes / PAGE_SIZE),
        attempts: tried, found_at: best && best.attempt !== RING_ATTEMPT ? best.attempt : null,
        plan: best && best.attempt !== RING_ATTEMPT ? steerPlan(this.input, best.attempt) : null,
        found_by: best ? (best.attempt === RING_ATTEMPT ? 'ring' : 'steering') : null, ring: this.ringResult?.ring ?? (this.input.ring ? ringRecord(this.input.ring, null, false, 0) : null),
        seconds: Number((Math.max(0, (this.t1 >= 0 ? this.t1 : now) - this.t0) / 1000).toFixed(2)), budget_seconds: this.budgetSeconds,
      },
    };
  }
}
