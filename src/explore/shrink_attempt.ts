/**
 * One shrink attempt: a sim run of candidate options, and whether it still gives the
 * violation being shrunk. Shared by the in-thread runner and the piscina task (shrink.ts).
 */
import type { Violation } from '../core/oracles.js';
import { UsageError, type RunOptions } from '../machine/config.js';
import { recordedSchedule, runMachine } from '../machine/run.js';
import type { Schedule } from '../sim/schedule.js';

/**
 * What a candidate must give: the same oracle on the same kind of object (a page, or none:
 * pfn -1), and the same race when the original named one.
 */
export interface AttemptWant { oracle: string; page: boolean; race: string | null }

export interface Attempt {
  /** The matching violation, null when the candidate does not reproduce. */
  violation: Violation | null;
  /** Scheduling steps of the run and each CPU's ops (a violation stops the run: its prefix). */
  steps: number;
  ops_per_cpu: number[];
  /** The run's decisions when the candidate recorded them (a strategy run), else null. */
  schedule: Schedule | null;
  /** A keyed candidate left its schedule (a decision's point never came): the seed's strategy ran on. */
  diverged: boolean;
}

export function matches(v: Violation, w: AttemptWant): boolean {
  if (v.oracle !== w.oracle || (v.pfn >= 0) !== w.page) return false;
  return w.race === null || v.race === w.race;
}

export async function runAttempt(o: RunOptions, match: (v: Violation) => boolean): Promise<Attempt> {
  let r;
  try {
    r = await runMachine(o);
  } catch (e) {
    // A candidate the run refuses (a host option beyond a cut op budget, e.g. CMMA's
    // migrate_at) is one that does not reproduce, not the end of the shrink.
    if (e instanceof UsageError) return { violation: null, steps: 0, ops_per_cpu: [], schedule: null, diverged: false };
    throw e;
  }
  const v = r.violations.find(match) ?? null;
  const schedule = v && o.recordSchedule ? recordedSchedule(r) : null;
  return { violation: v, steps: r.schedule?.steps ?? 0, ops_per_cpu: r.per_cpu.map((p) => p.ops), schedule, diverged: !!r.schedule?.keyed?.diverged };
}
