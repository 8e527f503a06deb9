/**
 * Replay files: everything needed to re-run a violating schedule exactly, with a checksum
 * so a tampered or truncated file is refused rather than half-replayed.
 */
import { hostByName, type HostName } from '../hosts/index.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { findWorkload } from '../../workloads/index.js';
import { RACES } from '../core/races.js';
import { ORACLES } from '../core/oracles.js';
import { INJECT_NAMES } from '../core/inject.js';
import { DEBUG_FAULTS } from '../core/debug.js';
import type { SteeringRecord } from './steer.js';
import type { RingRecord } from './ring_schedule.js';
import { hintsimCommand } from '../machine/invocation.js';
import { DEFAULTS, HOSTS, UsageError, formatSize, parseSize, replayCommand, type RunOptions, type Strategy } from '../machine/config.js';
import { decodeSchedule, encodeSchedule, type Schedule, type ScheduleFile } from '../sim/schedule.js';
import { STRATEGY_NAMES } from '../sim/strategies/index.js';

export const REPLAY_FORMAT = 'hintsim-replay';
/**
 * Version 2 adds options an older hintsim would silently ignore and so replay a different
 * run: inject_pfn and debug_faults. Version 3 adds keyed decisions (schedule.keys: where each
 * decision was taken, by participant and its own count of points of that kind on that object,
 * sim/keys.ts; a replay follows them and survives scheduling points added or removed
 * elsewhere) and ops_per_cpu (a shrunk run's op budget per CPU). A file is written with the
 * lowest version that holds what it uses (1 when nothing).
 */
export const REPLAY_VERSION = 3;
const REPLAY_VERSIONS_READ = [1, 2, 3];
/**
 * The model version: bumped by every change of behaviour (a scheduling point added or
 * moved, a fix, a strategy's choice), never by a pure refactor. A replay file records
 * the model that wrote it; a file of another model is refused, since its schedule (or
 * the seed's strategy run) would replay something else. Files without it are model 1.
 *   2 (issue 13): R19b's re-check of the flags after the counts (a scheduling point in
 *      make_volatile); pct tries spinners in turn when every runnable participant spins;
 *      truncations of a file are serialised; SetPageUptodate clears the change bit first
 *      (R34; no scheduling point moved with the fix on).
 *   3 (issue 17): the minor-fault optimisation is the default (unmap releases without
 *      make_volatile, msync looks up only dirty pages; workload option minor_fault_opt=0
 *      is model 2's behaviour).
 *   4 (issue 17): with the ESSA host (and shadow on it), hinting on and batched, blocks of
 *      order 1..3 have per-CPU lists when a pcp batch holds two such blocks (page_alloc.ts; 32
 *      MiB and up): their boundary hints go in batches, and a block freed and reallocated on one
 *      CPU never meets the buddy. Runs with higher orders (alloc-storm, and file-churn and
 *      mixed through their anonymous ballast) on such a zone change; smaller zones, the other
 *      hosts and every race's recorded ground replay as in model 3.
 */
export const MODEL_VERSION = 4;

export interface ReplayOptions {
  workload: string; cpus: number; mem: string; host_mem: string | null; ops: number | null; seconds: number | null;
  mode: 'threads' | 'sim'; strategy: Strategy; depth: number; hinting: 'off' | 'unused' | 'full';
  batch: boolean; unfix: string[]; workload_options: Record<string, number>;
  /** Written only when set (stress runs): pcp watermarks and fault-injection points, the pfn they favour. */
  pcp_high?: number; pcp_batch?: number; inject?: string[]; inject_pfn?: number;
  /** Written only when not the default 16: the random strategy's mean points between switch decisions. */
  switch_every?: number;
  /** Written only when set (stress --debug-fault, tests): planted bugs (debug.ts). */
  debug_faults?: string[];
  /** Written only by shrinking (version 3): each guest CPU's op budget, `ops` their sum. */
  ops_per_cpu?: number[];
  /** Written only for --host xenpaging (with its ring size) and --host shadow. */
  host?: Exclude<HostName, 'essa'>; ring_slots?: number;
}

export interface Expected { oracle: string; pfn: number; cpu: number; step: number; message: string }

