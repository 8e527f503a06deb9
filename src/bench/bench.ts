/**
 * `hintsim bench`: every figure is a ratio against a baseline measured in the same run,
 * because these machines are noisy. Never part of the test run.
 */
import { __free_pages, alloc_pages, pageAllocInit } from '../guest/page_alloc.js';
import { V } from '../core/ctx.js';
import { attachHost } from '../hosts/index.js';
import { PAGE_WORDS, PG_COUNT } from '../core/layout.js';
import { RING_HDR, ringArea } from '../core/point_ring.js';
import { setPointRing } from '../core/sched.js';
import { bootMachine } from '../machine/boot.js';
import { DEFAULTS, type RunOptions } from '../machine/config.js';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { runMachine, type RunResult } from '../machine/run.js';
import { findRace, hunt, raceRunOptions } from '../explore/hunt.js';
import { releaseIdleWorkers, setWorkerReuse, workerReuse } from '../machine/worker_pool.js';
import { pingPongHandoffNs } from './pingpong.js';
import { RACES } from '../core/races.js';
import { stress, type StressResult } from '../explore/stress.js';
import { DEFAULT_JOBS } from '../explore/hunt.js';
import { HOST_BENCH, type BenchMachine } from '../hosts/bench.js';
import { STEER_SECONDS } from '../explore/steer.js';
import { UsageError } from '../machine/config.js';
import { benchShrink } from './shrink_bench.js';
import { EXPLORE_BENCH } from './explore_bench.js';
import { formatStrategyTimes, measureStrategyTimes, strategyEntries, strategyRaces, type StrategyTimes } from './strategy_bench.js';
import { LOCK_SPIN } from '../core/spinlock.js';

/** The machine the hosts' bench entries drive (src/hosts/bench.ts). */
const BENCH_MACHINE: BenchMachine = { run: runMachine, defaults: DEFAULTS };

/**
 * One figure. `goal` starts with a machine-checked clause, `ratio >= 0.85` or `value <= 3`
 * (then free text); `met` is that clause evaluated (null: the goal is not a number, e.g. a
 * host's qualitative one).
 */
export interface BenchEntry {
  name: string; value: number; unit: string; baseline: number; ratio: number; goal: string;
  /** Always present in a report (runBench fills it through benchEntry); a host's entry may leave it to the goal's clause. */
  met?: boolean | null;
  note: string;
}
type EntryIn = BenchEntry;

/** Evaluate a goal's leading clause (`ratio >= x`, `value <= x`, ...); null when it has none. */
export function goalMet(goal: string, value: number, ratio: number): boolean | null {
  const m = /^(ratio|value)\s*(>=|<=|>|<)\s*([0-9][0-9,_]*(?:\.[0-9]+)?)/.exec(goal);
  if (!m) return null;
  const x = m[1] === 'ratio' ? ratio : value;
  const lim = Number(m[3].replace(/[,_]/g, ''));
  if (!Number.isFinite(x)) return false;
  return m[2] === '>=' ? x >= lim : m[2] === '<=' ? x <= lim : m[2] === '>' ? x > lim : x < lim;
}

/** An entry with its `met` (given, or from the goal's clause). */
export function benchEntry(e: EntryIn): BenchEntry {
  return { name: e.name, value: e.value, unit: e.unit, baseline: e.baseline, ratio: e.ratio, goal: e.goal, met: e.met !== undefined ? e.met : goalMet(e.goal, e.value, e.ratio), note: e.note };
}
/** Time to find a race in threads mode (one hunt). Sim mode's, per strategy: StrategyTimes (bench/strategy_bench.ts). */
export interface RaceBench {
  id: string; oracle: string;
  threads: { seconds: number | null; found: boolean; budget_seconds: number };
}
/** One mode of the soak: `hintsim stress` over a fixed op budget, every fix on. */
export interface SoakMode {
  mode: 'threads' | 'sim';
  ops_target: number;
  ops: number;
  runs: number;
  seconds: number;
  ops_per_sec: number;
  failed_runs: number;
  /** Failing runs per oracle (the oracle of each run's first violation). */
  by_oracle: Record<string, number>;
  /** Failures whose replay file has a sim schedule, and those left threads-only (steer.ts). */
  sim_replay_files: number;
  threads_only_files: number;
  out_dir: string | null;
}
/** The soak figure: fresh seed, the default swarm, every fix on, in threads and in sim mode. */
export interface SoakBench { seed: number; jobs: number; threads: SoakMode | null; sim: SoakMode | null }
export interface BenchReport {
  node: string; cpus_available: number; entries: BenchEntry[]; races: RaceBench[]; soak?: SoakBench;
  /** The strategies entry's table: time to find each race per sim strategy, the best named. */
  strategies?: StrategyTimes;
}

