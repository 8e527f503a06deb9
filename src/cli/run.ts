/**
 * `hintsim run [workload]`: one machine run; the summary or `--json` on stdout, exit 1 on
 * a violation. `--trace` and `--html` are checked before anything runs.
 */
import type { Command } from 'commander';
import { DEFAULTS, replayCommand } from '../machine/config.js';
import { runMachine, type RunResult } from '../machine/run.js';
import { formatRunHuman, progressReporter } from '../report/text.js';
import { renderReport } from '../report/html.js';
import { checkHtmlPath, withReportRecording, withoutReportRecording, writeHtml } from '../report/input.js';
import { addRunFlags, buildRunOptions, checkTracePath, madeWith, writeTrace, type RawRunFlags, type SetExit } from './common.js';

export async function cmdRun(workload: string | undefined, flags: RawRunFlags): Promise<number> {
  const o = buildRunOptions(workload, flags);
  checkTracePath(flags.trace);
  if (flags.html !== undefined) checkHtmlPath(flags.html);
  o.trace = flags.trace !== undefined;
  const progress = !flags.json && process.stderr.isTTY ? progressReporter() : null;
  let r: RunResult;
  try {
    r = await runMachine(flags.html !== undefined ? withReportRecording(o) : o, progress ? { onProgress: progress.update } : {});
  } finally {
    progress?.stop();
  }
  const rerun = replayCommand(o);
  if (flags.html !== undefined) writeHtml(flags.html, await renderReport({ kind: 'run', result: r, command: rerun, madeWith: madeWith() }));
  r = withoutReportRecording(writeTrace(flags.trace, r), o);
  if (flags.json) process.stdout.write(JSON.stringify({ ...r, rerun }, null, 2) + '\n');
  else process.stdout.write(formatRunHuman(r, rerun) + (flags.html !== undefined ? `html report: ${flags.html}\n` : ''));
  return r.violations.length > 0 ? 1 : 0;
}

export function registerRun(program: Command, setExit: SetExit): void {
  addRunFlags(program.command('run [workload]')
    .description(`run a workload (default ${DEFAULTS.workload}) and report counters and violations`))
    .option('--html <file>', 'also write a self-contained HTML report (records trace events and the schedule for its timeline)')
    .action(async (wl: string | undefined, flags: RawRunFlags) => { setExit(await cmdRun(wl, flags)); });
}
