/**
 * One run of the machine: boot, start the guest CPU workers and the host worker, run the
 * workload until --seconds or --ops, stop, let each CPU verify and release what it owns,
 * run the end-of-run oracles, and report. A watchdog turns a CPU that makes no progress
 * into a liveness violation. Workers are always terminated.
 */
import * as Comlink from 'comlink';
import { findWorkload, WORKLOADS } from '../../workloads/index.js';
import { resolveOptions, type Workload } from '../../workloads/workload.js';
import { ALL_COUNTER_NAMES, COUNTER_NAMES, MAX_COUNTERS } from '../core/counters.js';
import {
  CTL_STATE, DEBUG_PFN, HOST_KICK, SIM_BATON, SIM_EXCL, SIM_HASH, SIM_STEP, PA_HEARTBEAT, PA_LAST_PFN, PA_LAST_STEP, PA_STATE, paCounter, paWord, type Views, CS_DONE, CS_RUN, CS_STOP, PS_RUNNING,
} from '../core/layout.js';
import { O, readViolations, report, violationCount, type Violation } from '../core/oracles.js';
import { mix32 } from '../core/prng.js';
import { simResult, simSetup } from '../sim/setup.js';
import { keyedFollow, keyedSchedule } from '../sim/keyed_run.js';
import { keysArea } from '../sim/keys.js';
import { ringOutcome, ringRows, type RingOutcome } from '../sim/strategies/ring.js';
import { readRings, ringArea, type RingPoint } from '../core/point_ring.js';
import { logCapacity } from '../sim/schedule.js';
import type { ScheduleResult } from '../sim/schedule.js';
import { RACES, raceName } from '../core/races.js';
import { bootMachine } from './boot.js';
import { readCoverage, type RunCoverage } from './coverage.js';
import { endOfRunChecks, stateMix, type Accounting } from './checks.js';
import { DEFAULT_SECONDS, DEFAULT_SIM_OPS, formatSize, hostBudgetFrames, UsageError, validate, type RunOptions, type SimSchedule } from './config.js';
import type { CpuApi, CpuRunResult } from './cpu_worker.js';
import { hostByName, type Host, type ShadowSummary, type XenSummary } from '../hosts/index.js';
import { type MachineWorker, acquireWorker, releaseWorker } from './worker_pool.js';
import { buildTrace, type CounterSample } from './trace_out.js';
import { TRACE_PER_PARTICIPANT } from '../core/trace.js';
import { storyArea, storyEvents, type StoryRecord } from '../sim/story_rec.js';
import { ThreadClock, osThreadId } from './thread_clock.js';

export interface RunResult {
  workload: string;
  seed: number;
  mode: string;
  cpus: number;
  mem: string;
  host_mem: string;
  hinting: string;
  /** The host: essa or xenpaging. */
  host: string;
  batch: boolean;
  unfix: string[];
  /** Active fault-injection points (only when some are). */
  inject?: string[];
  ops: number;
  seconds: number;
  ops_per_sec: number;
  violations: Violation[];
  counters: Record<string, number>;
  per_cpu: { cpu: number; ops: number; essa_calls: number; essa_batches: number; pcp_hot: number; pcp_cold: number }[];
  state_mix: Record<string, number>;
  /**
   * Threads mode: the state mix sampled every 250 ms (ms since start, then counts by state).
   * With options.mixSampleMs: at that interval in either mode; sim samples carry the step.
   */
  state_mix_samples?: MixSample[];
  accounting: Accounting | null;
  trace_hash: string;
  /** With options.trace: Chrome trace-event JSON. */
  trace?: ReturnType<typeof buildTrace>;
  /** Sim mode: the schedule (steps, switches; the decisions when asked for). */
  schedule?: ScheduleResult;
  /** With --debug-fault: the first pfn the planted bug acted on (-1 none). */
  planted_pfn?: number;
  /** --host xenpaging: the p2m at the end, tot_pages and its target, the ring, the Xen counters. */
  xen?: XenSummary;
  /** --host shadow: the pool, the MMU counters (exits, emulations, zaps, floods, recycles...) and traps per 1000 ops. */
  shadow?: ShadowSummary;
  /** With options.storyPfn (sim): what happened to that page, for report/story.ts. */
  story?: StoryRecord;
  /** Threads mode with options.recordRing and a violation: each participant's last points (core/point_ring.ts), and how many it passed in all. */
  rings?: { points: RingPoint[][]; passed: number[] };
  /** Sim mode with options.ring: how far the threads run's rings were re-enacted (sim/strategies/ring.ts). */
  ring_replay?: RingOutcome;
  /**
   * Threads mode, per guest CPU: the time (ms) spent spinning on busy words (spinWait and the
   * lock waits: the core burnt) and asleep on them (the core given away), the run loop's wall
   * time and the thread's CPU time in it (-1 unknown); share = spinning over CPU time (`of`
   * 'cpu'), or over wall time where the CPU time is unknown ('run'), summed over the CPUs.
   */
  spin?: { spin_ms: number[]; sleep_ms: number[]; run_ms: number[]; cpu_ms: number[]; of: 'cpu' | 'run'; share: number };
  /** What the run exercised: ESSA transitions, host actions, access outcomes, discard branches (coverage.ts). */
  coverage: RunCoverage;
}