/** Default sizes of the soak entry (bench --soak-ops-threads, --soak-ops-sim). */
export const SOAK_OPS_THREADS = 100_000_000;
export const SOAK_OPS_SIM = 1_000_000;

/** This process's CPU time in ms (user + system): a loop on one thread, without the time other processes take its core. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Iterations per second of CPU time of a single-threaded loop (no worker runs meanwhile). */
function timeLoop(ms: number, body: (n: number) => void): number {
  const chunk = 10_000;
  let total = 0;
  const t0 = cpuMs();
  let t = t0;
  while (t - t0 < ms) { body(chunk); total += chunk; t = cpuMs(); }
  return total / ((t - t0) / 1000);
}

/**
 * pcp alloc+free pairs per second on one CPU vs raw CAS pairs on the same buffer (two
 * compare-exchanges on one word per pair). The two loops alternate three times, `ms` / 3 of
 * CPU time each, and the figure is the ratio of their means: a change in the machine's
 * load or clock during the entry falls on both alike (one loop after the other did not).
 */
function benchPcp(ms: number): BenchEntry {
  const o: RunOptions = { ...DEFAULTS, cpus: 1 };
  const v = bootMachine(o);
  attachHost(v, 0);
  pageAllocInit();
  const warm = alloc_pages(0, false);
  __free_pages(warm, 0);
  const idx = warm * PAGE_WORDS + PG_COUNT;
  const page = V.page;
  const pairLoop = (n: number): void => { for (let i = 0; i < n; i++) __free_pages(alloc_pages(0, false), 0); };
  const casLoop = (n: number): void => {
    for (let i = 0; i < n; i++) { Atomics.compareExchange(page, idx, -1, 0); Atomics.compareExchange(page, idx, 0, -1); }
  };
  timeLoop(ms / 10, pairLoop); // warm up both (optimised before they are timed)
  timeLoop(ms / 10, casLoop);
  const pairs: number[] = [], cas: number[] = [];
  for (let r = 0; r < 3; r++) { pairs.push(timeLoop(ms / 3, pairLoop)); cas.push(timeLoop(ms / 3, casLoop)); }
  const mean = (xs: number[]): number => xs.reduce((a, c) => a + c, 0) / xs.length;
  const fmt = (xs: number[]): string => xs.map((x) => (x / 1e6).toFixed(1)).join(', ');
  return {
    name: 'pcp_alloc_free_pairs_per_cpu', value: Math.round(mean(pairs)), unit: 'pairs/s', baseline: Math.round(mean(cas)),
    ratio: mean(pairs) / mean(cas), goal: 'ratio >= 0.35 (within 3x of two CAS)',
    note: `baseline: two Atomics.compareExchange on the same SharedArrayBuffer word; both loops timed in CPU time of this thread, alternated 3+3 (${Math.round(ms / 3)} ms each): pairs ${fmt(pairs)} M/s, CAS pairs ${fmt(cas)} M/s`,
  };
}

/**
 * The cost of recording the point rings on a guest hot path: pcp alloc+free pairs (each passes
 * several scheduling points) in this thread, with its ring attached and without, alternated
 * three times each, in CPU time of this thread (the machine's load does not enter). One
 * thread: the ticket word is not contended here; with two CPUs its cache line moves between
 * cores on every point, which this does not measure.
 */
function benchPointRing(ms: number): BenchEntry {
  const o: RunOptions = { ...DEFAULTS, cpus: 1 };
  const v = bootMachine(o);
  attachHost(v, 0);
  pageAllocInit();
  const area = ringArea(1);
  const pairs = (): number => timeLoop(ms, (n) => { for (let i = 0; i < n; i++) __free_pages(alloc_pages(0, false), 0); });
  const off: number[] = [], on: number[] = [];
  pairs(); // warm up
  for (let i = 0; i < 3; i++) {
    setPointRing(null, 0); off.push(pairs());
    setPointRing(area, 0); on.push(pairs());
  }
  setPointRing(null, 0);
  const points = new Int32Array(area)[RING_HDR]; // points recorded by the `on` loops
  const mean = (xs: number[]): number => xs.reduce((a, c) => a + c, 0) / xs.length;
  const perPair = points / (on.reduce((a, c) => a + c, 0) * ms / 1000);
  return {
    name: 'point_ring_pcp_pairs', value: Math.round(mean(on)), unit: 'pairs/s', baseline: Math.round(mean(off)), ratio: mean(on) / mean(off),
    goal: 'ratio >= 0.8 (recording costs at most 20% on the hottest path)',
    note: `pcp alloc+free pairs on one CPU, ${perPair.toFixed(1)} recorded points per pair, ${ms} ms CPU time per loop, alternated 3+3; with rings ${on.map((x) => Math.round(x)).join(', ')}, without ${off.map((x) => Math.round(x)).join(', ')}`,
  };
}

