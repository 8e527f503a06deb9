/**
 * The main thread's side of keyed schedules (keys.ts) around a run: what a keyed replay
 * follows, and the keys (or the keyed replay's outcome) added to the run's schedule result.
 */
import type { KeyedPoint, Schedule, ScheduleResult } from './schedule.js';
import { readKeys } from './keys.js';
import { keyedResult } from './strategies/keyed.js';

/** The decisions a keyed replay follows (none: not a keyed schedule). */
export function keyedFollow(s: Schedule | null): (KeyedPoint & { to: number; step: number })[] {
  if (!s?.keys) return [];
  return s.keys.map((k, i) => ({ ...k, to: s.decisions[i].to, step: s.decisions[i].step }));
}

/** The schedule result with the recorded keys (recorded runs) and the keyed replay's outcome. */
export function keyedSchedule(r: ScheduleResult, sab: SharedArrayBuffer | null, o: { recordSchedule: boolean; recordKeys?: boolean; schedule: Schedule | null }, hdr: Int32Array): ScheduleResult {
  if (sab === null) return r;
  return {
    ...r,
    ...(o.recordSchedule && o.recordKeys && r.decisions ? { keys: readKeys(sab, r.decisions.length) } : {}),
    ...(o.schedule?.keys ? { keyed: keyedResult(hdr) } : {}),
  };
}