export interface MixSample { ms: number; step?: number; mix: Record<string, number> }

/** State-mix samples kept at most; past it every other one is dropped and the interval doubles. */
const MIX_SAMPLES_MAX = 2400;

export type { ScheduleResult } from '../sim/schedule.js';

export interface Progress { elapsedMs: number; totalMs: number | null; ops: number; totalOps: number | null; violations: number }

export interface RunHooks {
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
  /** Read the machine's words after the run, before its workers are released (hintsim check reads its records). */
  afterRun?: (v: Views) => void;
}

/** The schedule a sim run recorded (recordSchedule), as one that replays it; null when it was not recorded whole. */
export function recordedSchedule(r: RunResult): SimSchedule | null {
  const s = r.schedule;
  return s?.complete ? { first: s.first, decisions: s.decisions ?? [], ...(s.keys ? { keys: s.keys } : {}) } : null;
}

function spinSummary(runs: CpuRunResult[]): NonNullable<RunResult['spin']> {
  const r3 = (x: number): number => Number(x.toFixed(3));
  const cpuKnown = runs.every((x) => x.cpu_ms > 0);
  const total = runs.reduce((a, x) => a + (cpuKnown ? x.cpu_ms : x.run_ms), 0);
  return {
    spin_ms: runs.map((x) => r3(x.spin_ms)), sleep_ms: runs.map((x) => r3(x.sleep_ms)), run_ms: runs.map((x) => r3(x.run_ms)),
    cpu_ms: runs.map((x) => r3(x.cpu_ms)), of: cpuKnown ? 'cpu' : 'run',
    share: total > 0 ? runs.reduce((a, x) => a + x.spin_ms, 0) / total : 0,
  };
}

function sumCounters(v: Views, participants: number): Record<string, number> {
  const out: Record<string, number> = {};
  ALL_COUNTER_NAMES.forEach((name, c) => {
    let s = 0;
    for (let p = 0; p < participants; p++) {
      const x = v.paF64[paCounter(p, c)];
      s = MAX_COUNTERS.has(name) ? Math.max(s, x) : s + x;
    }
    out[name] = s;
  });
  return out;
}

function liveOps(v: Views): number {
  let s = 0;
  for (let p = 0; p < v.ncpus; p++) s += v.paF64[paCounter(p, 0)];
  return s;
}

/**
 * A violation whose oracle is the catalogued oracle of a race unfixed in this run is
 * attributed to that race (when the reporting site did not name one itself).
 */
function attributeRaces(vs: Violation[], unfix: string[]): Violation[] {
  return vs.map((x) => {
    if (x.race) return x;
    const hit = unfix.map((id) => RACES.find((r) => r.id === id)).find((r) => r && r.oracle === x.oracle);
    return hit ? { ...x, race: hit.id } : x;
  });
}

/** Guest CPUs, then the host's participants (the ESSA host's daemon; xenpaging's pager and dom0). */
export function participantsOf(o: RunOptions): number {
  return o.cpus + hostByName(o.host).participants.length;
}

/** What main asks of a host participant's worker (host_worker, xen_worker). */
interface ParticipantApi { run(): number }