async function storm(cpus: number, seconds: number, extra: Partial<RunOptions> = {}): Promise<RunResult> {
  const r = await runMachine({ ...DEFAULTS, cpus, seconds, ...extra });
  if (r.violations.length) throw new Error(`bench run had violations: ${r.violations[0].message}`);
  return r;
}

export interface BenchOptions {
  quick: boolean;
  log: (m: string) => void;
  /** Entries to run (BENCH_ENTRIES names); null: every entry not marked long. */
  only: string[] | null;
  /** Only one host's entries: 'shadow' is the kscand pathology and the time to find the K races. */
  host?: 'shadow';
  /** Soak sizes in guest ops per mode (0 skips the mode); seed (default a fresh one); replay file directory. */
  soakOpsThreads?: number;
  soakOpsSim?: number;
  soakSeed?: number;
  soakOut?: string;
  /** Bugs planted in every soak run (tests of the failure counts). */
  soakDebugFaults?: string[];
}

/** What the entries of one bench run share: baselines measured once, on first use. */
class BenchRun {
  readonly entries: BenchEntry[] = [];
  races: RaceBench[] = [];
  soak: SoakBench | undefined;
  strategies: StrategyTimes | undefined;
  private storms = new Map<string, Promise<RunResult>>();
  constructor(readonly opts: BenchOptions) {}
  /** Record an entry (its `met` from the goal's clause unless given). */
  add(e: EntryIn): void { this.entries.push(benchEntry(e)); }
  get ms(): number { return this.opts.quick ? 200 : 1000; }
  get secs(): number { return this.opts.quick ? 0.5 : 3; }
  /** alloc-storm on `cpus` CPUs for `secs` seconds (and the variants), measured once per bench run. */
  storm(key: string, cpus: number, extra: Partial<RunOptions> = {}): Promise<RunResult> {
    let p = this.storms.get(key);
    if (!p) { p = storm(cpus, this.secs, extra); this.storms.set(key, p); }
    return p;
  }
}

export interface BenchEntryDef {
  name: string;
  what: string;
  /** Not run unless named (--only) or --all: it takes minutes. */
  long?: boolean;
  run: (b: BenchRun) => Promise<void>;
}

/** The mixed entry's runs (and the spin share's, which reads the same hinting-full run). */
const MIXED_OPTS: Partial<RunOptions> = { workload: 'mixed', memBytes: 16 << 20, hinting: 'full' };

