/**
 * A piscina task for `hintsim hunt`: run a batch of seeds and report, per seed, the
 * violations (and the schedule summary). The CPU and host workers of one run serve the next
 * one in this thread (worker_pool.ts).
 */
import type { RunOptions } from '../machine/config.js';
import { runMachine } from '../machine/run.js';
import { adoptWorkerUrls } from '../machine/worker_url.js';
import { setWorkerReuse } from '../machine/worker_pool.js';
import type { Violation } from '../core/oracles.js';
import { ringInput, type RingInput } from './ring_schedule.js';

export interface HuntTask { urls: Record<string, string>; execArgv: string[] | undefined; runs: RunOptions[]; oracle: string }
/** `ring`: a threads-mode run that fired the oracle, its point rings merged (ring_schedule.ts). */
export interface HuntTaskResult { seed: number; violations: Violation[]; steps: number; ops: number; seconds: number; ring?: RingInput | null }

export default async function huntTask(t: HuntTask): Promise<HuntTaskResult[]> {
  adoptWorkerUrls(t.urls, t.execArgv);
  setWorkerReuse(true);
  const out: HuntTaskResult[] = [];
  for (const o of t.runs) {
    const threads = o.mode === 'threads';
    const r = await runMachine(threads ? { ...o, recordRing: true } : o);
    const hit = r.violations.some((v) => v.oracle === t.oracle);
    out.push({ seed: o.seed, violations: r.violations, steps: r.schedule?.steps ?? 0, ops: r.ops, seconds: r.seconds, ...(threads && hit ? { ring: ringInput(r) } : {}) });
    if (hit) break; // found: the rest of the batch is moot
  }
  return out;
}
