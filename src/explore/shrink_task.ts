/**
 * A piscina task for shrinking (shrink.ts): run candidate sim runs and report, per run, the
 * violation that matched (if any), the steps of the run, each CPU's ops, and the schedule
 * when it was recorded. The CPU and host workers of one run serve the next in this thread.
 */
import type { RunOptions } from '../machine/config.js';
import { adoptWorkerUrls } from '../machine/worker_url.js';
import { setWorkerReuse } from '../machine/worker_pool.js';
import { matches, runAttempt, type Attempt, type AttemptWant } from './shrink_attempt.js';

export interface ShrinkTask { urls: Record<string, string>; execArgv: string[] | undefined; runs: RunOptions[]; want: AttemptWant }

export default async function shrinkTask(t: ShrinkTask): Promise<Attempt[]> {
  adoptWorkerUrls(t.urls, t.execArgv);
  setWorkerReuse(true);
  const out: Attempt[] = [];
  for (const o of t.runs) out.push(await runAttempt(o, (v) => matches(v, t.want)));
  return out;
}