/** The bench entries, in the order a full run measures them. */
export const BENCH_ENTRIES: readonly BenchEntryDef[] = [
  { name: 'pcp', what: 'pcp alloc+free pairs per second on one CPU vs raw CAS pairs on the same buffer', run: async (b) => {
    b.opts.log('bench: pcp alloc/free vs raw CAS ...');
    b.add(benchPcp(b.ms));
  } },
  { name: 'scaling', what: 'alloc-storm on 2 CPUs vs 1 CPU, equal work per CPU (memory scaled with the CPUs) and no host pressure (host budget = guest memory)', run: async (b) => {
    b.opts.log('bench: alloc-storm scaling, 1 and 2 CPUs, no host pressure ...');
    // Each CPU's share of memory and the fill per CPU are the same in both runs, and the host
    // budget is the whole guest: the host never reclaims, so neither run meets host pressure.
    const per = 16 << 20;
    const one = await b.storm('scale-one', 1, { memBytes: per, hostMemBytes: per });
    const two = await b.storm('scale-two', 2, { memBytes: 2 * per, hostMemBytes: 2 * per });
    b.add({
      name: 'alloc_storm_2cpu_scaling', value: two.ops_per_sec, unit: 'ops/s', baseline: one.ops_per_sec,
      ratio: two.ops_per_sec / one.ops_per_sec, goal: 'ratio >= 1.7',
      note: `alloc-storm, hinting unused, 16 MiB guest memory per CPU (1 CPU: 16 MiB, 2 CPUs: 32 MiB), host budget = guest memory (host pressure held equal: none; host page-outs ${one.counters.host_pageouts} and ${two.counters.host_pageouts})`,
    });
  } },
  { name: 'hinting', what: 'alloc-storm throughput with hinting unused vs off (the blind host), 2 CPUs', run: async (b) => {
    b.opts.log('bench: hinting on vs off ...');
    const two = await b.storm('two', 2);
    const off = await b.storm('off', 2, { hinting: 'off' });
    b.add({
      name: 'hinting_unused_vs_off_throughput', value: two.ops_per_sec, unit: 'ops/s', baseline: off.ops_per_sec,
      ratio: two.ops_per_sec / off.ops_per_sec, goal: 'ratio >= 0.85 (overhead <= 15%)',
      note: `host page-outs: hinting ${two.counters.host_pageouts} vs off ${off.counters.host_pageouts}`,
    });
  } },
  { name: 'host-calls', what: 'host calls per freed page, batched vs one ESSA per page (orders 0-6, and order 0 only)', run: async (b) => {
    b.opts.log('bench: host calls per freed page, batched vs unbatched ...');
    const ops = b.opts.quick ? 50_000 : 200_000;
    const per = (r: RunResult): number => (r.counters.essa_calls + r.counters.essa_batches) / Math.max(1, r.counters.frees);
    const bt = await runMachine({ ...DEFAULTS, cpus: 1, ops });
    const u = await runMachine({ ...DEFAULTS, cpus: 1, ops, batch: false });
    b.add({
      name: 'host_calls_per_freed_page_batched', value: per(bt), unit: 'calls/free', baseline: per(u),
      ratio: per(u) / Math.max(per(bt), 1e-9), goal: 'ratio >= 8 (8x fewer host calls)',
      note: 'same seed and op count, orders 0-6; baseline issues one ESSA per page',
    });
    const b0 = await runMachine({ ...DEFAULTS, cpus: 1, ops, workloadOptions: { max_order: 0 } });
    const u0 = await runMachine({ ...DEFAULTS, cpus: 1, ops, batch: false, workloadOptions: { max_order: 0 } });
    b.add({
      name: 'host_calls_per_freed_page_batched_order0', value: per(b0), unit: 'calls/free', baseline: per(u0),
      ratio: per(u0) / Math.max(per(b0), 1e-9), goal: 'ratio >= 8 (8x fewer host calls)',
      note: 'order-0 pages only: every hint goes through a pcp refill or drain of one batch',
    });
  } },
  { name: 'mixed', what: 'mixed workload: ops/s per CPU, and hinting full vs off', run: async (b) => {
    b.opts.log('bench: mixed workload, hinting full vs off ...');
    const one = await b.storm('one', 1);
    const mFull = await b.storm('mixed-full', 2, MIXED_OPTS);
    const mOff = await b.storm('mixed-off', 2, { ...MIXED_OPTS, hinting: 'off' });
    b.add({
      name: 'mixed_ops_per_sec_per_cpu', value: mFull.ops_per_sec / 2, unit: 'ops/s/cpu', baseline: one.ops_per_sec,
      ratio: mFull.ops_per_sec / 2 / one.ops_per_sec, goal: 'value >= 400000 ops/s per CPU', note: 'mixed, 16 MiB, hinting full, 2 CPUs; baseline: alloc-storm on 1 CPU in the same run',
    });
    b.add({
      name: 'hinting_full_vs_off_throughput_mixed', value: mFull.ops_per_sec, unit: 'ops/s', baseline: mOff.ops_per_sec,
      ratio: mFull.ops_per_sec / mOff.ops_per_sec, goal: 'ratio >= 0.85 (overhead <= 15%)',
      note: `host page-outs: full ${mFull.counters.host_pageouts} vs off ${mOff.counters.host_pageouts}`,
    });
  } },
  { name: 'spin', what: 'share of the guest CPUs\' CPU time spent spinning on busy words (locks, page and frame bits), mixed, 2 CPUs + host, threads mode', run: async (b) => {
    b.opts.log('bench: spin share, mixed on 2 CPUs with a host worker ...');
    const r = await b.storm('mixed-full', 2, MIXED_OPTS); // the mixed entry's run: measured once per bench run
    const sp = r.spin;
    if (!sp) throw new Error('spin share: the run has no spin section (threads mode only)');
    const sum = (x: number[]): number => x.reduce((a, y) => a + y, 0);
    const base = sp.of === 'cpu' ? sum(sp.cpu_ms) : sum(sp.run_ms);
    b.add({
      name: 'spin_share_mixed', value: sp.share, unit: `of guest ${sp.of === 'cpu' ? 'CPU' : 'wall'} time`, baseline: Number(base.toFixed(1)), ratio: sp.share,
      goal: 'value <= 0.05 (guest CPUs lose under 5% to spinning)',
      note: `mixed, 16 MiB, hinting full, 2 CPUs + host, ${b.secs} s: spinning ${sp.spin_ms.map((x) => x.toFixed(1)).join(' + ')} ms, asleep on busy words ${sp.sleep_ms.map((x) => x.toFixed(1)).join(' + ')} ms (the core given away, not counted), ` +
        `baseline: the guest threads' ${sp.of === 'cpu' ? 'CPU' : 'wall'} time in ms (run loop wall ${sp.run_ms.map((x) => x.toFixed(0)).join(' + ')} ms); spin then sleep: ${LOCK_SPIN} failed attempts`,
    });
  } },
  { name: 'essa', what: 'ESSA per file operation on file-churn (sim, hinting full): the minor-fault optimisation vs the older model (minor_fault_opt=0)', run: async (b) => {
    b.opts.log('bench: ESSA per file operation, minor-fault optimisation on and off ...');
    const o: RunOptions = { ...DEFAULTS, workload: 'file-churn', memBytes: 8 << 20, hinting: 'full', mode: 'sim', cpus: 2, ops: b.opts.quick ? 10_000 : 40_000 };
    const opt = await runMachine(o);
    const old = await runMachine({ ...o, workloadOptions: { minor_fault_opt: 0 } });
    const per = essaPerFileOp;
    b.add({
      name: 'essa_per_file_op', value: per(opt), unit: 'ESSA/file op', baseline: per(old), ratio: per(opt) / Math.max(per(old), 1e-9),
      goal: 'value <= 3',
      note: `file-churn, sim, 2 CPUs, ${o.ops} ops, seed 1; host calls (single ESSA + batches) per file operation; baseline: --opt minor_fault_opt=0; host discards ${opt.counters.host_discards} vs ${old.counters.host_discards}, page-outs ${opt.counters.host_pageouts} vs ${old.counters.host_pageouts}`,
    });
  } },
  { name: 'sim', what: 'sim mode vs threads mode throughput on one CPU (mixed, same op count)', run: async (b) => {
    b.opts.log('bench: sim mode vs threads mode on one CPU ...');
    const simOps = b.opts.quick ? 20_000 : 100_000;
    const o: RunOptions = { ...DEFAULTS, cpus: 1, ops: simOps, workload: 'mixed', memBytes: 4 << 20, hinting: 'full' };
    const tr = await runMachine(o);
    const sr = await runMachine({ ...o, mode: 'sim' });
    b.add({
      name: 'sim_vs_threads_one_cpu', value: sr.ops_per_sec, unit: 'ops/s', baseline: tr.ops_per_sec,
      ratio: sr.ops_per_sec / tr.ops_per_sec, goal: 'ratio >= 0.5 (sim within 2x of threads)', note: 'mixed, 1 CPU + host, same op count',
    });
  } },
  { name: 'point-ring', what: 'threads mode: pcp alloc+free pairs per second with the point rings recorded (hunt --mode threads, stress) vs without, in CPU time of one thread', run: async (b) => {
    b.opts.log('bench: point rings on vs off ...');
    b.add(benchPointRing(b.ms));
  } },
  { name: 'switch', what: 'sim mode: cost of one baton switch vs a raw two-worker Atomics.wait/notify handoff measured in the same run', run: benchSwitch },
  { name: 'sim-runs', what: 'sim runs per second on the discard-get-page ground (fix on) with reused workers vs fresh ones, and hunt\'s time to its first seed result', run: benchSimRuns },
  ...HOST_BENCH.map((h): BenchEntryDef => ({ name: h.name, what: h.what, run: async (b) => { for (const e of await h.run(b.opts, BENCH_MACHINE)) b.add(e); } })), // each host's entries (hosts/bench.ts)
  ...EXPLORE_BENCH, // issue 15: check's reduction, time to find per strategy (bench/explore_bench.ts)
  { name: 'soak', long: true, what: `stress soak, fresh seed, every fix on: ${SOAK_OPS_THREADS.toLocaleString('en-US')} guest ops in threads mode, ${SOAK_OPS_SIM.toLocaleString('en-US')} in sim mode; failing runs per oracle`, run: benchSoak },
  { name: 'shrink', long: true, what: 'shrunk decisions per race vs the recorded schedule (one hunt each, shrinking capped at 60 s), scheduling steps beside', run: benchShrink },
  { name: 'races', long: true, what: 'time to find each race in threads mode (one hunt each; sim mode per strategy: the strategies entry)', run: async (b) => {
    b.races = await timeToFind(b.opts, () => true);
  } },
];

