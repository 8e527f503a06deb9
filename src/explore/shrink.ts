/**
 * Shrinking a violating sim run to the shortest schedule that still gives the same oracle on
 * the same kind of object (a page, or none) for the same race, in this order, while a time
 * budget (a cap: it stops when nothing more comes off) lasts. A decision is a switch of the
 * baton; past the decisions the replay lets the holder run on (strategy.ts nextRunnable), so
 * a random run of 100,000 steps has thousands of them, and ddmin over those rarely ends.
 * Hence a run with few decisions and a small ground first, the decisions after:
 *
 *   0. reground    the seed's random strategy with rarer switches (--switch-every 4096,
 *                  1024, 256, 64) on REGROUND_SEEDS seeds from the run's own: at the first
 *                  level where some fail, the one with the fewest decisions; else each CPU's
 *                  op budget cut to 1/16 .. 1 of what it used, random and pct, the smallest
 *                  fraction where one fails. The shrunk run may so have another seed.
 *   1. knobs       each numeric option of the workload, memory and the host budget halved
 *                  towards its minimum (fewer files, pages, memory), with the current
 *                  schedule and with the seed's strategy; kept when the run gets shorter;
 *                  the smaller ground is searched again (0) while it has many decisions.
 *   2. decisions   only the last k decisions (k = 0, 1, 2, 4...: the smallest that still
 *                  fails), then ddmin over them (chunks halving; every candidate of a
 *                  round in parallel, the lowest-index one that still fails wins). This
 *                  also drops preemptions: what is left is the preemptions the race needs.
 *   3. participants  drop a guest CPU (its decisions go, the others' are renumbered), with
 *                  the schedule as it is, else with the seed's strategy.
 *   4. ops per CPU each CPU's op budget (its prefix of the workload) cut to what it used,
 *                  then lowered while the violation stays (a CPU that stops early stops
 *                  taking steps).
 *   then knobs, ddmin and budgets again while the run gets shorter; the result is keyed.
 *
 * Candidates run on a ShrinkRunner: in this thread (stress tasks, which already run in a
 * pool) or over a piscina pool of shrink_task workers that reuse their CPU and host workers.
 * Which candidate wins never depends on which finished first, so a shrink that ends before
 * its cap is a pure function of its input and the runner's jobs.
 */
import { Piscina } from 'piscina';
import { findWorkload } from '../../workloads/index.js';
import type { Violation } from '../core/oracles.js';
import { MIN_MEM, type RunOptions, type SimSchedule } from '../machine/config.js';
import type { RunResult } from '../machine/run.js';
import { workerExecArgv, workerUrl, workerUrls } from '../machine/worker_url.js';
import type { ShrinkTask } from './shrink_task.js';
import type { ReplayFile } from './replay_file.js';
import { runAttempt, type Attempt, type AttemptWant } from './shrink_attempt.js';

export interface ShrinkPhaseCount { ground: number; decisions: number; participants: number; ops_per_cpu: number; knobs: number }

export interface Shrunk {
  opts: RunOptions;
  schedule: SimSchedule;
  violation: Violation;
  /** Scheduling steps of the shrunk run. */
  steps: number;
  /** Switches away from a participant that could have gone on, in the shrunk schedule. */
  preemptions: number;
  /** Candidates run, and the reductions each phase kept. */
  attempts: number;
  kept: ShrinkPhaseCount;
}

/** A replay file's shrink record: the recorded run's steps and decisions against the shrunk one's (null: not shrunk). */
export function shrinkRecord(stepsBefore: number, recorded: SimSchedule, s: Shrunk | null): ReplayFile['shrink'] {
  return s ? { steps_before: stepsBefore, steps_after: s.steps, decisions_before: recorded.decisions.length, decisions_after: s.schedule.decisions.length } : null;
}

/** Runs candidate sim runs; `jobs` of them at once. */
export interface ShrinkRunner {
  readonly jobs: number;
  run(batch: RunOptions[]): Promise<Attempt[]>;
  close(): Promise<void>;
}

/** Candidates one after another in this thread. */
export function localRunner(match: (v: Violation) => boolean): ShrinkRunner {
  return {
    jobs: 1,
    async run(batch) { const out: Attempt[] = []; for (const o of batch) out.push(await runAttempt(o, match)); return out; },
    async close() {},
  };
}

