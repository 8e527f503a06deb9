/**
 * `hintsim merge FILES...`: fold the `hintsim stress --json` outputs of several shards into
 * one result: runs, ops and failures summed, failures by oracle, and one coverage table over
 * every shard (what any shard reached is reached; "never reached" is what none did).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../machine/config.js';
import { addCoverage, coverageReport, emptyCoverage, type CoverageReport, type RunCoverage } from '../machine/coverage.js';

export interface ShardSummary { file: string; seed: number; mode: string; runs: number; ops: number; failed_runs: number }

export interface MergedStress {
  shards: ShardSummary[];
  runs: number;
  ops: number;
  failed_runs: number;
  /** Oracle -> failing runs, over every shard. */
  failures_by_oracle: Record<string, number>;
  /** Failures of every shard, each with the shard's file. */
  failures: { shard: string; index: number; oracle: string; replay_file: string | null }[];
  coverage: CoverageReport;
}

interface StressJson {
  seed: number; mode: string; runs: number; ops: number; failed_runs: number;
  failures: { index: number; oracle: string; replay_file?: string | null }[];
  coverage: { counts: RunCoverage };
}

function readShard(path: string): StressJson {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new UsageError(`merge: cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let j: StressJson;
  try { j = JSON.parse(text) as StressJson; } catch {
    throw new UsageError(`merge: '${path}' is not JSON; expected the output of 'hintsim stress --json'`);
  }
  const ok = typeof j === 'object' && j !== null && Number.isFinite(j.runs) && Number.isFinite(j.ops) && Array.isArray(j.failures) &&
    typeof j.coverage === 'object' && j.coverage !== null && typeof j.coverage.counts === 'object' && j.coverage.counts !== null;
  if (!ok) throw new UsageError(`merge: '${path}' is not the output of 'hintsim stress --json' (runs, ops, failures, coverage.counts)`);
  return j;
}

export function mergeStress(paths: string[]): MergedStress {
  if (paths.length === 0) throw new UsageError('merge: name at least one file written by hintsim stress --json');
  const shards = paths.map((p) => ({ p, j: readShard(p) }));
  const counts = emptyCoverage();
  const byOracle: Record<string, number> = {};
  const failures: MergedStress['failures'] = [];
  for (const { p, j } of shards) {
    const c = emptyCoverage();
    for (const g of Object.keys(c) as (keyof RunCoverage)[]) Object.assign(c[g], j.coverage.counts[g] ?? {});
    addCoverage(counts, c);
    for (const f of j.failures) {
      byOracle[f.oracle] = (byOracle[f.oracle] ?? 0) + 1;
      failures.push({ shard: p, index: f.index, oracle: f.oracle, replay_file: f.replay_file ?? null });
    }
  }
  return {
    shards: shards.map(({ p, j }) => ({ file: p, seed: j.seed, mode: j.mode, runs: j.runs, ops: j.ops, failed_runs: j.failed_runs })),
    runs: shards.reduce((s, x) => s + x.j.runs, 0), ops: shards.reduce((s, x) => s + x.j.ops, 0),
    failed_runs: shards.reduce((s, x) => s + x.j.failed_runs, 0),
    failures_by_oracle: byOracle, failures, coverage: coverageReport(counts),
  };
}
