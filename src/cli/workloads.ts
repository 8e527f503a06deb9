/** `hintsim workloads [--json]`: the workloads, their options and oracles. */
import type { Command } from 'commander';
import { WORKLOADS } from '../../workloads/index.js';

export function registerWorkloads(program: Command): void {
  program.command('workloads').description('list the workloads and their options')
    .option('--json', 'machine-readable')
    .action((f: { json?: boolean }) => {
      if (f.json) { process.stdout.write(JSON.stringify(WORKLOADS.map((w) => ({ name: w.name, description: w.description, options: w.options, oracles: w.oracles })), null, 2) + '\n'); return; }
      for (const w of WORKLOADS) {
        process.stdout.write(`${w.name}\n  ${w.description}\n  oracles: ${w.oracles.join(', ')}\n`);
        for (const op of w.options) process.stdout.write(`  --opt ${op.name}=N   ${op.description} (default ${op.default}, ${op.min}..${op.max})\n`);
      }
    });
}