/** Candidates over a piscina pool of `jobs` threads (each keeps its machine workers between runs). */
export function poolRunner(jobs: number, want: AttemptWant): ShrinkRunner {
  const pool = new Piscina({ filename: workerUrl('shrink_task').href, minThreads: jobs, maxThreads: jobs, idleTimeout: 1000 });
  const urls = workerUrls();
  const execArgv = workerExecArgv();
  return {
    jobs,
    run: (batch) => Promise.all(batch.map(async (o) => {
      const t: ShrinkTask = { urls, execArgv, runs: [o], want };
      return ((await pool.run(t)) as Attempt[])[0];
    })),
    close: () => pool.destroy(),
  };
}

/**
 * The default shrink budget (hunt --shrink-seconds, the bench): a cap, since a shrink ends
 * when no phase takes anything more off. Measured on a shared 2-core machine (load 20-37):
 * with 30 s, 35 of the 39 races met their goal; grace-early, which reaches 5 decisions in
 * about 30 s at a lighter load, kept none.
 */
export const DEFAULT_SHRINK_SECONDS = 60;

/** Seeds tried per smaller ground (reground). */
const REGROUND_SEEDS = 12;
/** After a smaller ground, search it again (reground) while the run has more decisions than this. */
const REGROUND_AGAIN = 50;
/** Mean points between the random strategy's switches tried first (measured: discard-grace fails on all of seeds 1..12 at 1024, with 28..149 decisions against ~1,000-6,000 at 16). */
const REGROUND_SWITCH_EVERY = [4096, 1024, 256, 64];
const REGROUND_FRACTIONS = [1 / 16, 1 / 4, 1 / 2, 1];
/** Strategies a smaller ground is searched with: pct's few priority changes give few decisions. */
const REGROUND_STRATEGIES: Partial<RunOptions>[] = [{ strategy: 'pct', depth: 3 }, { strategy: 'random' }];

/** Progress lines of a shrink (measurements, `hintsim bench`); null: silent. */
let shrinkTrace: ((line: string) => void) | null = null;
export function setShrinkTrace(f: ((line: string) => void) | null): void { shrinkTrace = f; }

/** What a candidate must give to count, from the violation being shrunk. */
export function wantOf(v: Violation): AttemptWant {
  return { oracle: v.oracle, page: v.pfn >= 0, race: v.race ?? null };
}

interface Best { opts: RunOptions; schedule: SimSchedule; a: Attempt & { violation: Violation } }

/** A candidate: options, and the schedule to follow (null: the seed's strategy, recorded). */
interface Cand { opts: RunOptions; schedule: SimSchedule | null }

/** `s` without its decisions [from, from + n) (and their keys, when keyed). */
function cut(s: SimSchedule, from: number, n: number): SimSchedule {
  const out: SimSchedule = { first: s.first, decisions: [...s.decisions.slice(0, from), ...s.decisions.slice(from + n)] };
  if (s.keys) out.keys = [...s.keys.slice(0, from), ...s.keys.slice(from + n)];
  return out;
}

/** Remove participant `c` (a guest CPU) from a schedule: its decisions go, later participants move down one. */
function dropFromSchedule(s: SimSchedule, c: number): SimSchedule | null {
  const map = (p: number): number => (p > c ? p - 1 : p);
  if (s.first === c) return null;
  const keep = s.decisions.map((d, i) => d.to !== c && (!s.keys || s.keys[i].who !== c));
  const out: SimSchedule = { first: map(s.first), decisions: s.decisions.filter((_, i) => keep[i]).map((d) => ({ step: d.step, to: map(d.to) })) };
  if (s.keys) out.keys = s.keys.filter((_, i) => keep[i]).map((k) => ({ ...k, who: map(k.who) }));
  return out;
}

/**
 * The keys of `s`'s decisions, from `taken`, the keyed decisions a replay of `s` took: each
 * decision at the step where the replay switched. A decision the replay did not act on (its
 * participant was already running, or could not run) changes nothing and is left out.
 */
function keyDecisions(s: SimSchedule, taken: SimSchedule): SimSchedule | null {
  if (!taken.keys) return null;
  const at = new Map<number, number>();
  taken.decisions.forEach((d, i) => { if (!at.has(d.step)) at.set(d.step, i); });
  const decisions: SimSchedule['decisions'] = [], keys: NonNullable<SimSchedule['keys']> = [];
  for (const d of s.decisions) {
    const i = at.get(d.step);
    if (i === undefined) continue;
    decisions.push(taken.decisions[i]);
    keys.push(taken.keys[i]);
  }
  return { first: s.first, decisions, keys };
}

/** Preemptions of a schedule: decisions that hand the baton to another participant (the holder could have gone on). */
export function preemptionsOf(s: SimSchedule): number {
  let holder = s.first, n = 0;
  for (const d of s.decisions) { if (d.to >= 0 && d.to !== holder) n++; if (d.to >= 0) holder = d.to; }
  return n;
}

