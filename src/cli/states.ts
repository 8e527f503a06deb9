/** `hintsim states [--json | --dot | --svg FILE]`: the ESSA state machine, computed by running the host model. */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { computeStates, statesDot } from '../hosts/index.js';
import { UsageError } from './common.js';

export function registerStates(program: Command): void {
  program.command('states').description('the ESSA state machine, computed by executing the host model on scratch frames')
    .option('--json', 'the transition tables as JSON')
    .option('--dot', 'a Graphviz digraph')
    .option('--svg <file>', 'render the diagram to an SVG file (Graphviz in WebAssembly, no system Graphviz needed)')
    .action(async (f: { json?: boolean; dot?: boolean; svg?: string }) => {
      const s = computeStates();
      if (f.svg !== undefined) {
        const { instance } = await import('@viz-js/viz');
        const svg = (await instance()).renderString(statesDot(s), { format: 'svg', engine: 'dot' });
        try { writeFileSync(f.svg, svg); } catch (e) {
          throw new UsageError(`--svg: cannot write '${f.svg}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        process.stdout.write(`wrote ${f.svg} (${s.valid.length} states, ${s.essa.length} ESSA rows, ${s.host.length} host rows, ${s.access.length} access rows)\n`);
        return;
      }
      if (f.dot) { process.stdout.write(statesDot(s)); return; }
      if (f.json) { process.stdout.write(JSON.stringify(s, null, 2) + '\n'); return; }
      process.stdout.write(`valid states:   ${s.valid.join(' ')}\ninvalid states: ${s.invalid.join(' ')}\n\nESSA (from x op -> to, returns old state)\n`);
      const ops = [...new Set(s.essa.map((e) => e.op))];
      process.stdout.write(`${'from'.padEnd(6)}${ops.map((o) => o.padEnd(26)).join('')}\n`);
      for (const from of s.valid) {
        process.stdout.write(from.padEnd(6) + ops.map((op) => (s.essa.find((e) => e.from === from && e.op === op)?.to ?? '-').padEnd(26)).join('') + '\n');
      }
      process.stdout.write('\nhost reclaim\n');
      for (const h of s.host) process.stdout.write(`  ${h.from} --${h.action}--> ${h.to}\n`);
      process.stdout.write('\nguest access\n');
      for (const a of s.access) process.stdout.write(`  ${a.from} ${a.kind.padEnd(5)} ${a.outcome.padEnd(21)} -> ${a.to}\n`);
    });
}