/** Deterministic split of a total op budget over the CPUs. */
export function opsShare(total: number, cpus: number, cpu: number): number {
  return Math.floor(total / cpus) + (cpu < total % cpus ? 1 : 0);
}

/** The thread this module runs on (the CLI's main thread, or a hunt or stress task's thread). */
const SELF_TID = osThreadId();

/**
 * Threads mode: how much of a watchdog interval of `wallMs` counts toward a stall: only the
 * time in which every thread of the process had the opportunity to run (thread_clock.ts;
 * an interval is settled at the sample after the one that ends it). A participant waiting
 * for a lock whose holder the machine did not schedule is not stalled either, nor one
 * blocked in its garbage collection on a runtime helper thread that did not get a CPU.
 * And never more than two ticks: a tick that fired late means this thread, most likely the
 * whole process, was not running (this alone counts where threads cannot be measured).
 */
function opportunityMs(clock: ThreadClock, nowMs: number, wallMs: number, tickMs: number): number {
  const onTimeMs = Math.min(wallMs, 2 * tickMs);
  const ms = clock.settledMs(nowMs);
  return ms < 0 ? onTimeMs : Math.min(ms, onTimeMs);
}

/** A run in progress: what spawn, start, watch and collect share. */
interface Run {
  o: RunOptions;
  w: Workload;
  wopts: Record<string, number>;
  sim: boolean;
  seconds: number | null;
  v: Views;
  host: Host;
  nparts: number;
  traceSab: SharedArrayBuffer | null;
  storySab: SharedArrayBuffer | null;
  keysSab: SharedArrayBuffer | null;
  /** Threads mode with options.recordRing: the point rings (core/point_ring.ts). */
  ringSab: SharedArrayBuffer | null;
  traceSamples: CounterSample[];
  workers: { mw: MachineWorker; onError: (e: Error) => void }[];
  crashes: string[];
  timers: NodeJS.Timeout[];
  /** Threads mode: the watchdog's view of the process's threads. */
  clock: ThreadClock | null;
  /** Resolves when the watchdog or a crashed worker gives up on the run. */
  liveness: Promise<void>;
  livenessFired: () => void;
  /** Every CPU returned from its run (the watchdog's violation timer stops counting). */
  runsDone: boolean;
}

/** The started run: its start time and the participants' pending run calls. */
interface Started { t0: number; cpus: Comlink.Remote<CpuApi>[]; hostDone: Promise<unknown>; runs: Promise<CpuRunResult>[] }

/** The samplers of a watched run. */
interface Samplers { samples: MixSample[]; takeMix: () => void; sampleCounters: (ts: number) => void }

export async function runMachine(opts: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const r = prepare(opts);
  let completed = false; // the run ended normally: its workers may serve the next run
  try {
    const s = await spawnAndStart(r);
    const samplers = watch(r, s, hooks);
    const { result, hung } = await collect(r, s, samplers);
    completed = !hung;
    hooks.afterRun?.(r.v);
    return result;
  } finally {
    await teardown(r, completed);
  }
}

/** Validate, boot the machine and set the workload up (main thread, before any worker). */
function prepare(opts: RunOptions): Run {
  let o = opts;
  validate(o);
  const w = findWorkload(o.workload);
  if (!w) throw new UsageError(`unknown workload '${o.workload}'; accepted: ${WORKLOADS.map((x) => x.name).join(', ')}`);
  const wopts = resolveOptions(w, o.workloadOptions);
  const sim = o.mode === 'sim';
  if (sim && o.ops === null) o = { ...o, ops: DEFAULT_SIM_OPS };
  const seconds = o.ops === null ? (o.seconds ?? DEFAULT_SECONDS) : null;
  const v = bootMachine(o);
  const host = hostByName(o.host);
  const nparts = participantsOf(o);
  const traceSab = o.trace ? new SharedArrayBuffer(nparts * TRACE_PER_PARTICIPANT * 8) : null;
  const storySab = sim && o.storyPfn !== undefined ? storyArea(o.storyPfn) : null;
  const keysSab = sim && o.ring ? keysArea(ringRows(o.ring), logCapacity(v.slog)) // the ring strategy's rows; recorded keys after them
    : sim && ((o.recordSchedule && o.recordKeys) || o.schedule?.keys) ? keysArea(keyedFollow(o.schedule), logCapacity(v.slog)) : null;
  const ringSab = !sim && o.recordRing ? ringArea(nparts) : null;
  w.setup?.(v.k, wopts);
  let livenessFired: () => void = () => {};
  const liveness = new Promise<void>((res) => { livenessFired = res; });
  return {
    o, w, wopts, sim, seconds, v, host, nparts, traceSab, storySab, keysSab, ringSab, traceSamples: [], workers: [], crashes: [], timers: [], clock: null,
    liveness, livenessFired: () => livenessFired(), runsDone: false,
  };
}

