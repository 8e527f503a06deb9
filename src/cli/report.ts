/** `hintsim report <file> --html OUT`: a self-contained HTML report of a run, replay or hunt. */
import type { Command } from 'commander';
import { renderReport } from '../report/html.js';
import { checkHtmlPath, loadReportInput, writeHtml } from '../report/input.js';
import { madeWith } from './common.js';

export function registerReport(program: Command): void {
  program.command('report <file>')
    .description('write a self-contained HTML report of a run, replay or hunt: FILE is what run/replay/hunt --json print, or a replay file')
    .requiredOption('--html <out>', 'the HTML file to write')
    .action(async (file: string, f: { html: string }) => {
      checkHtmlPath(f.html);
      const input = await loadReportInput(file, madeWith());
      writeHtml(f.html, await renderReport(input));
      const vs = input.result?.violations ?? (input.hunt?.violation ? [input.hunt.violation] : []);
      process.stdout.write(`wrote ${f.html}: ${input.kind}${input.result ? ` ${input.result.workload}, seed ${input.result.seed}` : ''}, ${vs.length ? vs.map((v) => `[${v.oracle}] pfn ${v.pfn}`).join(', ') : 'no violations'}\n`);
    });
}