export interface ReplayFile {
  format: string;
  version: number;
  /** MODEL_VERSION of the hintsim that wrote it (absent: 1). */
  model?: number;
  race: string | null;
  seed: number;
  options: ReplayOptions;
  /** The sim schedule as on disk (schedule.ts codec: decodeSchedule / replaySchedule), null threads-only. */
  schedule: ScheduleFile | null;
  expected: Expected;
  shrink: { steps_before: number; steps_after: number; decisions_before: number; decisions_after: number } | null;
  /** Written by stress: how the file came about (stress.ts StressFailure.replay_kind). */
  replay_kind?: string;
  /** Written by stress for a threads-mode failure: the steered sim search (steer.ts). */
  steering?: SteeringRecord;
  /** Written for a threads-mode failure whose point rings were recorded (hunt --mode threads, stress): their re-enactment in sim mode (ring_schedule.ts). */
  ring_replay?: RingRecord;
  checksum: string;
}

export function toReplayOptions(o: RunOptions): ReplayOptions {
  return {
    workload: o.workload, cpus: o.cpus, mem: formatSize(o.memBytes), host_mem: o.hostMemBytes === null ? null : formatSize(o.hostMemBytes),
    ops: o.ops, seconds: o.seconds, mode: o.mode, strategy: o.strategy, depth: o.depth, hinting: o.hinting, batch: o.batch,
    unfix: [...o.unfix], workload_options: { ...o.workloadOptions },
    ...(o.pcpHigh !== null ? { pcp_high: o.pcpHigh } : {}), ...(o.pcpBatch !== null ? { pcp_batch: o.pcpBatch } : {}),
    ...(o.inject.length ? { inject: [...o.inject] } : {}), ...(o.injectPfn !== null ? { inject_pfn: o.injectPfn } : {}),
    ...(o.switchEvery !== DEFAULTS.switchEvery ? { switch_every: o.switchEvery } : {}),
    ...(o.debugFaults.length ? { debug_faults: [...o.debugFaults] } : {}),
    ...(o.opsPerCpu !== undefined ? { ops_per_cpu: [...o.opsPerCpu] } : {}),
    ...(o.host !== DEFAULTS.host ? { host: o.host as Exclude<typeof o.host, 'essa'>, ...(hostByName(o.host).ringSlots ? { ring_slots: o.ringSlots } : {}) } : {}),
  };
}

/** The run options of a replay file's options, seed and `schedule` field (as on disk). */
/**
 * The run a replay file describes. Its schedule replays by global step (exact on the model
 * that wrote it); `keyed` follows a version-3 file's keyed decisions instead (sim/keys.ts),
 * which is what survives added or removed scheduling points: `hintsim replay` falls back to
 * it when the step replay does not reproduce the file's violation. On an unchanged model both
 * agree (every keyed golden file replays exactly either way).
 */
export function fromReplayOptions(r: ReplayOptions, seed: number, file: ScheduleFile | null, keyed = false): RunOptions {
  const decoded = file === null ? null : decodeSchedule(file);
  if (file !== null && decoded === null) throw new UsageError('replay: malformed schedule');
  const schedule = decoded !== null && decoded.keys !== undefined && !keyed ? { first: decoded.first, decisions: decoded.decisions } : decoded;
  return {
    ...DEFAULTS, workload: r.workload, cpus: r.cpus, memBytes: parseSize('mem', r.mem),
    hostMemBytes: r.host_mem === null ? null : parseSize('host_mem', r.host_mem), ops: r.ops, seconds: r.seconds, seed,
    mode: r.mode, strategy: r.strategy, depth: r.depth, hinting: r.hinting, batch: r.batch, unfix: [...r.unfix],
    workloadOptions: { ...r.workload_options }, schedule, recordSchedule: false, trace: false,
    pcpHigh: r.pcp_high ?? null, pcpBatch: r.pcp_batch ?? null, inject: [...(r.inject ?? [])], injectPfn: r.inject_pfn ?? null,
    switchEvery: r.switch_every ?? DEFAULTS.switchEvery, debugFaults: [...(r.debug_faults ?? [])],
    host: r.host ?? 'essa', ringSlots: r.ring_slots ?? DEFAULTS.ringSlots,
    ...(r.ops_per_cpu !== undefined ? { opsPerCpu: [...r.ops_per_cpu] } : {}),
  };
}

function checksumOf(f: Omit<ReplayFile, 'checksum'>): string {
  return createHash('sha256').update(JSON.stringify(f)).digest('hex');
}

/** A replay file's schedule as records (null: threads-only). */
export function replaySchedule(f: ReplayFile): Schedule | null {
  return f.schedule === null ? null : decodeSchedule(f.schedule);
}