/** Spawn the CPUs and the host's participants, configure the CPUs, then start the run. */
async function spawnAndStart(r: Run): Promise<Started> {
  const { o, v, traceSab, storySab, keysSab, ringSab } = r;
  const spawn = async <T>(name: string, me: number): Promise<Comlink.Remote<T>> => {
    const mw = await acquireWorker<T>(name, { sab: v.sab, nframes: v.nframes, ncpus: v.ncpus, me, traceSab, storySab, keysSab, ringSab });
    const onError = (e: Error): void => {
      r.crashes.push(`${name} ${me}: ${e.message}`);
      report(v, O.bug_on, -1, me, 0, `worker ${name} ${me} crashed: ${e.message}`);
      r.livenessFired();
    };
    mw.worker.on('error', onError);
    r.workers.push({ mw: mw as MachineWorker, onError });
    return mw.api;
  };
  // Every worker is created before the first await (fresh ones synchronously): a caller
  // can see them as soon as runMachine returns its promise (test/workers.test.ts).
  const cpuSpawns = Array.from({ length: o.cpus }, (_, i) => spawn<CpuApi>('cpu_worker', i));
  const hostSpawns = r.host.participants.map((p, i) => spawn<ParticipantApi>(p.entry, o.cpus + i)); // the host slot first
  const cpus = await Promise.all(cpuSpawns);
  const hostParts = await Promise.all(hostSpawns);
  await Promise.race([Promise.all(cpus.map((c) => c.configure(o.workload, o.seed, r.wopts))), r.liveness]);
  if (r.crashes.length) throw new Error(`worker failed to start: ${r.crashes.join('; ')}`);
  return start(r, cpus, hostParts);
}

/** Start: the sim schedule, the run state, every participant's run call, the --seconds timer. */
function start(r: Run, cpus: Comlink.Remote<CpuApi>[], hostParts: Comlink.Remote<ParticipantApi>[]): Started {
  const { o, v, sim } = r;
  if (sim) simSetup(v, o, participantsOf(o));
  Atomics.store(v.hdr, CTL_STATE, CS_RUN); // run: CPUs poll it with Atomics.load
  if (sim) Atomics.notify(v.hdr, SIM_BATON);
  const t0 = performance.now();
  const hostDone = Promise.all(hostParts.map((p) => p.run()));
  const runs = cpus.map((c, i) => c.run(o.opsPerCpu?.[i] ?? (o.ops === null ? Number.MAX_SAFE_INTEGER : opsShare(o.ops, o.cpus, i))));
  if (r.seconds !== null) {
    r.timers.push(setTimeout(() => Atomics.compareExchange(v.hdr, CTL_STATE, CS_RUN, CS_STOP), r.seconds * 1000));
  }
  return { t0, cpus, hostDone, runs };
}

