/**
 * Run options: defaults, parsing of user values, and validation. Every parse error is a
 * UsageError whose message is one line naming the flag, the bad value and what is accepted.
 */
import { MAX_CPUS, PAGE_SIZE } from '../core/layout.js';
import type { Schedule } from '../sim/schedule.js';
import { HOST_NAMES, hostByName, type HostName } from '../hosts/index.js';
import { hintsimCommand } from './invocation.js';
import type { DfsInput } from '../sim/strategies/dfs.js';
import type { RingFollow } from '../sim/strategies/ring.js';

export class UsageError extends Error {}

export type Mode = 'threads' | 'sim';
export type Hinting = 'off' | 'unused' | 'full';
/** A --strategy name (sim/strategies/index.ts STRATEGY_NAMES; the CLI's choices come from there). */
export type Strategy = 'pct' | 'random' | 'pos' | 'surw';
export type Host = HostName;
/** The hosts of the registry (hosts/index.ts), in its order. */
export const HOSTS: readonly Host[] = HOST_NAMES;

export interface RunOptions {
  workload: string;
  cpus: number;
  memBytes: number;
  hostMemBytes: number | null;   // null: half of guest memory
  seconds: number | null;
  ops: number | null;
  seed: number;
  mode: Mode;
  strategy: Strategy;
  depth: number;
  /** Random strategy: mean scheduling points between two switch decisions (SIM_SWITCH_PCT = 65536 / this). */
  switchEvery: number;
  hinting: Hinting;
  /** The host: the s390 ESSA host, or Xen paging (a dom0 pager that knows nothing of guest states). */
  host: Host;
  /** xenpaging: mem_event ring slots, a power of two 2..64. */
  ringSlots: number;
  batch: boolean;
  unfix: string[];
  debugFaults: string[];
  /** Active fault-injection points (inject.ts names). */
  inject: string[];
  /** The pfn the injection points favour (inject.ts TARGET_RATE), null none. */
  injectPfn: number | null;
  pcpHigh: number | null;
  pcpBatch: number | null;
  watchdogMs: number;
  workloadOptions: Record<string, number>;
  /** Sim mode: follow these decisions instead of the strategy (replay, shrinking). */
  schedule: SimSchedule | null;
  /** hintsim check: run one execution of its bounded search (sim/strategies/dfs.ts). */
  dfs?: DfsInput | null;
  /**
   * Threads mode: every participant records its last scheduling points (core/point_ring.ts);
   * a run with a violation returns them (RunResult.rings). Off by default.
   */
  recordRing?: boolean;
  /** Sim mode: re-enact a threads-mode failure's rings (sim/strategies/ring.ts; explore/ring_schedule.ts). */
  ring?: RingFollow | null;
  /** Sim mode: return the decisions taken in the result. */
  recordSchedule: boolean;
  /**
   * Sim mode, with recordSchedule: also where each decision was taken, keyed (sim/keys.ts;
   * version-3 replay files). Every participant then counts its points: off by default.
   */
  recordKeys?: boolean;
  /** Record Chrome trace events (returned in RunResult.trace_events). */
  trace: boolean;
  /**
   * Sample the state mix every this many ms of wall time, plus once at the start and once at
   * the end (for `--html`). Unset: every 250 ms in threads mode, never in sim mode.
   */
  mixSampleMs?: number;
  /**
   * Each guest CPU's op budget (shrinking: a CPU's prefix of the workload), `ops` their sum.
   * Unset: `ops` shared out evenly.
   */
  opsPerCpu?: number[];
  /** Sim mode: record the story of this pfn (sim/story_rec.ts; RunResult.story). Unset: not recorded. */
  storyPfn?: number;
}

/** A sim schedule: the first participant and the baton decisions as { step, to } records. */
export type SimSchedule = Schedule;

