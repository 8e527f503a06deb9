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

export interface HuntTask { urls: Record<string, string>; execArgv: string[] | undefined; runs: RunOptions[]; oracle: string }
export interface HuntTaskResult { seed: number; violations: Violation[]; steps: number; ops: number; seconds: number }

export default async function huntTask(t: HuntTask): Promise<HuntTaskResult[]> {
  adoptWorkerUrls(t.urls, t.execArgv);
  setWorkerReuse(true);
  const out: HuntTaskResult[] = [];
  for (const o of t.runs) {
    const r = await runMachine(o);
    out.push({ seed: o.seed, violations: r.violations, steps: r.schedule?.steps ?? 0, ops: r.ops, seconds: r.seconds });
    if (r.violations.some((v) => v.oracle === t.oracle)) break; // found: the rest of the batch is moot
  }
  return out;
}
