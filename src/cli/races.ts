/**
 * `hintsim races [--json | --markdown]`: the race catalogue (fix toggles for --unfix, targets for
 * hunt), with the fewest preemptions `hintsim check` needed to find each (explore/race_bounds.ts;
 * "-": not bounded by a check yet).
 */
import type { Command } from 'commander';
import { RACES } from '../core/races.js';
import { RACE_BOUNDS, preemptionsCell } from '../explore/race_bounds.js';

export function registerRaces(program: Command): void {
  program.command('races').description('list the race catalogue (fix toggles for --unfix, targets for hunt)')
    .option('--json', 'machine-readable')
    .option('--markdown', 'a Markdown table (the README\'s)')
    .action((f: { json?: boolean; markdown?: boolean }) => {
      if (f.json) { process.stdout.write(JSON.stringify(RACES.map((r) => ({ ...r, preemptions: RACE_BOUNDS[r.id]?.bound ?? null })), null, 2) + '\n'); return; }
      if (f.markdown) {
        process.stdout.write('| id | host | race | oracle | fix | source | reproduced | preemptions |\n|---|---|---|---|---|---|---|---|\n');
        for (const r of RACES) process.stdout.write(`| \`${r.id}\` | ${r.host} | ${r.catalogue}: ${r.name} | ${r.oracle} | ${r.fix} | ${r.source} | ${r.reproduced ? 'yes' : 'not yet'} | ${preemptionsCell(r.id)} |\n`);
        return;
      }
      for (const r of RACES) {
        process.stdout.write(`${r.id}  (${r.catalogue}, ${r.host} host) ${r.name}${r.reproduced ? '' : '   [not reproduced by a hunt yet]'}\n`);
        r.interleaving.forEach((s, i) => process.stdout.write(`    ${i + 1}. ${s}\n`));
        process.stdout.write(`    oracle: ${r.oracle}   fix: ${r.fix}   preemptions: ${preemptionsCell(r.id)}\n    source: ${r.source}   hunted on: ${r.workload}${r.host !== 'essa' ? ` with --host ${r.host}` : ''}` +
          `${r.also_unfix?.length ? ` (also unfixed: ${r.also_unfix.join(', ')})` : ''}\n\n`);
      }
    });
}