export const DEFAULTS: RunOptions = {
  workload: 'alloc-storm',
  cpus: 2,
  memBytes: 64 << 20,
  hostMemBytes: null,
  seconds: null,
  ops: null,
  seed: 1,
  mode: 'threads',
  strategy: 'random',
  depth: 3,
  switchEvery: 16,
  hinting: 'unused',
  host: 'essa',
  ringSlots: 64,
  batch: true,
  unfix: [],
  debugFaults: [],
  inject: [],
  injectPfn: null,
  pcpHigh: null,
  pcpBatch: null,
  watchdogMs: 5000,
  workloadOptions: {},
  schedule: null,
  recordSchedule: false,
  trace: false,
};

export const DEFAULT_SIM_OPS = 20_000;
/** --switch-every: at most one switch decision per this many scheduling points on average. */
export const SWITCH_EVERY_MAX = 4096;

export const DEFAULT_SECONDS = 3;
export const MIN_MEM = 64 * PAGE_SIZE;   // 256 KiB
export const MAX_MEM = 512 << 20;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };

/** Parse "64M", "512KiB", "1g", "65536" (bytes). */
export function parseSize(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`${flag}: '${text}' is not a size; use a number with an optional unit K, M or G (e.g. 64M)`);
  }
  const bytes = Math.round(parseFloat(m[1]) * unit);
  if (bytes % PAGE_SIZE !== 0) throw new UsageError(`${flag}: '${text}' is not a multiple of the 4 KiB page size`);
  return bytes;
}

export function parseIntFlag(flag: string, text: string, min: number, max: number): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(`${flag}: '${text}' is not a whole number; accepted: ${min}..${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${flag}: ${n} is out of range; accepted: ${min}..${max}`);
  return n;
}

