/**
 * `hintsim merge FILES...`: fold the `hintsim stress --json` outputs of several shards (one
 * machine each: a Kubernetes Indexed Job, a CI matrix; examples/shards/) into one result and
 * one coverage table. Exit 1 when any shard had a failing run.
 */
import type { Command } from 'commander';
import { mergeStress } from '../explore/merge.js';
import { formatCoverage } from '../machine/coverage.js';
import type { SetExit } from './common.js';

export function registerMerge(program: Command, setExit: SetExit): void {
  program.command('merge <files...>')
    .description('fold the `hintsim stress --json` outputs of several shards into one coverage table (exit 1 if any shard failed); `hintsim corpus merge` folds their corpora')
    .option('--json', 'one JSON object: shards, runs, ops, failures by oracle, the merged coverage')
    .action((files: string[], f: { json?: boolean }) => {
      const m = mergeStress(files);
      if (f.json) process.stdout.write(JSON.stringify(m, null, 2) + '\n');
      else {
        process.stdout.write(`merge: ${m.shards.length} shard${m.shards.length === 1 ? '' : 's'}, ${m.runs} runs, ${m.ops} ops, ${m.failed_runs} failing run${m.failed_runs === 1 ? '' : 's'}\n`);
        for (const s of m.shards) process.stdout.write(`  ${s.file}: seed ${s.seed}, ${s.mode}, ${s.runs} runs, ${s.ops} ops, ${s.failed_runs} failing\n`);
        for (const [o, n] of Object.entries(m.failures_by_oracle)) process.stdout.write(`  failures [${o}]: ${n}\n`);
        process.stdout.write(formatCoverage(m.coverage));
      }
      setExit(m.failed_runs > 0 ? 1 : 0);
    });
}