/** Host calls (single ESSA and batches) per file operation of a file-churn or mixed run. */
export function essaPerFileOp(r: RunResult): number {
  return (r.counters.essa_calls + r.counters.essa_batches) / Math.max(1, r.counters.file_ops ?? 0);
}

/**
 * Sim switch cost: the same alloc-storm sim run (2 CPUs, no host pressure) with a switch
 * decision at every scheduling point and with one every 4096; the extra time over the extra
 * switches is the cost of one switch. Baseline: a raw two-worker wait/notify handoff.
 */
async function benchSwitch(b: BenchRun): Promise<void> {
  b.opts.log('bench: sim switch cost vs raw wait/notify ping-pong ...');
  const ops = b.opts.quick ? 40_000 : 200_000;
  const o: RunOptions = { ...DEFAULTS, mode: 'sim', cpus: 2, ops, memBytes: 16 << 20, hostMemBytes: 16 << 20 };
  const raw1 = await pingPongHandoffNs(b.opts.quick ? 20_000 : 100_000);
  const many = await runMachine({ ...o, switchEvery: 1 });
  const few = await runMachine({ ...o, switchEvery: 4096 });
  const raw2 = await pingPongHandoffNs(b.opts.quick ? 20_000 : 100_000);
  const raw = Math.min(raw1, raw2); // the floor of the two (before and after: the machine's noise shows in the note)
  const sw = (many.schedule?.switches ?? 0) - (few.schedule?.switches ?? 0);
  const ns = sw > 0 ? ((many.seconds - few.seconds) * 1e9) / sw : NaN;
  b.add({
    name: 'sim_switch_cost', value: ns, unit: 'ns/switch', baseline: raw, ratio: ns / raw, goal: 'ratio <= 1.5',
    note: `alloc-storm sim, 2 CPUs + host, ${ops} ops: --switch-every 1 (${many.schedule?.switches} switches, ${many.seconds.toFixed(2)} s) vs 4096 (${few.schedule?.switches}, ${few.seconds.toFixed(2)} s); raw handoff ${raw1.toFixed(0)} and ${raw2.toFixed(0)} ns (before and after)`,
  });
}