/** Watch the run: the watchdog, the state-mix and counter samplers, progress reports. */
function watch(r: Run, s: Started, hooks: RunHooks): Samplers {
  startWatchdog(r);
  const { o, v, sim, timers, traceSamples } = r;
  const t0 = s.t0;
  // State mix over time. The main thread only reads the host state words, so sampling
  // never changes a sim run; in sim mode a sample records the step it saw.
  const samples: MixSample[] = [];
  const mixEveryMs = o.mixSampleMs ?? (sim ? 0 : 250);
  const takeMix = (): void => {
    samples.push({ ms: Math.round(performance.now() - t0), ...(sim ? { step: Atomics.load(v.hdr, SIM_STEP) } : {}), mix: stateMix(v) });
  };
  if (o.mixSampleMs !== undefined) takeMix();
  if (mixEveryMs > 0) {
    let tick = 0;
    let stride = 1;
    timers.push(setInterval(() => {
      if (++tick % stride !== 0) return;
      if (samples.length >= MIX_SAMPLES_MAX) {
        for (let i = 0; 2 * i < samples.length; i++) samples[i] = samples[2 * i];
        samples.length = Math.ceil(samples.length / 2);
        stride *= 2;
      }
      takeMix();
    }, mixEveryMs));
  }
  const sampleCounters = (ts: number): void => {
    const m = stateMix(v);
    traceSamples.push({
      ts, free: (m.Ur ?? 0) + (m.Uz ?? 0), volatile: (m.Vr ?? 0) + (m.Vz ?? 0) + (m.Pr ?? 0),
      resident: (m.Sr ?? 0) + (m.Ur ?? 0) + (m.Vr ?? 0) + (m.Pr ?? 0),
    });
  };
  if (o.trace && !sim) timers.push(setInterval(() => { if (traceSamples.length < 100_000) sampleCounters((performance.timeOrigin + performance.now()) * 1000); }, 50));
  if (hooks.onProgress) {
    const every = hooks.progressEveryMs ?? 200;
    timers.push(setInterval(() => hooks.onProgress!({
      elapsedMs: performance.now() - t0, totalMs: r.seconds === null ? null : r.seconds * 1000,
      ops: liveOps(v), totalOps: o.ops, violations: violationCount(v),
    }), every));
  }
  return { samples, takeMix, sampleCounters };
}

/**
 * Watchdog: a running participant whose heartbeat stands still for watchdogMs. Sim
 * mode counts wall time while it holds the baton, up to the tick. Threads mode counts
 * only time in which every thread of the process could run (opportunityMs), which is
 * known for the interval before the last one: load alone never trips it.
 */
/** Sim mode: scheduling steps after the first violation within which the run must have stopped. */
const SIM_STOP_STEPS = 1_000_000;
/** Sim mode: the wall-time last resort, in watchdog intervals. */
const SIM_STOP_WALL_FACTOR = 12;

