/**
 * The typed sim schedule and its one codec.
 *
 * A schedule is the participant that ran first and the baton decisions taken after it: at
 * scheduling step `step` the baton went to participant `to` (-1: nobody). Code works with
 * records; two places hold them flat, two words a decision, [step, to, step, to, ...]:
 *   - a replay file's `schedule` field ({ first, decisions: number[] }), on disk since
 *     replay files exist: it must not change, old files load and replay as they did;
 *   - the shared-memory logs (Views.slog, written by the baton holder; Views.slogIn, read
 *     by the replay strategy).
 * Only this file knows that layout: everything else goes through the functions below.
 */

/** One baton decision: at step `step` the baton went to participant `to` (-1 nobody). */
export interface Decision { step: number; to: number }

/**
 * Where a decision was taken, keyed so that it survives a change elsewhere in the model
 * (keys.ts): participant `who` at its `count`-th scheduling point of `kind` on object `arg`.
 */
export interface KeyedPoint { who: number; kind: number; arg: number; count: number }

/**
 * A sim schedule: who ran first, then every decision in step order; `keys` (one per
 * decision), when present, is where each was taken: a replay then follows the keys
 * (strategies/keyed.ts) and the steps only tell it how late is too late.
 */
export interface Schedule { first: number; decisions: Decision[]; keys?: KeyedPoint[] }

/** A replay file's `schedule` field, exactly as on disk; `keys` since version 3 (who, kind, object, count per decision). */
export interface ScheduleFile { first: number; decisions: number[] /* step, to, step, to, ... */; keys?: number[] }

/** A sim run's schedule as RunResult.schedule reports it. */
export interface ScheduleResult {
  steps: number; switches: number; first: number; decisions?: Decision[]; complete: boolean;
  /** Recorded runs: where each decision was taken (keys.ts). */
  keys?: KeyedPoint[];
  /** Keyed replays: decisions followed, and the first divergence (strategies/keyed.ts). */
  keyed?: { decisions: number; followed: number; diverged: { decision: number; step: number; why: 'passed' | 'finished' | 'late' } | null };
}

/** Words per keyed point on disk. */
export const KEY_WORDS = 4;

/** Words per decision in the flat forms. */
export const DECISION_WORDS = 2;

// ------------------------------------------------------------ the shared-memory logs (hot path)

/** Decisions a log of this length holds. */
export function logCapacity(log: Int32Array): number {
  return (log.length / DECISION_WORDS) | 0;
}

/** Record decision `k` (dropped when the log is full: the schedule is then incomplete). */
export function logPut(log: Int32Array, k: number, step: number, to: number): void {
  const i = DECISION_WORDS * k;
  if (i + 1 < log.length) { log[i] = step; log[i + 1] = to; }
}

/** The step of decision `k`. */
export function logStep(log: Int32Array, k: number): number {
  return log[DECISION_WORDS * k];
}

/** The participant of decision `k`. */
export function logTo(log: Int32Array, k: number): number {
  return log[DECISION_WORDS * k + 1];
}

/** Write decisions into a log (as many as fit); returns how many were written. */
export function writeLog(log: Int32Array, ds: readonly Decision[]): number {
  const m = Math.min(ds.length, logCapacity(log));
  for (let k = 0; k < m; k++) logPut(log, k, ds[k].step, ds[k].to);
  return m;
}

/** The first `n` decisions of a log (at most its capacity). */
export function readLog(log: Int32Array, n: number): Decision[] {
  const m = Math.min(n, logCapacity(log));
  const out: Decision[] = new Array<Decision>(m);
  for (let k = 0; k < m; k++) out[k] = { step: logStep(log, k), to: logTo(log, k) };
  return out;
}

// ------------------------------------------------------------ the replay file's field

/** Decisions to the flat on-disk form. */
export function encodeDecisions(ds: readonly Decision[]): number[] {
  const out: number[] = new Array<number>(DECISION_WORDS * ds.length);
  for (let k = 0; k < ds.length; k++) { out[DECISION_WORDS * k] = ds[k].step; out[DECISION_WORDS * k + 1] = ds[k].to; }
  return out;
}

/** The flat on-disk form to decisions; null when it is not one (not a list of integer pairs). */
export function decodeDecisions(flat: unknown): Decision[] | null {
  if (!Array.isArray(flat) || flat.length % DECISION_WORDS !== 0) return null;
  const out: Decision[] = [];
  for (let i = 0; i < flat.length; i += DECISION_WORDS) {
    const step: unknown = flat[i], to: unknown = flat[i + 1];
    if (!Number.isInteger(step) || !Number.isInteger(to)) return null;
    out.push({ step: step as number, to: to as number });
  }
  return out;
}

/** A schedule to a replay file's `schedule` field. */
export function encodeSchedule(s: Schedule): ScheduleFile {
  return { first: s.first, decisions: encodeDecisions(s.decisions), ...(s.keys ? { keys: s.keys.flatMap((k) => [k.who, k.kind, k.arg, k.count]) } : {}) };
}

/** A replay file's `schedule` field to a schedule; null when malformed. */
export function decodeSchedule(f: unknown): Schedule | null {
  if (typeof f !== 'object' || f === null) return null;
  const { first, decisions, keys } = f as { first?: unknown; decisions?: unknown; keys?: unknown };
  // files have always carried `first`; a missing one read as undefined and ran participant 0
  if (first !== undefined && !Number.isInteger(first)) return null;
  const ds = decodeDecisions(decisions);
  if (!ds) return null;
  if (keys === undefined) return { first: (first as number | undefined) ?? 0, decisions: ds };
  if (!Array.isArray(keys) || keys.length !== KEY_WORDS * ds.length || !keys.every((x) => Number.isInteger(x))) return null;
  const ks: KeyedPoint[] = [];
  for (let i = 0; i < keys.length; i += KEY_WORDS) ks.push({ who: keys[i] as number, kind: keys[i + 1] as number, arg: keys[i + 2] as number, count: keys[i + 3] as number });
  return { first: (first as number | undefined) ?? 0, decisions: ds, keys: ks };
}