/**
 * Sim runs per second on discard-get-page's hunting ground with the fix on (every seed
 * runs to its op budget): reused workers (as hunt and stress run them) vs a fresh set per
 * run, one run at a time in this thread. Then a hunt of the same ground: the time from its
 * start to its first seed's result.
 */
async function benchSimRuns(b: BenchRun): Promise<void> {
  b.opts.log('bench: sim runs per second, reused vs fresh workers; hunt time to first result ...');
  const race = findRace('discard-get-page');
  const n = b.opts.quick ? 6 : 20;
  const h = { mode: 'sim' as const, strategy: 'random' as const, depth: 3, cpus: null, fixed: true };
  const timeRuns = async (reuse: boolean): Promise<number> => {
    const was = workerReuse();
    setWorkerReuse(reuse);
    try {
      await runMachine(raceRunOptions(race, h, 1000)); // warm-up (workers bundled and started)
      const t0 = performance.now();
      for (let s = 1; s <= n; s++) await runMachine(raceRunOptions(race, h, s));
      return n / ((performance.now() - t0) / 1000);
    } finally {
      setWorkerReuse(was);
      await releaseIdleWorkers();
    }
  };
  const reused = await timeRuns(true);
  const fresh = await timeRuns(false);
  b.add({
    name: 'sim_runs_per_second', value: reused, unit: 'runs/s', baseline: fresh, ratio: reused / fresh, goal: 'ratio >= 1.5',
    note: `discard-get-page ground (mixed, 4M, 2 CPUs, ${race.ops} ops, stall-fault), fix on, ${n} seeds one after another; baseline: a fresh set of workers per run`,
  });
  let first = NaN;
  const t0 = performance.now();
  const hr = await hunt({ id: race.id, seeds: 8, seconds: 60, jobs: 2, shard: [1, 1], mode: 'sim', strategy: 'random', depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: true,
    progress: (done) => { if (done > 0 && Number.isNaN(first)) first = (performance.now() - t0) / 1000; } });
  const perRun = 1 / reused;
  b.add({
    name: 'hunt_time_to_first_result', value: first, unit: 's', baseline: perRun, ratio: first / perRun, goal: 'value <= 2 s',
    note: `hunt discard-get-page --fixed, 2 jobs: start (pool, workers) to the first seed's result; ${hr.seeds_tried} seeds in ${hr.seconds.toFixed(2)} s; baseline: one run with warm reused workers`,
  });
}

export const BENCH_NAMES: readonly string[] = BENCH_ENTRIES.map((e) => e.name);