function startWatchdog(r: Run): void {
  const { o, v, sim, nparts, host, w } = r;
  const beats = new Array<number>(nparts).fill(-1);
  const movedTick = new Int32Array(nparts); // the last tick that saw it move (or not running)
  const movedAtMs = new Float64Array(nparts); // ... and when
  const stalledMs = new Float64Array(nparts); // counted time since then
  const tickMs = Math.min(250, Math.max(20, o.watchdogMs / 4));
  const lagTicks = sim ? 0 : 1;
  if (!sim) r.clock = new ThreadClock(SELF_TID);
  const clock = r.clock;
  let tick = 0;
  let lastTickMs = performance.now();
  let lastWallMs = 0;
  const restart = (p: number, now: number): void => { movedTick[p] = tick; movedAtMs[p] = now; stalledMs[p] = 0; };
  const who = (q: number): string => (q < o.cpus ? `cpu ${q}` : host.participants[q - o.cpus].who);
  let violatedAt = -1;
  let violatedStep = 0;
  r.timers.push(setInterval(() => {
    const now = performance.now();
    tick++;
    // The interval counted at this tick: sim, the one that just ended; threads, the one before.
    const wallMs = clock === null ? now - lastTickMs : lastWallMs;
    const countedMs = clock === null ? wallMs : opportunityMs(clock, now, wallMs, tickMs);
    lastWallMs = now - lastTickMs;
    lastTickMs = now;
    // A violation asked for a stop, but a participant still spins inside a step (a sim
    // livelock keeps the step counter moving): tear the run down after watchdogMs.
    // Sim mode counts scheduling steps, not wall time: on a loaded machine a clean stop can
    // take seconds, and a liveness verdict added then would make the run's result depend on
    // the load (a hunt's recording run then lost its schedule). Wall time stays as a last
    // resort there (a participant that never reaches a scheduling point again).
    // Only a violation that asked for a stop starts it: some oracles report and let the run go
    // on (report(..., stop = false), e.g. the shadow host's pathology counts).
    if (!r.runsDone && violatedAt < 0 && violationCount(v) > 0 && Atomics.load(v.hdr, CTL_STATE) >= CS_STOP) { violatedAt = now; violatedStep = Atomics.load(v.hdr, SIM_STEP); }
    const stopOverdue = sim
      ? Atomics.load(v.hdr, SIM_STEP) - violatedStep > SIM_STOP_STEPS || now - violatedAt > SIM_STOP_WALL_FACTOR * o.watchdogMs
      : now - violatedAt > o.watchdogMs;
    if (!r.runsDone && violatedAt >= 0 && stopOverdue) {
      report(v, O.liveness, -1, o.cpus, Atomics.load(v.hdr, SIM_STEP), sim
        ? `watchdog: the run did not stop within ${SIM_STOP_STEPS.toLocaleString('en-US')} scheduling steps (or ${SIM_STOP_WALL_FACTOR * o.watchdogMs} ms) of its first violation (a participant is still spinning inside a step)`
        : `watchdog: the run did not stop within ${o.watchdogMs} ms of its first violation (a participant is still spinning inside a step)`);
      r.livenessFired();
      return;
    }
    for (let p = 0; p < nparts; p++) {
      // PA_STATE, PA_HEARTBEAT, SIM_BATON, SIM_STEP: seq-cst loads of words their owners
      // store atomically; a value one store old only moves the verdict by a tick.
      if (Atomics.load(v.pa, paWord(p, PA_STATE)) !== PS_RUNNING) { restart(p, now); continue; }
      if (sim && Atomics.load(v.hdr, SIM_BATON) !== p) { restart(p, now); continue; } // waiting for its turn
      const hb = sim ? Atomics.load(v.hdr, SIM_STEP) : Atomics.load(v.pa, paWord(p, PA_HEARTBEAT));
      if (hb !== beats[p]) { beats[p] = hb; restart(p, now); continue; }
      if (movedTick[p] >= tick - lagTicks) continue; // threads: it moved in the interval counted now
      stalledMs[p] += countedMs;
      if (stalledMs[p] > o.watchdogMs) {
        const lines = [];
        for (let q = 0; q < nparts; q++) {
          const step = q >= o.cpus ? host.participants[q - o.cpus].step : w.stepNames[v.pa[paWord(q, PA_LAST_STEP)]] ?? '?';
          lines.push(`${who(q)}: last step ${step}, heartbeat ${Atomics.load(v.pa, paWord(q, PA_HEARTBEAT))}, pfn ${v.pa[paWord(q, PA_LAST_PFN)]}`);
        }
        const how = sim ? '' : ` while every thread could run (${Math.round(now - movedAtMs[p])} ms of wall time)`;
        report(v, O.liveness, -1, p, hb, `watchdog: ${who(p)} made no progress for ${o.watchdogMs} ms${how} (${lines.join('; ')})`);
        r.livenessFired();
        return;
      }
    }
  }, tickMs));
}