/**
 * Shrink a violating sim schedule (see the file comment) within `seconds`. `match` decides
 * what counts in this thread; a pool runner decides by its AttemptWant. Null when the
 * schedule does not reproduce when replayed.
 */
export async function shrinkSchedule(opts: RunOptions, sched: SimSchedule, oracle: string, first: RunResult, seconds: number,
  match: (v: Violation) => boolean = (v) => v.oracle === oracle, runner: ShrinkRunner = localRunner(match)): Promise<Shrunk | null> {
  const deadline = performance.now() + seconds * 1000;
  const time = (): boolean => performance.now() < deadline;
  let attempts = 0;
  const kept: ShrinkPhaseCount = { ground: 0, decisions: 0, participants: 0, ops_per_cpu: 0, knobs: 0 };
  type Tried = { a: Attempt; c: Cand };
  const tryAll = async (cands: Cand[]): Promise<Tried[]> => {
    attempts += cands.length;
    const res = await runner.run(cands.map((c) => {
      const record = c.schedule === null || c.opts.recordSchedule;
      return { ...c.opts, schedule: c.schedule, recordSchedule: record, recordKeys: record };
    }));
    return res.map((a, i) => ({ a, c: cands[i] }));
  };
  /** A candidate that still fails, with the schedule it followed (or the one its strategy run recorded). */
  const won = ({ a, c }: Tried): Best | null => {
    // a keyed candidate counts only if it took every decision where its key says: else the
    // seed's strategy made the schedule and the decisions left would not be the counterexample
    if (!a.violation || a.diverged) return null;
    const schedule = c.schedule ?? (a.schedule && { first: a.schedule.first, decisions: a.schedule.decisions }); // shrunk step-keyed
    return schedule ? { opts: c.opts, schedule, a: a as Attempt & { violation: Violation } } : null;
  };

  // shrink step-keyed decisions (measured: cutting keyed ones makes the later ones diverge
  // far more often); the result is keyed again at the end
  const base = won((await tryAll([{ opts: { ...opts, opsPerCpu: undefined }, schedule: { first: sched.first, decisions: sched.decisions } }]))[0]);
  if (!base) { await runner.close(); return null; } // the replay does not reproduce: keep the recorded schedule
  let best: Best = base;
  const usedOps = Math.max(opts.cpus, Math.ceil(first.ops));
  if (usedOps < (opts.ops ?? Infinity)) {
    const r = won((await tryAll([{ opts: { ...best.opts, ops: usedOps }, schedule: best.schedule }]))[0]);
    if (r) best = r;
  }

  /** 1. ddmin over the decisions, `runner.jobs` chunk removals at a time. */
  const ddmin = async (): Promise<void> => {
    let chunk = Math.max(1, best.schedule.decisions.length >> 1);
    while (best.schedule.decisions.length > 0 && time()) {
      let removedAny = false;
      for (let start = 0; start < best.schedule.decisions.length && time();) {
        const d = best.schedule.decisions;
        const starts: number[] = [];
        for (let s = start; s < d.length && starts.length < Math.max(1, runner.jobs); s += chunk) starts.push(s);
        const res = await tryAll(starts.map((s) => ({ opts: best.opts, schedule: cut(best.schedule, s, chunk) })));
        const k = res.findIndex((t) => won(t) !== null);
        if (k >= 0) { best = won(res[k])!; removedAny = true; kept.decisions++; start = starts[k]; } else start = starts[starts.length - 1] + chunk;
      }
      if (!removedAny && chunk === 1) break; // 1-minimal
      if (!removedAny) chunk >>= 1;
      else chunk = Math.max(1, Math.min(chunk, best.schedule.decisions.length >> 1));
    }
  };

  /**
   * 1a. Before ddmin: only the last k decisions, k = 0, 1, 2, 4, ... (the race is at the end;
   * what came before often only needs some interleaving, which the replay's own fallback
   * gives); the smallest k that still fails, tried `runner.jobs` at a time.
   */
  const suffix = async (): Promise<void> => {
    const n = best.schedule.decisions.length;
    const ks: number[] = [0];
    for (let k = 1; k < n; k *= 2) ks.push(k);
    for (let i = 0; i < ks.length && time(); i += Math.max(1, runner.jobs)) {
      const batch = ks.slice(i, i + Math.max(1, runner.jobs));
      const res = await tryAll(batch.map((k) => ({ opts: best.opts, schedule: cut(best.schedule, 0, n - k) })));
      const j = res.findIndex((t) => won(t) !== null);
      if (j >= 0) { best = won(res[j])!; kept.decisions++; return; }
    }
  };

  /**
   * 0. A run with fewer decisions first, which ddmin then takes apart quickly: the seed's
   * random strategy with rarer switches (--switch-every 4096, 1024, 256, 64) on
   * REGROUND_SEEDS seeds from the run's own, the first level where some fail, the one with
   * the fewest decisions (the lowest seed on a tie); else each CPU's op budget cut to a
   * fraction of what it used (1/16, 1/4, 1/2, 1) with the seed's strategy and pct, the
   * smallest fraction where one fails. Kept only with fewer decisions than the run so far.
   */
  const reground = async (): Promise<void> => {
    const pickLevel = async (cands: Cand[], all: boolean): Promise<boolean> => {
      let pick: Best | null = null;
      for (let i = 0; i < cands.length && time(); i += Math.max(1, runner.jobs)) {
        for (const t of await tryAll(cands.slice(i, i + Math.max(1, runner.jobs)))) {
          const b = won(t);
          if (b && b.schedule.decisions.length < (pick ?? best).schedule.decisions.length) pick = b;
        }
        if (pick && !all) break;
      }
      if (!pick) return false;
      best = pick;
      kept.ground++;
      return true;
    };
    if (best.opts.strategy === 'random') {
      for (const se of REGROUND_SWITCH_EVERY) {
        if (se <= best.opts.switchEvery) continue;
        // at most twice the ops the run used: a seed that does not fail stops there
        const ops = Math.min(best.opts.ops ?? Infinity, 2 * Math.max(best.opts.cpus, Math.ceil(best.a.ops_per_cpu.reduce((x, y) => x + y, 0))));
        const cands: Cand[] = Array.from({ length: REGROUND_SEEDS }, (_, i) => ({ opts: { ...best.opts, switchEvery: se, seed: best.opts.seed + i, ops, opsPerCpu: undefined }, schedule: null }));
        if (await pickLevel(cands, true)) return;
      }
    }
    const used = best.a.ops_per_cpu.map((x) => Math.max(1, Math.ceil(x)));
    if (used.length !== best.opts.cpus) return;
    for (const f of REGROUND_FRACTIONS) {
      const per = used.map((u) => Math.max(2, Math.ceil(u * f)));
      const cands: Cand[] = [];
      for (let i = 0; i < REGROUND_SEEDS; i++) {
        for (const st of REGROUND_STRATEGIES) cands.push({ opts: { ...best.opts, ...st, seed: best.opts.seed + i, opsPerCpu: per, ops: per.reduce((x, y) => x + y, 0) }, schedule: null });
      }
      if (await pickLevel(cands, false)) return;
    }
  };

  /** 2. One guest CPU fewer, with the schedule renumbered and with the seed's strategy. */
  const participants = async (): Promise<boolean> => {
    const o = best.opts;
    if (o.cpus <= 1 || !time()) return false;
    const cands: Cand[] = [];
    for (let c = 0; c < o.cpus; c++) {
      const per = best.a.ops_per_cpu.filter((_, i) => i !== c);
      const opts2: RunOptions = { ...o, cpus: o.cpus - 1, ops: Math.max(o.cpus - 1, per.reduce((x, y) => x + y, 0)), opsPerCpu: undefined };
      const s = dropFromSchedule(best.schedule, c);
      if (s) cands.push({ opts: opts2, schedule: s });
      cands.push({ opts: opts2, schedule: null });
    }
    const res = (await tryAll(cands)).map(won).filter((b): b is Best => b !== null);
    if (!res.length) return false;
    best = res.reduce((a, b) => (b.a.steps < a.a.steps ? b : a));
    kept.participants++;
    return true;
  };

  /** 3. Each CPU's budget: what it used, then lower while the violation stays. */
  const budgets = async (): Promise<void> => {
    const used = best.a.ops_per_cpu.map((x) => Math.max(1, Math.ceil(x)));
    if (used.length !== best.opts.cpus) return;
    const r0 = won((await tryAll([{ opts: { ...best.opts, opsPerCpu: used, ops: used.reduce((x, y) => x + y, 0) }, schedule: best.schedule }]))[0]);
    if (r0) { best = r0; kept.ops_per_cpu++; }
    for (let c = 0; c < best.opts.cpus && time(); c++) {
      let hi = (best.opts.opsPerCpu ?? used)[c];
      let lo = 0;
      while (hi - lo > 1 && time()) {
        const n = Math.max(1, runner.jobs);
        const points = Array.from({ length: n }, (_, i) => lo + Math.floor(((hi - lo) * (i + 1)) / (n + 1))).filter((x, i, a) => x > lo && x < hi && a.indexOf(x) === i);
        if (!points.length) break;
        const res = await tryAll(points.map((b) => {
          const per = [...(best.opts.opsPerCpu ?? used)];
          per[c] = b;
          return { opts: { ...best.opts, opsPerCpu: per, ops: per.reduce((x, y) => x + y, 0) }, schedule: best.schedule };
        }));
        const k = res.findIndex((t) => won(t) !== null); // the lowest budget that still fails
        if (k >= 0) { best = won(res[k])!; hi = points[k]; lo = k > 0 ? points[k - 1] : lo; kept.ops_per_cpu++; } else lo = points[points.length - 1];
      }
    }
  };

  /** 4. Workload knobs, memory and host budget halved; kept when the run gets shorter. */
  const knobs = async (): Promise<boolean> => {
    const o = best.opts;
    const w = findWorkload(o.workload);
    const cands: Cand[] = [];
    const add = (opts2: RunOptions): void => { cands.push({ opts: opts2, schedule: best.schedule }, { opts: opts2, schedule: null }); };
    for (const k of w?.options ?? []) {
      const v = o.workloadOptions[k.name] ?? k.default;
      const half = Math.max(k.min, Math.floor(v / 2));
      if (half < v) add({ ...o, workloadOptions: { ...o.workloadOptions, [k.name]: half } });
    }
    const mem = Math.max(MIN_MEM, Math.floor(o.memBytes / 2 / 65536) * 65536);
    if (mem < o.memBytes && (o.hostMemBytes === null || o.hostMemBytes <= mem)) add({ ...o, memBytes: mem });
    if (o.hostMemBytes !== null && o.hostMemBytes / 2 >= 16 * 4096) add({ ...o, hostMemBytes: Math.floor(o.hostMemBytes / 2 / 4096) * 4096 });
    let improved = false;
    for (let i = 0; i < cands.length && time(); i += Math.max(2, runner.jobs)) {
      const tried = await tryAll(cands.slice(i, i + Math.max(2, runner.jobs)));
      const res = tried.map(won).filter((b): b is Best => b !== null && b.a.steps < best.a.steps);
      if (!res.length) continue;
      best = res.reduce((a, b) => (b.a.steps < a.a.steps ? b : a));
      kept.knobs++;
      improved = true;
    }
    return improved;
  };

  const t0 = performance.now();
  const note = (what: string): void => { shrinkTrace?.(`${((performance.now() - t0) / 1000).toFixed(1)}s ${what}: ${best.schedule.decisions.length} decisions, ${best.a.steps} steps, ops ${JSON.stringify(best.opts.opsPerCpu ?? best.opts.ops)} cpus ${best.opts.cpus} attempts ${attempts}`); };
  note('base');
  try {
    await reground(); note('reground');
    // the ground's knobs while the run is long (with the seed's strategy they often give a
    // far shorter run), then the decisions
    for (let round = 0; round < 3 && time(); round++) {
      if (!(await knobs())) break;
      note('knobs');
      if (best.schedule.decisions.length > REGROUND_AGAIN) { await reground(); note('reground'); } // on the smaller ground
    }
    await suffix(); note('suffix');
    await ddmin(); note('ddmin');
    await participants(); note('participants');
    await budgets(); note('budgets');
    for (let round = 0; round < 8 && time(); round++) {
      if (!(await knobs())) break;
      note('knobs');
      await ddmin(); note('ddmin');
      await budgets(); note('budgets');
    }
    // key the shrunk decisions where the replay takes them (a replay file of version 3 survives
    // model changes), and check that the keyed schedule still gives the violation
    const fin = (await tryAll([{ opts: { ...best.opts, recordSchedule: true, recordKeys: true }, schedule: best.schedule }]))[0];
    const keyed = fin.a.violation && fin.a.schedule ? keyDecisions(best.schedule, fin.a.schedule) : null;
    if (keyed) {
      const check = won((await tryAll([{ opts: best.opts, schedule: keyed }]))[0]);
      if (check && check.a.violation.step === best.a.violation.step) best = check;
    }
    note('keyed');
  } finally {
    await runner.close();
  }
  note('closed');
  return { opts: best.opts, schedule: best.schedule, violation: best.a.violation, steps: best.a.steps, preemptions: preemptionsOf(best.schedule), attempts, kept };
}
