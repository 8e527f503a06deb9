/**
 * `hintsim hunt ID`: search seeds with one fix switched off until the race's oracle
 * fires, in parallel with piscina; then (sim mode) record the exact schedule, shrink it,
 * and write a replay file.
 */
import { hostByName } from '../hosts/index.js';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { RACES, type RaceEntry } from '../core/races.js';
import type { Violation } from '../core/oracles.js';
import { DEFAULTS, UsageError, parseSize, type Mode, type RunOptions, type SimSchedule, type Strategy } from '../machine/config.js';
import type { HuntTask, HuntTaskResult } from './hunt_task.js';
import { makeReplayFile, toReplayOptions, type ReplayFile } from './replay_file.js';
import { runMachine, type RunResult } from '../machine/run.js';
import { huntCorpus } from './hunt_corpus.js';
import { workerExecArgv, workerUrl, workerUrls } from '../machine/worker_url.js';
import { releaseIdleWorkers, setWorkerReuse, workerReuse } from '../machine/worker_pool.js';

export interface HuntOptions {
  id: string;
  seeds: number;
  seconds: number;
  jobs: number;
  shard: [number, number];   // K of N, 1-based
  mode: Mode;
  strategy: Strategy;
  depth: number;
  /** Guest CPUs; null: the race's own (most need 2, some 3). */
  cpus: number | null;
  shrink: boolean;
  shrinkSeconds: number;
  fixed: boolean;            // run with the fix on instead (a control hunt: should find nothing)
  /** Failure corpus: its entries for this race are replayed before the search (explore/hunt_corpus.ts); null none. */
  corpus?: string | null;
  progress?: (done: number, total: number) => void;
}

export interface HuntResult {
  race: string;
  found: boolean;
  seed: number | null;
  violation: Violation | null;
  seeds_tried: number;
  seconds: number;
  replay: ReplayFile | null;
  /** Found by replaying this corpus entry, before any seed was tried. */
  from_corpus?: string;
}

export function findRace(id: string): RaceEntry {
  const r = RACES.find((x) => x.id === id);
  if (!r) throw new UsageError(`unknown race id '${id}'; accepted: ${RACES.map((x) => x.id).join(', ')}`);
  return r;
}

/** The run options a hunt uses for a race and seed. */
export function raceRunOptions(r: RaceEntry, h: Pick<HuntOptions, 'mode' | 'strategy' | 'depth' | 'cpus' | 'fixed'>, seed: number): RunOptions {
  const sim = h.mode === 'sim';
  return {
    ...DEFAULTS, workload: r.workload, workloadOptions: { ...(r.workloadOptions ?? {}) }, cpus: h.cpus ?? r.cpus ?? 2,
    memBytes: r.mem ? parseSize('mem', r.mem) : DEFAULTS.memBytes,
    hostMemBytes: r.host_mem ? parseSize('host_mem', r.host_mem) : null,
    ops: sim ? (r.ops ?? 5000) : null, seconds: sim ? null : 2, seed, mode: h.mode, strategy: h.strategy, depth: h.depth,
    hinting: hostByName(r.host).readsHints ? 'full' : 'off', host: r.host, ringSlots: r.ring_slots ?? DEFAULTS.ringSlots,
    unfix: h.fixed ? [] : [r.id, ...(r.also_unfix ?? [])], watchdogMs: 5000, inject: [...(r.inject ?? [])],
  };
}

/** Seeds of shard K/N: K, K+N, K+2N, ... (1-based). */
export function shardSeeds(k: number, n: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => k + i * n);
}

