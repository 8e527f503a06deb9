/**
 * Trace recording for `--trace FILE` (Chrome trace-event JSON, opened by Perfetto). Each
 * participant owns a ring of TRACE_EVENTS events in a separate SharedArrayBuffer that
 * exists only when tracing: [code, arg, ts] as float64. Timestamps are microseconds of
 * wall-clock time in threads mode and the global step in sim mode (deterministic).
 * Without --trace, `tr` is one null check.
 */
import { V } from './ctx.js';
import { SIM_STEP } from './layout.js';
import { simActive } from './sched.js';

export const TRACE_EVENTS = 1 << 15;
export const TRACE_SLOT = 3;
export const TRACE_HEADER = 2; // [0] events written (monotonic), [1] unused
export const TRACE_PER_PARTICIPANT = TRACE_HEADER + TRACE_EVENTS * TRACE_SLOT;

export const T_FAULT_B = 1, T_FAULT_E = 2, T_DISCARD_B = 3, T_DISCARD_E = 4, T_RECLAIM_B = 5, T_RECLAIM_E = 6,
  T_ESSA_BATCH = 7, T_LOCK_WAIT = 8, T_VIOLATION = 9, T_COW_B = 10, T_COW_E = 11, T_MSYNC_B = 12, T_MSYNC_E = 13,
  T_REPORT_B = 14, T_REPORT_E = 15, T_MIGRATE_B = 16, T_MIGRATE_E = 17;
export const TRACE_NAMES: Record<number, [string, 'B' | 'E' | 'i']> = {
  1: ['page fault', 'B'], 2: ['page fault', 'E'], 3: ['discard fault', 'B'], 4: ['discard fault', 'E'],
  5: ['reclaim pass', 'B'], 6: ['reclaim pass', 'E'], 7: ['ESSA batch', 'i'], 8: ['lock wait', 'i'], 9: ['violation', 'i'],
  10: ['copy on write', 'B'], 11: ['copy on write', 'E'], 12: ['msync', 'B'], 13: ['msync', 'E'],
  14: ['reporting pass', 'B'], 15: ['reporting pass', 'E'], 16: ['migration slice', 'B'], 17: ['migration slice', 'E'],
};
/**
 * Work that runs in a guest CPU's time slice but is its own thread in the system it models
 * (free page reporting's kworker, QEMU's migration thread): the export shows it on a track of
 * its own, after the participants' (machine/trace_out.ts), in the order listed here.
 */
export const TRACE_TRACKS: Record<number, string> = { 14: 'reporting worker', 15: 'reporting worker', 16: 'migration worker', 17: 'migration worker' };

let buf: Float64Array | null = null;

/** Attach this participant to the trace buffer (null: tracing off). */
export function traceInit(sab: SharedArrayBuffer | null, me: number): void {
  buf = sab ? new Float64Array(sab, me * TRACE_PER_PARTICIPANT * 8, TRACE_PER_PARTICIPANT) : null;
}

export function tr(code: number, arg: number): void {
  if (buf === null) return;
  const n = buf[0];
  const b = TRACE_HEADER + (n % TRACE_EVENTS) * TRACE_SLOT;
  buf[b] = code;
  buf[b + 1] = arg;
  buf[b + 2] = simActive() ? V.hdr[SIM_STEP] : (performance.timeOrigin + performance.now()) * 1000; // wall-clock ok: trace timestamps only, never a decision
  buf[0] = n + 1;
}

