/**
 * Swarm testing (Groce et al. 2012): every stress run gets its own configuration, drawn
 * from (stress seed, run index) alone: CPUs, memory, host budget, hinting mode, workload
 * and its option weights, pcp watermarks, fault-injection points, sim strategy and the
 * run's length. A pure function: the same seed and index give the same options on any
 * machine, so a failing run can be re-run from those two numbers.
 *
 * With fixes switched off (--unfix), half of the runs start from the hunting ground of one
 * of those races (its catalogue entry: workload, memory, host budget, workload options,
 * hinting full) and keep the rest of their draw (CPUs, pcp, injection, strategy, length).
 */
import { WORKLOADS } from '../../workloads/index.js';
import type { WorkloadOption } from '../../workloads/workload.js';
import { INJECT_NAMES } from '../core/inject.js';
import { PAGE_SIZE } from '../core/layout.js';
import { Prng } from '../core/prng.js';
import { RACES } from '../core/races.js';
import { DEFAULTS, parseSize, type Hinting, type Mode, type RunOptions } from '../machine/config.js';

export interface SwarmBase {
  seed: number;
  mode: Mode;
  /** Fixes switched off in every run. */
  unfix: string[];
}

const MEM_CHOICES = [1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20];
const HOST_FRACTION_LOG2 = [1, 2, 3, 4, 5, 6]; // budget = mem / 2^k: from half down to a 64th (the host must work)
const PCP_BATCH_CHOICES = [1, 2, 3, 7, 15, 31];
/** Per-run length: sim ops (a pure count), threads seconds. */
const SIM_OPS_MIN = 500, SIM_OPS_SPAN = 3500;
const THREADS_SECONDS = [0.1, 0.15, 0.2, 0.3, 0.4];
/** Lengths and periods (options with a wide range) are drawn log-uniform up to this multiple of the default. */
const WIDE_RANGE = 1000, WIDE_MAX_FACTOR = 2;

function pick<T>(rng: Prng, xs: readonly T[]): T {
  return xs[rng.below(xs.length)];
}

/** The workloads a swarm draws from: those meant for the default host (kscand is --host shadow's). */
const SWARM_WORKLOADS = WORKLOADS.filter((w) => (w.defaults?.host ?? 'essa') === 'essa');

/**
 * One option of the workload: 40% its default (left out), 15% its minimum, else a value
 * in its declared range (log-uniform for wide ranges such as lengths and periods).
 */
function drawOption(rng: Prng, o: WorkloadOption): number | null {
  const r = rng.below(100);
  if (r < 40) return null;
  if (r < 55) return o.min;
  if (o.max - o.min > WIDE_RANGE) {
    const lo = Math.max(1, o.min);
    const hi = Math.min(o.max, Math.max(lo * 2, o.default * WIDE_MAX_FACTOR));
    const x = Math.exp(Math.log(lo) + (rng.next() / 4294967296) * (Math.log(hi) - Math.log(lo)));
    return Math.max(o.min, Math.min(o.max, Math.round(x)));
  }
  return o.min + rng.below(o.max - o.min + 1);
}

/** A stream number for a name (FNV-1a over its UTF-16 units). */
export function streamOf(name: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The seed of run `index` of a stress run with seed `seed`. */
export function swarmRunSeed(seed: number, index: number): number {
  return new Prng(seed, 0x5a41_0000 + index).next() & 0x7fffffff;
}

/** The options of run `index`: a pure function of (base, index). */
export function swarmOptions(base: SwarmBase, index: number): RunOptions {
  const rng = new Prng(base.seed, index);
  const w = pick(rng, SWARM_WORKLOADS);
  const cpus = 1 + rng.below(4);
  const memBytes = pick(rng, MEM_CHOICES);
  const hostMemBytes = Math.max(16 * PAGE_SIZE, memBytes >> pick(rng, HOST_FRACTION_LOG2));
  const h = rng.below(100);
  const hinting: Hinting = h < 60 ? 'full' : h < 85 ? 'unused' : 'off';
  const batch = rng.below(100) < 85;
  let pcpBatch: number | null = null;
  let pcpHigh: number | null = null;
  if (rng.chance(0.5)) {
    pcpBatch = pick(rng, PCP_BATCH_CHOICES);
    pcpHigh = pcpBatch * (1 + rng.below(8));
  }
  // Each option draws from its own stream (named by run and option): a workload that gains
  // an option does not change the draws of the others, nor anything else of the run.
  const workloadOptions: Record<string, number> = {};
  for (const o of w.options) {
    const x = drawOption(new Prng(base.seed, streamOf(`${index}/${w.name}/${o.name}`)), o);
    if (x !== null) workloadOptions[o.name] = x;
  }
  // One run in five without injection; otherwise each point on with probability 0.35.
  const inject = rng.chance(0.2) ? [] : INJECT_NAMES.filter(() => rng.chance(0.35));
  const sim = base.mode === 'sim';
  const strategy = rng.chance(0.7) ? 'random' : 'pct';
  const depth = 1 + rng.below(5);
  const simOps = SIM_OPS_MIN + rng.below(SIM_OPS_SPAN);
  const seconds = pick(rng, THREADS_SECONDS);
  const ground = base.unfix.length > 0 && rng.chance(0.5) ? RACES.find((r) => r.id === base.unfix[rng.below(base.unfix.length)]) : undefined;
  const o: RunOptions = {
    ...DEFAULTS,
    workload: w.name, cpus, memBytes, hostMemBytes, hinting, batch, pcpBatch, pcpHigh, workloadOptions, inject,
    seed: swarmRunSeed(base.seed, index), mode: base.mode, strategy: sim ? strategy : DEFAULTS.strategy, depth: sim ? depth : DEFAULTS.depth,
    ops: sim ? simOps : null, seconds: sim ? null : seconds, unfix: [...base.unfix],
  };
  if (!ground) return o;
  return {
    ...o, workload: ground.workload, host: ground.host, ringSlots: ground.ring_slots ?? o.ringSlots, hinting: 'full', workloadOptions: { ...(ground.workloadOptions ?? {}) },
    memBytes: ground.mem ? parseSize('mem', ground.mem) : memBytes, hostMemBytes: ground.host_mem ? parseSize('host_mem', ground.host_mem) : hostMemBytes,
  };
}