export type ReplayBody = Omit<ReplayFile, 'checksum' | 'format' | 'version' | 'model' | 'schedule'> & { schedule: Schedule | null };

export function makeReplayFile(body: ReplayBody): ReplayFile {
  const v3 = body.options.ops_per_cpu !== undefined || body.schedule?.keys !== undefined;
  const v2 = body.options.inject_pfn !== undefined || body.options.debug_faults !== undefined;
  const f = { format: REPLAY_FORMAT, version: v3 ? 3 : v2 ? 2 : 1, model: MODEL_VERSION, ...body, schedule: body.schedule === null ? null : encodeSchedule(body.schedule) };
  return { ...f, checksum: checksumOf(f) };
}

/** Read and check a replay file; every problem is a one-line UsageError. */
export function readReplayFile(path: string): ReplayFile {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new UsageError(`replay: cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let f: ReplayFile;
  try { f = JSON.parse(text) as ReplayFile; } catch {
    throw new UsageError(`replay: '${path}' is not JSON; expected a replay file written by 'hintsim hunt --out'`);
  }
  const bad = (what: string): never => { throw new UsageError(`replay: '${path}' ${what}`); };
  if (typeof f !== 'object' || f === null || f.format !== REPLAY_FORMAT) bad(`is not a hintsim replay file (format must be '${REPLAY_FORMAT}')`);
  if (!REPLAY_VERSIONS_READ.includes(f.version)) bad(`has version ${String(f.version)}; this hintsim reads versions ${REPLAY_VERSIONS_READ.join(', ')}`);
  const { checksum, ...rest } = f;
  if (typeof checksum !== 'string' || checksumOf(rest) !== checksum) bad('fails its checksum: it was edited or truncated');
  if (!Number.isInteger(f.seed)) bad('has no integer seed');
  const o = f.options;
  if (!o || typeof o !== 'object' || !findWorkload(o.workload)) bad(`names an unknown workload '${String(o?.workload)}'`);
  for (const id of o.unfix ?? []) if (!RACES.some((r) => r.id === id)) bad(`unfixes an unknown race '${id}'`);
  for (const id of o.inject ?? []) if (!INJECT_NAMES.includes(id)) bad(`names an unknown injection point '${id}'`);
  if (o.inject_pfn !== undefined && !(Number.isInteger(o.inject_pfn) && o.inject_pfn >= 0)) bad(`has a bad inject_pfn '${String(o.inject_pfn)}'`);
  for (const id of o.debug_faults ?? []) if (!Object.keys(DEBUG_FAULTS).includes(id)) bad(`plants an unknown bug '${id}'`);
  if (o.strategy !== undefined && !STRATEGY_NAMES.includes(o.strategy)) bad(`names an unknown strategy '${String(o.strategy)}'; accepted: ${STRATEGY_NAMES.join(', ')}`);
  if (o.ops_per_cpu !== undefined && !(Array.isArray(o.ops_per_cpu) && o.ops_per_cpu.length === o.cpus && o.ops_per_cpu.every((x) => Number.isInteger(x) && x >= 0))) {
    bad(`has a bad ops_per_cpu '${JSON.stringify(o.ops_per_cpu)}' (one whole number per CPU)`);
  }
  if (o.switch_every !== undefined && !(Number.isInteger(o.switch_every) && o.switch_every >= 1)) bad(`has a bad switch_every '${String(o.switch_every)}'`);
  if (o.host !== undefined && !(HOSTS as readonly string[]).includes(o.host)) bad(`names an unknown host '${String(o.host)}'; accepted: ${HOSTS.join(', ')}`);
  if (!f.expected || !(ORACLES as readonly string[]).includes(f.expected.oracle)) bad('has no expected violation with a known oracle');
  const model = f.model ?? 1;
  if (model !== MODEL_VERSION) {
    bad(`was recorded by model ${String(model)} and this hintsim runs model ${MODEL_VERSION}: the model changed since (fixes, scheduling points), so it would replay something else; hunt the race again${f.race ? ` (${hintsimCommand()} hunt ${f.race})` : ''} or rerun its options with: ${replayCommand(fromReplayOptions(o, f.seed, null))}`);
  }
  if (f.schedule !== null && decodeSchedule(f.schedule) === null) bad('has a malformed schedule');
  return f;
}
