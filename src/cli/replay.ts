/**
 * `hintsim replay <file>`: re-run a replay file and check it gives the same violation.
 * Exit 1 when the replayed run has a violation (as recorded), 0 when clean.
 */
import type { Command } from 'commander';
import { HOSTS } from '../machine/config.js';
import { runMachine, type RunResult } from '../machine/run.js';
import { replayFileCommand } from '../machine/invocation.js';
import { fromReplayOptions, readReplayFile, replaySchedule, type ReplayFile } from '../explore/replay_file.js';
import { SP_NAMES } from '../core/sched.js';
import { formatRunHuman } from '../report/text.js';
import { renderReport } from '../report/html.js';
import { formatStory, takeStory, withStory } from '../report/story.js';
import { checkHtmlPath, reproduced, withReportRecording, withoutReportRecording, writeHtml } from '../report/input.js';
import { UsageError, checkTracePath, madeWith, parseChoice, writeTrace, type SetExit } from './common.js';

/** One line on how a keyed replay went: every decision where it was taken, or the first divergence. */
function keyedLine(k: NonNullable<NonNullable<RunResult['schedule']>['keyed']>, rf: ReplayFile, r: RunResult): string {
  if (!k.diverged) return `replay: keyed schedule: all ${k.decisions} decisions taken where they were recorded`;
  const s = replaySchedule(rf)!;
  const key = s.keys![k.diverged.decision];
  const d = s.decisions[k.diverged.decision];
  const who = key.who < rf.options.cpus ? `cpu${key.who}` : `participant ${key.who}`;
  const point = key.kind === 0 ? 'end' : `${key.count}${ordinal(key.count)} ${SP_NAMES[key.kind] ?? `kind ${key.kind}`} point on object ${key.arg}`;
  const why = { passed: `${who} went past it`, finished: `${who} finished without reaching it`, late: `not reached by step ${k.diverged.step}` }[k.diverged.why];
  const fired = r.violations.some((v) => v.oracle === rf.expected.oracle);
  return `replay: diverged at decision ${k.diverged.decision + 1} of ${k.decisions} (${who}'s ${point}, recorded at step ${d.step}: ${why}); went on with the seed's ${rf.options.strategy} strategy; the ${rf.expected.oracle} oracle ${fired ? 'still fired' : 'did not fire'}`;
}

function ordinal(n: number): string {
  return n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
}

/** Why a replay told no story. */
function storyMissing(rf: ReplayFile, r: RunResult): string {
  if (rf.schedule === null) return 'the file is threads-only (no sim schedule to replay step by step)';
  if (rf.expected.pfn < 0) return `its ${rf.expected.oracle} violation names no page`;
  if (!r.violations.some((v) => v.oracle === rf.expected.oracle && v.pfn === rf.expected.pfn)) return `the replay did not give the ${rf.expected.oracle} violation on pfn ${rf.expected.pfn}`;
  return 'nothing was recorded';
}

export function registerReplay(program: Command, setExit: SetExit): void {
  program.command('replay <file>').description('re-run a replay file written by hunt and check it gives the same violation')
    .option('--json', 'print the run result as JSON')
    .option('--trace <file>', 'write a Chrome trace-event JSON file of the replayed run')
    .option('--html <file>', 'also write a self-contained HTML report of the replayed run')
    .option('--story', 'print the violation as a story: the events on its page, one line each, from the last consistent point (sim schedules)')
    .option('--host <host>', `${HOSTS.join(' | ')}: must match the host the file was recorded with`)
    .action(async (file: string, f: { json?: boolean; trace?: string; html?: string; host?: string; story?: boolean }) => {
      const rf = readReplayFile(file);
      const fileHost = rf.options.host ?? 'essa';
      if (f.host !== undefined && parseChoice('--host', f.host, HOSTS) !== fileHost) {
        throw new UsageError(`--host: '${file}' was recorded with --host ${fileHost}; leave --host out or give --host ${fileHost}`);
      }
      checkTracePath(f.trace);
      if (f.html !== undefined) checkHtmlPath(f.html);
      // By global step first (exact on the model that wrote the file); a keyed file that does
      // not reproduce that way (scheduling points added or removed since) follows its keys.
      const replayWith = async (keyed: boolean) => {
        const o = { ...fromReplayOptions(rf.options, rf.seed, rf.schedule, keyed), trace: f.trace !== undefined };
        const recording = f.story || f.html !== undefined ? withStory(o, rf.expected) : o;
        return { o, told: takeStory(await runMachine(f.html !== undefined ? withReportRecording(recording) : recording), rf.expected) };
      };
      let { o, told } = await replayWith(false);
      if (!reproduced(rf, told.result) && replaySchedule(rf)?.keys !== undefined) ({ o, told } = await replayWith(true));
      let r = told.result;
      const same = reproduced(rf, r);
      if (f.html !== undefined) {
        writeHtml(f.html, await renderReport({ kind: 'replay', result: r, command: replayFileCommand(file), madeWith: madeWith(), replay: { file, reproduced: same, expected: rf.expected }, ...(told.story ? { story: told.story } : {}) }));
      }
      r = withoutReportRecording(writeTrace(f.trace, r), o);
      if (f.json) process.stdout.write(JSON.stringify({ ...r, replay: { file, reproduced: same, expected: rf.expected }, ...(f.story ? { story: told.story } : {}) }, null, 2) + '\n');
      else {
        if (f.story) process.stdout.write(told.story ? formatStory(told.story) : `story: none to tell: ${storyMissing(rf, r)}\n`);
        else process.stdout.write(formatRunHuman(r, replayFileCommand(file)));
        const at = r.violations.find((x) => x.oracle === rf.expected.oracle)?.step;
        const moved = at !== undefined && at !== rf.expected.step ? ` (recorded at step ${rf.expected.step})` : '';
        if (r.schedule?.keyed) process.stdout.write(`${keyedLine(r.schedule.keyed, rf, r)}\n`);
        process.stdout.write(same ? `replay: reproduced the ${rf.expected.oracle} violation${rf.schedule ? ` at step ${at ?? rf.expected.step}${moved}, pfn ${rf.expected.pfn}` : ''}\n`
          : `replay: did NOT reproduce the expected ${rf.expected.oracle} violation (step ${rf.expected.step}, pfn ${rf.expected.pfn})\n`);
        if (f.html !== undefined) process.stdout.write(`html report: ${f.html}\n`);
      }
      setExit(r.violations.length > 0 ? 1 : 0);
    });
}