export async function hunt(h: HuntOptions): Promise<HuntResult> {
  const race = findRace(h.id);
  const known = h.corpus && !h.fixed ? await huntCorpus(h.corpus, race) : null;
  if (known) return known;
  const t0 = performance.now();
  const seeds = shardSeeds(h.shard[0], h.shard[1], h.seeds);
  const batch = h.mode === 'sim' ? 2 : 1;
  const pool = new Piscina({ filename: workerUrl('hunt_task').href, minThreads: h.jobs, maxThreads: h.jobs, idleTimeout: 1000 });
  const urls = workerUrls();
  let next = 0;
  let done = 0;
  let found: { seed: number; v: Violation } | null = null;
  const deadline = t0 + h.seconds * 1000;
  const oracle = race.oracle;
  try {
    const inflight = new Set<Promise<void>>();
    let failure: unknown = null;
    while (!found && !failure) {
      while (!found && inflight.size < h.jobs * 2 && next < seeds.length && performance.now() < deadline) {
        const runs = seeds.slice(next, next + batch).map((s) => raceRunOptions(race, h, s));
        next += runs.length;
        const task: HuntTask = { urls, execArgv: workerExecArgv(), runs, oracle };
        const p: Promise<void> = (pool.run(task) as Promise<HuntTaskResult[]>).then((res) => {
          for (const r of res) {
            done++;
            const v = r.violations.find((x) => x.oracle === oracle);
            if (v && (!found || r.seed < found.seed)) found = { seed: r.seed, v };
          }
          h.progress?.(done, seeds.length);
        }, (e: unknown) => { failure = e; }).finally(() => { inflight.delete(p); });
        inflight.add(p);
      }
      if (inflight.size === 0) break;
      await Promise.race(inflight);
    }
    if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  } finally {
    await pool.destroy();
  }
  const f = found as { seed: number; v: Violation } | null;
  const seconds = (performance.now() - t0) / 1000;
  if (!f) return { race: race.id, found: false, seed: null, violation: null, seeds_tried: done, seconds, replay: null };
  const opts = raceRunOptions(race, h, f.seed);
  let replay: ReplayFile | null = null;
  let violation = f.v;
  if (h.mode === 'sim') {
    // The recording run and the shrinking replays share one set of workers.
    const reused = workerReuse();
    setWorkerReuse(true);
    try {
      replay = await recordAndShrink(race, h, f.seed, opts, oracle);
    } finally {
      setWorkerReuse(reused);
      if (!reused) await releaseIdleWorkers();
    }
    if (replay) violation = { ...violation, ...replay.expected, oracle: violation.oracle };
  }
  if (!replay) {
    replay = makeReplayFile({ race: race.id, seed: f.seed, options: toReplayOptions(opts), schedule: null, expected: pick(violation), shrink: null });
  }
  return { race: race.id, found: true, seed: f.seed, violation, seeds_tried: done, seconds, replay };
}

async function recordAndShrink(race: RaceEntry, h: HuntOptions, seed: number, opts: RunOptions, oracle: string): Promise<ReplayFile | null> {
  const rec = await runMachine({ ...opts, recordSchedule: true });
  const v = rec.violations.find((x) => x.oracle === oracle);
  if (!v || !rec.schedule?.complete) return null;
  const schedule: SimSchedule = { first: rec.schedule.first, decisions: rec.schedule.decisions ?? [] };
  const shrunk = h.shrink ? await shrinkSchedule(opts, schedule, oracle, rec, h.shrinkSeconds) : null;
  return makeReplayFile({
    race: race.id, seed, options: toReplayOptions(shrunk?.opts ?? opts), schedule: shrunk?.schedule ?? schedule,
    expected: pick(shrunk?.violation ?? v),
    shrink: shrunk ? { steps_before: rec.schedule.steps, steps_after: shrunk.steps, decisions_before: schedule.decisions.length, decisions_after: shrunk.schedule.decisions.length } : null,
  });
}

function pick(v: Violation) {
  return { oracle: v.oracle, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message };
}

interface Shrunk { opts: RunOptions; schedule: SimSchedule; violation: Violation; steps: number }

/**
 * Shrink a violating sim schedule: first cut the op budget to what the run used, then
 * drop chunks of switch decisions (ddmin-style, halving the chunk size) while the same
 * oracle still fires when the schedule is replayed. Bounded in time.
 */
export async function shrinkSchedule(opts: RunOptions, sched: SimSchedule, oracle: string, first: RunResult, seconds: number,
  match: (v: Violation) => boolean = (v) => v.oracle === oracle): Promise<Shrunk | null> {
  const deadline = performance.now() + seconds * 1000;
  const tryRun = async (o: RunOptions, s: SimSchedule): Promise<RunResult | null> => {
    const r = await runMachine({ ...o, schedule: s, recordSchedule: false });
    return r.violations.some(match) ? r : null;
  };
  let bestOpts = opts;
  let best = sched;
  let bestRun = await tryRun(opts, sched);
  if (!bestRun) return null; // replay does not reproduce: keep the recorded schedule
  const usedOps = Math.max(opts.cpus, Math.ceil(first.ops));
  if (usedOps < (opts.ops ?? Infinity)) {
    const o2 = { ...opts, ops: usedOps };
    const r = await tryRun(o2, best);
    if (r) { bestOpts = o2; bestRun = r; }
  }
  let chunk = Math.max(1, best.decisions.length >> 1);
  while (chunk >= 1 && performance.now() < deadline) {
    let removedAny = false;
    for (let start = 0; start < best.decisions.length && performance.now() < deadline;) {
      const d = best.decisions;
      const cand: SimSchedule = { first: best.first, decisions: [...d.slice(0, start), ...d.slice(start + chunk)] };
      const r = await tryRun(bestOpts, cand);
      if (r) { best = cand; bestRun = r; removedAny = true; } else start += chunk;
    }
    if (!removedAny || chunk === 1) chunk >>= 1;
  }
  const v = bestRun.violations.find(match)!;
  return { opts: bestOpts, schedule: best, violation: v, steps: bestRun.schedule?.steps ?? 0 };
}

export const DEFAULT_JOBS = (): number => Math.max(1, availableParallelism());
