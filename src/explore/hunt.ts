/**
 * `hintsim hunt ID`: search seeds with one fix switched off until the race's oracle
 * fires, in parallel with piscina; then (sim mode) record the exact schedule, shrink it
 * (shrink.ts), and write a replay file. Threads mode: the failing run's point rings are
 * re-enacted in sim mode (ring_schedule.ts), then, when that does not fail the same way, the
 * failure's options are run in sim mode as they are; the first that fails the same way gives
 * the replay file its recorded schedule (shrunk), else the file is threads-only (options alone).
 */
import { hostByName } from '../hosts/index.js';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { RACES, type RaceEntry } from '../core/races.js';
import type { Violation } from '../core/oracles.js';
import { DEFAULTS, UsageError, parseSize, type Mode, type RunOptions, type SimSchedule, type Strategy } from '../machine/config.js';
import type { HuntTask, HuntTaskResult } from './hunt_task.js';
import { makeReplayFile, toReplayOptions, type ReplayFile } from './replay_file.js';
import { recordedSchedule, runMachine, type RunResult } from '../machine/run.js';
import { poolRunner, shrinkRecord, shrinkSchedule, wantOf } from './shrink.js';
import { huntCorpus } from './hunt_corpus.js';
import { workerExecArgv, workerUrl, workerUrls } from '../machine/worker_url.js';
import { releaseIdleWorkers, setWorkerReuse, workerReuse } from '../machine/worker_pool.js';
import { ringRecord, ringRunOptions, ringSkip, type RingInput, type RingRecord } from './ring_schedule.js';
import { planOptions, sameFailure, steerPlan } from './steer.js';

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
  // Sim runs go two to a task (less messaging); the first task of each job carries one, so
  // that the first seed's result comes after one run, not two.
  const batchOf = (n: number): number => (h.mode === 'sim' && n >= h.jobs ? 2 : 1);
  const pool = new Piscina({ filename: workerUrl('hunt_task').href, minThreads: h.jobs, maxThreads: h.jobs, idleTimeout: 1000 });
  const urls = workerUrls();
  let next = 0;
  let done = 0;
  let found: { seed: number; v: Violation; ring: RingInput | null; ops: number } | null = null;
  const deadline = t0 + h.seconds * 1000;
  const oracle = race.oracle;
  try {
    const inflight = new Set<Promise<void>>();
    let failure: unknown = null;
    while (!found && !failure) {
      while (!found && inflight.size < h.jobs * 2 && next < seeds.length && performance.now() < deadline) {
        const runs = seeds.slice(next, next + batchOf(next)).map((s) => raceRunOptions(race, h, s));
        next += runs.length;
        const task: HuntTask = { urls, execArgv: workerExecArgv(), runs, oracle };
        const p: Promise<void> = (pool.run(task) as Promise<HuntTaskResult[]>).then((res) => {
          for (const r of res) {
            done++;
            const v = r.violations.find((x) => x.oracle === oracle);
            if (v && (!found || r.seed < found.seed)) found = { seed: r.seed, v, ring: r.ring ?? null, ops: r.ops };
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
  const f = found as { seed: number; v: Violation; ring: RingInput | null; ops: number } | null;
  const seconds = (performance.now() - t0) / 1000;
  if (!f) return { race: race.id, found: false, seed: null, violation: null, seeds_tried: done, seconds, replay: null };
  const opts = raceRunOptions(race, h, f.seed);
  let replay: ReplayFile | null = null;
  let violation = f.v;
  let ring: RingRecord | null = null;
  if (h.mode === 'sim' || f.ring) {
    // The recording run and the shrinking replays share one set of workers.
    const reused = workerReuse();
    setWorkerReuse(true);
    try {
      if (h.mode === 'sim') replay = await recordAndShrink(race, h, f.seed, opts, oracle);
      else ({ replay, ring } = await ringAndShrink(race, h, f.seed, opts, f.v, f.ring!, f.ops));
    } finally {
      setWorkerReuse(reused);
      if (!reused) await releaseIdleWorkers();
    }
    if (replay) violation = { ...violation, ...replay.expected, oracle: violation.oracle };
  }
  if (!replay) {
    replay = makeReplayFile({
      race: race.id, seed: f.seed, options: toReplayOptions(opts), schedule: null, expected: pick(violation), shrink: null,
      ...(ring ? { replay_kind: 'threads-only', ring_replay: ring } : {}),
    });
  }
  return { race: race.id, found: true, seed: f.seed, violation, seeds_tried: done, seconds, replay };
}

async function recordAndShrink(race: RaceEntry, h: HuntOptions, seed: number, opts: RunOptions, oracle: string): Promise<ReplayFile | null> {
  const rec = await runMachine({ ...opts, recordSchedule: true, recordKeys: true });
  const v = rec.violations.find((x) => x.oracle === oracle);
  const schedule = recordedSchedule(rec);
  if (!v || !schedule) return null;
  const shrunk = h.shrink ? await shrinkSchedule(opts, schedule, oracle, rec, h.shrinkSeconds, undefined, poolRunner(h.jobs, wantOf(v))) : null;
  // shrinking may move to a nearby seed (shrink.ts reground): the file names the shrunk run's
  return makeReplayFile({
    race: race.id, seed: shrunk?.opts.seed ?? seed, options: toReplayOptions(shrunk?.opts ?? opts), schedule: shrunk?.schedule ?? schedule,
    expected: pick(shrunk?.violation ?? v),
    shrink: shrinkRecord(rec.schedule!.steps, schedule, shrunk),
  });
}

/**
 * Threads mode: re-enact the failing run's point rings in sim mode; when that does not fail the
 * same way (or is not tried: the window starts too far into the run), the sim run with the
 * failure's own options and seed (stress's attempt 0, steer.ts). The first that fails the same
 * way gives the replay file its recorded schedule, shrunk (keeping the same failure): replay_kind
 * 'sim-ring' or 'sim-reproduced'; neither: the file is threads-only.
 */
async function ringAndShrink(race: RaceEntry, h: HuntOptions, seed: number, threads: RunOptions, v: Violation, input: RingInput, threadsOps: number): Promise<{ replay: ReplayFile | null; ring: RingRecord }> {
  const t0 = performance.now();
  let ring: RingRecord;
  let tried: { opts: RunOptions; rec: RunResult; hit: Violation; schedule: SimSchedule; kind: 'sim-ring' | 'sim-reproduced' } | null = null;
  if (ringSkip(input) !== null) ring = ringRecord(input, null, false, 0);
  else {
    const ringOpts = ringRunOptions(threads, input);
    const rec = await runMachine(ringOpts);
    const hit = rec.violations.find((x) => sameFailure(x, v));
    const schedule = hit ? recordedSchedule(rec) : null;
    ring = ringRecord(input, rec, schedule !== null, (performance.now() - t0) / 1000);
    // the recorded schedule replays without the rings
    if (hit && schedule) tried = { opts: { ...ringOpts, ring: null, recordSchedule: false }, rec, hit, schedule, kind: 'sim-ring' };
  }
  if (!tried) {
    const plan = steerPlan({ seed, key: 0, opts: threads, violation: v, ops: threadsOps, ring: input }, 0);
    const opts = planOptions(threads, plan);
    const rec = await runMachine({ ...opts, recordKeys: true });
    const hit = rec.violations.find((x) => sameFailure(x, v));
    const schedule = hit ? recordedSchedule(rec) : null;
    if (hit && schedule) tried = { opts: { ...opts, recordSchedule: false }, rec, hit, schedule, kind: 'sim-reproduced' };
  }
  if (!tried) return { replay: null, ring };
  const { opts, rec, hit, schedule, kind } = tried;
  const match = (x: Violation): boolean => sameFailure(x, v);
  const shrunk = h.shrink ? await shrinkSchedule(opts, schedule, hit.oracle, rec, h.shrinkSeconds, match, poolRunner(h.jobs, wantOf(hit))) : null;
  const replay = makeReplayFile({
    race: race.id, seed: opts.seed, options: toReplayOptions(shrunk?.opts ?? opts), schedule: shrunk?.schedule ?? schedule, expected: pick(shrunk?.violation ?? hit),
    shrink: shrinkRecord(rec.schedule!.steps, schedule, shrunk),
    replay_kind: kind, ring_replay: ring,
  });
  return { replay, ring };
}

function pick(v: Violation) {
  return { oracle: v.oracle, pfn: v.pfn, cpu: v.cpu, step: v.step, message: v.message };
}

export const DEFAULT_JOBS = (): number => Math.max(1, availableParallelism());