export function parseNumberFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: '${text}' is not a number; accepted: ${min}..${max}`);
  if (n < min || n > max) throw new UsageError(`${flag}: ${n} is out of range; accepted: ${min}..${max}`);
  return n;
}

export function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`${flag}: '${text}' is not accepted; use one of ${choices.join(', ')}`);
  }
  return text as T;
}

export function validate(o: RunOptions): void {
  if (o.cpus < 1 || o.cpus > MAX_CPUS) throw new UsageError(`--cpus: ${o.cpus} is out of range; accepted: 1..${MAX_CPUS}`);
  if (o.memBytes < MIN_MEM || o.memBytes > MAX_MEM) {
    throw new UsageError(`--mem: ${o.memBytes / 1024} KiB is out of range; accepted: 256K..512M`);
  }
  if (o.hostMemBytes !== null && (o.hostMemBytes < 16 * PAGE_SIZE || o.hostMemBytes > o.memBytes)) {
    throw new UsageError(`--host-mem: must be between 64K and --mem (${o.memBytes >> 10}K)`);
  }
  if (o.opsPerCpu !== undefined && (o.opsPerCpu.length !== o.cpus || o.opsPerCpu.some((x) => !Number.isInteger(x) || x < 0))) {
    throw new UsageError(`ops per CPU: ${JSON.stringify(o.opsPerCpu)} is not accepted; give ${o.cpus} whole numbers >= 0, one per CPU`);
  }
  if (o.seconds !== null && o.ops !== null) throw new UsageError('--seconds and --ops: give one of them, not both');
  if (o.mode === 'sim' && o.seconds !== null) throw new UsageError('--seconds: sim mode is measured in operations, not wall time; use --ops N');
  if (!HOST_NAMES.includes(o.host)) throw new UsageError(`--host: '${String(o.host)}' is not accepted; use one of ${HOST_NAMES.join(', ')}`);
  const more = hostByName(o.host).participants.slice(1); // past the host slot, e.g. xenpaging's dom0
  if (more.length > 0 && o.cpus > MAX_CPUS - more.length) {
    throw new UsageError(`--cpus: ${o.cpus} is out of range with --host ${o.host} (${more.map((p) => p.who).join(', ')} takes a participant); accepted: 1..${MAX_CPUS - more.length}`);
  }
  if (o.injectPfn !== null && o.inject.length === 0) throw new UsageError('--inject-pfn: it favours a page at the injection points; give --inject too');
  if (o.injectPfn !== null && (o.injectPfn < 0 || o.injectPfn >= o.memBytes / PAGE_SIZE)) {
    throw new UsageError(`--inject-pfn: ${o.injectPfn} is out of range; accepted: 0..${o.memBytes / PAGE_SIZE - 1} (the frames of --mem)`);
  }
  if (!Number.isInteger(o.switchEvery) || o.switchEvery < 1 || o.switchEvery > SWITCH_EVERY_MAX) throw new UsageError(`--switch-every: ${o.switchEvery} is out of range; accepted: 1..${SWITCH_EVERY_MAX}`);
  const hostCheck = hostByName(o.host).checkOptions?.(o.workloadOptions, { ops: o.ops ?? (o.mode === 'sim' ? DEFAULT_SIM_OPS : null), mode: o.mode });
  if (hostCheck) throw new UsageError(hostCheck);
  if (o.ringSlots < 2 || o.ringSlots > 64 || (o.ringSlots & (o.ringSlots - 1)) !== 0) throw new UsageError(`--ring-slots: ${o.ringSlots} is not accepted; use a power of two from 2 to 64`);
}

export function nframesOf(o: RunOptions): number {
  return o.memBytes / PAGE_SIZE;
}

export function hostBudgetFrames(o: RunOptions): number {
  return Math.floor((o.hostMemBytes ?? o.memBytes / 2) / PAGE_SIZE);
}

export function formatSize(bytes: number): string {
  if (bytes % (1 << 30) === 0) return `${bytes / (1 << 30)}G`;
  if (bytes % (1 << 20) === 0) return `${bytes / (1 << 20)}M`;
  return `${bytes / 1024}K`;
}

/** The exact command that reruns these options, as the user types it where they stand. */
export function replayCommand(o: RunOptions): string {
  const parts = [hintsimCommand(), 'run', o.workload, '--seed', String(o.seed), '--cpus', String(o.cpus)];
  if (o.memBytes !== DEFAULTS.memBytes) parts.push('--mem', formatSize(o.memBytes));
  if (o.hostMemBytes !== null) parts.push('--host-mem', formatSize(o.hostMemBytes));
  if (o.ops !== null) parts.push('--ops', String(o.ops));
  if (o.seconds !== null) parts.push('--seconds', String(o.seconds));
  if (o.mode !== 'threads') parts.push('--mode', o.mode);
  if (o.mode === 'sim' && (o.strategy !== DEFAULTS.strategy || o.depth !== DEFAULTS.depth)) parts.push('--strategy', o.strategy, '--depth', String(o.depth));
  if (o.mode === 'sim' && o.strategy === 'random' && o.switchEvery !== DEFAULTS.switchEvery) parts.push('--switch-every', String(o.switchEvery));
  if (o.hinting !== DEFAULTS.hinting) parts.push('--hinting', o.hinting);
  if (o.host !== DEFAULTS.host) parts.push('--host', o.host);
  if (o.ringSlots !== DEFAULTS.ringSlots) parts.push('--ring-slots', String(o.ringSlots));
  if (!o.batch) parts.push('--no-batch');
  if (o.unfix.length) parts.push('--unfix', o.unfix.join(','));
  if (o.debugFaults.length) parts.push('--debug-fault', o.debugFaults.join(','));
  if (o.inject.length) parts.push('--inject', o.inject.join(','));
  if (o.injectPfn !== null) parts.push('--inject-pfn', String(o.injectPfn));
  if (o.pcpBatch !== null) parts.push('--pcp-batch', String(o.pcpBatch));
  if (o.pcpHigh !== null) parts.push('--pcp-high', String(o.pcpHigh));
  for (const [k, v] of Object.entries(o.workloadOptions)) parts.push('--opt', `${k}=${v}`);
  return parts.join(' ');
}