/** --only a,b: entry names (one-line error naming the accepted ones). */
export function parseBenchOnly(text: string): string[] {
  const names = text.split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--only: '${text}' names no entry; accepted: ${BENCH_NAMES.join(', ')}`);
  for (const n of names) if (!BENCH_NAMES.includes(n)) throw new UsageError(`--only: unknown entry '${n}'; accepted: ${BENCH_NAMES.join(', ')}`);
  return names;
}

/** bench --list: one line per entry. */
export function formatBenchList(): string {
  const w = Math.max(...BENCH_NAMES.map((x) => x.length));
  return BENCH_ENTRIES.map((e) => `${e.name.padEnd(w)}  ${e.what}${e.long ? ' (long: only with --only or --all)' : ''}`).join('\n') + '\n';
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const cores = (await import('node:os')).availableParallelism();
  if (opts.host !== undefined) { // one host's entries and the time to find its races
    const entries: BenchEntry[] = [];
    for (const h of HOST_BENCH) if (h.host === opts.host) for (const e of await h.run(opts, BENCH_MACHINE)) entries.push(benchEntry(e));
    const strategies = await measureStrategyTimes(strategyRaces(false, (r) => r.host === opts.host), opts);
    for (const e of strategyEntries(strategies)) entries.push(benchEntry(e));
    return { node: process.version, cpus_available: cores, entries, races: await timeToFind(opts, (r) => r.host === opts.host), strategies };
  }
  const b = new BenchRun(opts);
  for (const e of BENCH_ENTRIES) {
    if (opts.only ? opts.only.includes(e.name) : !e.long) await e.run(b);
  }
  // Entries pushed without b.add (explore_bench, shrink_bench) get their goal judged here too.
  const entries = b.entries.map((e) => (e.met === undefined ? benchEntry(e) : e));
  return { node: process.version, cpus_available: cores, entries, races: b.races, ...(b.soak ? { soak: b.soak } : {}), ...(b.strategies ? { strategies: b.strategies } : {}) };
}

/** One mode of the soak: stress over `ops` guest ops, the default swarm, every fix on. */
async function soakMode(b: BenchRun, mode: 'threads' | 'sim', ops: number, seed: number, out: string): Promise<{ m: SoakMode; s: StressResult }> {
  b.opts.log(`bench: soak, ${mode} mode, ${ops.toLocaleString('en-US')} guest ops, seed ${seed} ...`);
  const s = await stress({
    seed, seconds: null, ops, jobs: DEFAULT_JOBS(), mode, unfix: [], out, shrinkSeconds: 5, only: null, steerSeconds: STEER_SECONDS,
    ...(b.opts.soakDebugFaults ? { debugFaults: b.opts.soakDebugFaults } : {}),
    onProgress: (p) => b.opts.log(`bench: soak ${mode}: ${(p.elapsedMs / 1000).toFixed(0)} s, ${p.runs} runs, ${p.ops.toLocaleString('en-US')} ops, ${p.violations} failing`),
    progressEveryMs: 30_000,
  });
  const byOracle = Object.fromEntries(Object.entries(s.by_oracle).map(([k, v]) => [k, v.length]));
  const simFiles = s.failures.filter((f) => f.replay_kind !== null && f.replay_kind !== 'threads-only').length;
  return {
    s,
    m: {
      mode, ops_target: ops, ops: s.ops, runs: s.runs, seconds: s.seconds, ops_per_sec: s.ops_per_sec, failed_runs: s.failed_runs, by_oracle: byOracle,
      sim_replay_files: simFiles, threads_only_files: s.failures.filter((f) => f.replay_kind === 'threads-only').length, out_dir: s.out_dir,
    },
  };
}

/**
 * The soak: a standing figure of how often the default swarm finds something with every
 * fix on. Threads mode's ops/s against one alloc-storm run on 2 CPUs (no start-up costs),
 * sim mode's against one long sim run of mixed on 2 CPUs, both measured in this bench run.
 */
async function benchSoak(b: BenchRun): Promise<void> {
  const seed = b.opts.soakSeed ?? randomInt(1, 0x7fffffff);
  const out = b.opts.soakOut ?? `bench-soak-${seed}`;
  b.opts.log(`bench: soak seed ${seed} (bench --only soak --soak-seed ${seed} runs the same swarm)`);
  const soak: SoakBench = { seed, jobs: DEFAULT_JOBS(), threads: null, sim: null };
  const threadsOps = b.opts.soakOpsThreads ?? SOAK_OPS_THREADS;
  const simOps = b.opts.soakOpsSim ?? SOAK_OPS_SIM;
  const note = (m: SoakMode): string => `${m.runs} swarm runs, ${m.ops} guest ops in ${m.seconds} s, seed ${seed}; failing runs ${m.failed_runs}` +
    `${m.failed_runs ? ` (${Object.entries(m.by_oracle).map(([k, v]) => `${k} ${v}`).join(', ')}; ${m.sim_replay_files} sim replay files, ${m.threads_only_files} threads-only, in ${m.out_dir})` : ''}`;
  if (threadsOps > 0) {
    const { m } = await soakMode(b, 'threads', threadsOps, seed, join(out, 'threads'));
    const two = await b.storm('two', 2);
    soak.threads = m;
    b.add({
      name: 'soak_threads_ops_per_sec', value: m.ops_per_sec, unit: 'ops/s', baseline: two.ops_per_sec, ratio: m.ops_per_sec / two.ops_per_sec,
      goal: 'zero failing runs', met: m.failed_runs === 0, note: `${note(m)}; baseline: one alloc-storm run on 2 CPUs (no start-up costs)`,
    });
  }
  if (simOps > 0) {
    const { m } = await soakMode(b, 'sim', simOps, seed, join(out, 'sim'));
    const baseOps = b.opts.quick ? 20_000 : 100_000;
    const one = await runMachine({ ...DEFAULTS, cpus: 2, ops: baseOps, workload: 'mixed', memBytes: 4 << 20, hinting: 'full', mode: 'sim' });
    soak.sim = m;
    b.add({
      name: 'soak_sim_ops_per_sec', value: m.ops_per_sec, unit: 'ops/s', baseline: one.ops_per_sec, ratio: m.ops_per_sec / one.ops_per_sec,
      goal: 'zero failing runs', met: m.failed_runs === 0, note: `${note(m)}; baseline: one sim run of mixed on 2 CPUs, ${baseOps} ops`,
    });
  }
  b.soak = soak;
}

/** Time to find each race the filter keeps in threads mode: one hunt each (sim mode: strategy_bench.ts). */
async function timeToFind(opts: BenchOptions, keep: (r: (typeof RACES)[number]) => boolean): Promise<RaceBench[]> {
  const races: RaceBench[] = [];
  const budget = opts.quick ? 10 : 30;
  for (const r of RACES.filter(keep)) {
    opts.log(`bench: time to find ${r.id} in threads mode ...`);
    const th = await hunt({ id: r.id, seeds: 1000, seconds: budget, jobs: 2, shard: [1, 1], mode: 'threads', strategy: 'random', depth: 3, cpus: null, shrink: false, shrinkSeconds: 0, fixed: false });
    races.push({ id: r.id, oracle: r.oracle, threads: { seconds: th.found ? Number(th.seconds.toFixed(2)) : null, found: th.found, budget_seconds: budget } });
  }
  return races;
}

export function formatBench(b: BenchReport): string {
  const lines = [`hintsim bench (node ${b.node}, ${b.cpus_available} cores)`];
  const unmet = b.entries.filter((e) => e.met === false).length;
  for (const e of b.entries) {
    const mark = e.met === false ? 'UNMET' : e.met === true ? 'met' : '-';
    lines.push(`  ${mark.padEnd(5)} ${e.name.padEnd(36)} ${e.value.toLocaleString('en-US', { maximumFractionDigits: 3 })} ${e.unit}  vs baseline ${e.baseline.toLocaleString('en-US', { maximumFractionDigits: 3 })}  ratio ${e.ratio.toFixed(2)}  (goal: ${e.goal})`);
  }
  if (b.entries.length) lines.push(`  ${unmet === 0 ? 'every goal met' : `${unmet} of ${b.entries.filter((e) => e.met !== null && e.met !== undefined).length} goals UNMET`}${b.entries.some((e) => e.met === null) ? ' (entries marked - have no numeric goal)' : ''}`);
  if (b.soak) {
    lines.push(`  soak: seed ${b.soak.seed}, ${b.soak.jobs} jobs, the default swarm, every fix on`);
    for (const m of [b.soak.threads, b.soak.sim]) {
      if (!m) continue;
      const fails = m.failed_runs === 0 ? 'no failing runs'
        : `${m.failed_runs} failing runs: ${Object.entries(m.by_oracle).map(([k, v]) => `${k} ${v}`).join(', ')}; ${m.sim_replay_files} replay in sim mode, ${m.threads_only_files} threads-only (${m.out_dir})`;
      lines.push(`    ${m.mode.padEnd(8)} ${m.ops.toLocaleString('en-US')} guest ops in ${m.runs.toLocaleString('en-US')} runs, ${m.seconds} s: ${fails}`);
    }
  }
  if (b.strategies) lines.push(...formatStrategyTimes(b.strategies));
  if (b.races.length) {
    lines.push('  time to find in threads mode (one hunt)');
    for (const r of b.races) {
      lines.push(`    ${r.id.padEnd(30)} ${r.threads.found ? `${r.threads.seconds} s` : `not found in ${r.threads.budget_seconds} s`}`);
    }
  }
  return lines.join('\n') + '\n';
}