/** Stop the run, let each CPU verify and release what it owns, run the end-of-run checks, build the result. */
async function collect(r: Run, s: Started, samplers: Samplers): Promise<{ result: RunResult; hung: boolean }> {
  const { o, v, sim, nparts, host, liveness, timers, traceSab } = r;
  const { cpus, hostDone, runs, t0 } = s;
  const { samples, takeMix, sampleCounters } = samplers;
  let hung = false;
  let cpuRuns: CpuRunResult[] = [];
  await Promise.race([Promise.all(runs).then((x) => { r.runsDone = true; cpuRuns = x; }), liveness.then(() => { hung = true; })]);
  const elapsed = (performance.now() - t0) / 1000;
  Atomics.compareExchange(v.hdr, CTL_STATE, CS_RUN, CS_STOP); // stop: the CPUs see it within one step
  let owned: number[][] = [];
  if (sim && !hung) {
    await Promise.race([hostDone, liveness.then(() => { hung = true; })]);
    Atomics.store(v.hdr, SIM_EXCL, 1); // finish phase: one CPU at a time, no switching
  }
  if (!hung) {
    const fin = sim
      ? cpus.reduce<Promise<number[][]>>(async (acc, c) => [...(await acc), await c.finish()], Promise.resolve([]))
      : Promise.all(cpus.map((c) => c.finish()));
    await Promise.race([fin.then((x) => { owned = x; }), liveness.then(() => { hung = true; })]);
  }
  Atomics.store(v.hdr, CTL_STATE, CS_DONE); // done: the host loop exits
  Atomics.store(v.hdr, HOST_KICK, 1);
  Atomics.notify(v.hdr, HOST_KICK);
  if (!hung) await Promise.race([hostDone, liveness.then(() => { hung = true; })]);
  for (const t of timers) clearInterval(t);
  timers.length = 0;
  if (o.mixSampleMs !== undefined) takeMix();

  let accounting: Accounting | null = null;
  if (host.ownedFrames) owned.push(host.ownedFrames(v)); // frames the host keeps outside the allocator (dom0's I/O gfns, K and its data)
  if (!hung && violationCount(v) === 0) accounting = endOfRunChecks(v, owned, o.cpus);
  if (host.endOfRunChecks && !hung && violationCount(v) === 0) host.endOfRunChecks(v, o.cpus);
  const counters = sumCounters(v, nparts);
  const snaps = hung ? [] : await Promise.all(cpus.map((c) => c.snapshot())); // comlink: the CPUs are idle now
  const perCpu = Array.from({ length: o.cpus }, (_, cpu) => ({
    cpu, pcp_hot: snaps[cpu]?.pcp_hot ?? -1, pcp_cold: snaps[cpu]?.pcp_cold ?? -1,
    ops: v.paF64[paCounter(cpu, COUNTER_NAMES.indexOf('ops'))],
    essa_calls: v.paF64[paCounter(cpu, COUNTER_NAMES.indexOf('essa_calls'))],
    essa_batches: v.paF64[paCounter(cpu, COUNTER_NAMES.indexOf('essa_batches'))],
  }));
  const mix = stateMix(v);
  let h = 0x811c9dc5 | 0;
  for (let pfn = 0; pfn < v.nframes; pfn++) h = mix32(h, v.hs[pfn] & 0x1f);
  for (const name of COUNTER_NAMES) h = mix32(h, counters[name] | 0);
  const ops = counters.ops;
  const result: RunResult = {
    workload: o.workload, seed: o.seed, mode: o.mode, cpus: o.cpus,
    mem: formatSize(o.memBytes), host_mem: formatSize(hostBudgetFrames(o) * 4096),
    hinting: o.hinting, host: o.host, batch: o.batch, unfix: o.unfix, ...(o.inject.length ? { inject: o.inject } : {}),
    ops, seconds: Number(elapsed.toFixed(3)), ops_per_sec: Math.round(ops / Math.max(elapsed, 1e-6)),
    violations: attributeRaces(readViolations(v, raceName), o.unfix), counters, per_cpu: perCpu, state_mix: mix,
    ...(sim && o.mixSampleMs === undefined ? {} : { state_mix_samples: samples }), accounting,
    ...(sim || cpuRuns.length !== o.cpus ? {} : { spin: spinSummary(cpuRuns) }),
    trace_hash: ((sim ? v.hdr[SIM_HASH] : h) >>> 0).toString(16).padStart(8, '0'),
    ...(sim ? { schedule: keyedSchedule(simResult(v, o.recordSchedule), r.keysSab, o, v.hdr) } : {}),
    ...(traceSab ? { trace: (sampleCounters(sim ? v.hdr[SIM_STEP] : (performance.timeOrigin + performance.now()) * 1000), buildTrace(traceSab, o.cpus, sim, r.traceSamples)) } : {}),
    ...(r.storySab ? { story: storyEvents(r.storySab) } : {}),
    ...(r.ringSab && violationCount(v) > 0 ? { rings: readRings(r.ringSab) } : {}),
    ...(sim && o.ring && r.keysSab ? { ring_replay: ringOutcome(v.hdr, r.keysSab, nparts) } : {}),
    ...(o.debugFaults.length ? { planted_pfn: v.hdr[DEBUG_PFN] } : {}),
    ...(host.summary ? Object.fromEntries([host.summary(v, nparts, ops)]) : {}), // the host's run --json section (xen, shadow)
    coverage: readCoverage(v, nparts, counters),
  };
  return { result, hung };
}

/** Always: timers off, the thread clock closed, every worker released (kept for reuse after a clean run). */
async function teardown(r: Run, completed: boolean): Promise<void> {
  for (const t of r.timers) clearInterval(t);
  r.clock?.close();
  await Promise.all(r.workers.map(({ mw, onError }) => {
    mw.worker.off('error', onError);
    return releaseWorker(mw, completed && r.crashes.length === 0);
  }));
}
