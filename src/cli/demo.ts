/**
 * `hintsim demo` (what `npm start` runs): reproduce free-vs-discard on demand. Hunt the
 * race with get_page_if_present switched off, show the violation and how to replay it,
 * then run the same seed with every fix on and show it clean.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { DEFAULT_JOBS, findRace, hunt, raceRunOptions } from '../explore/hunt.js';
import { runMachine } from '../machine/run.js';
import { hintsimCommand, replayFileCommand, shellPath, userCwd, writeOwnFile } from '../machine/invocation.js';
import type { SetExit } from './common.js';

export async function demo(write: (s: string) => void): Promise<number> {
  const id = 'discard-get-page';
  const race = findRace(id);
  write(`hintsim demo: the free-vs-discard race (${race.catalogue}: ${race.name})\n`);
  race.interleaving.forEach((s, i) => write(`  ${i + 1}. ${s}\n`));
  write(`\n1. hunting it in sim mode with the fix off (--unfix ${id}) on ${DEFAULT_JOBS()} threads ...\n`);
  const h = await hunt({ id, seeds: 200, seconds: 60, jobs: DEFAULT_JOBS(), shard: [1, 1], mode: 'sim', strategy: 'random', depth: 3, cpus: null, shrink: true, shrinkSeconds: 3, fixed: false });
  if (!h.found || !h.violation || !h.replay) {
    write(`   not found in ${h.seeds_tried} seeds (${h.seconds.toFixed(1)} s)\n`);
    return 1;
  }
  const v = h.violation;
  const file = writeBesideUser(`${id}.replay`, JSON.stringify(h.replay, null, 2) + '\n');
  write(`   found with seed ${h.seed} after ${h.seeds_tried} seeds in ${h.seconds.toFixed(1)} s\n`);
  write(`   [${v.oracle}] pfn ${v.pfn}, cpu ${v.cpu}, step ${v.step}: ${v.message}\n`);
  const sh = h.replay.shrink;
  if (sh && sh.decisions_after < sh.decisions_before) write(`   shrunk to ${sh.decisions_after} scheduling decisions (from ${sh.decisions_before})\n`);
  else if (sh) write(`   ${sh.decisions_before} scheduling decisions (shrinking found nothing smaller in 3 s; '${hintsimCommand()} hunt' shrinks longer)\n`);
  write(`   replay file: ${shellPath(file)}\n`);
  write(`   replay it exactly:  ${replayFileCommand(file)}\n`);
  write(`   read it as a story: ${replayFileCommand(file)} --story\n`);
  write(`\n2. the same seed and workload with every fix on ...\n`);
  const clean = await runMachine({ ...raceRunOptions(race, { mode: 'sim', strategy: 'random', depth: 3, cpus: null, fixed: true }, h.seed!) });
  const c = clean.counters;
  if (clean.violations.length === 0) {
    write(`   clean: ${clean.ops.toLocaleString('en-US')} ops, ${c.discard_faults} discard faults, ${c.pages_discarded} pages discarded, ` +
      `get_page_if_present refused ${c.get_page_if_present_refused} references to free pages, trace ${clean.trace_hash}\n`);
  } else {
    write(`   NOT clean: [${clean.violations[0].oracle}] ${clean.violations[0].message}\n`);
  }
  const hs = hintsimCommand();
  write(`\nNext: '${hs} races' lists every race; '${hs} hunt <id>' finds one; '${hs} run --help' shows the knobs.\n`);
  return clean.violations.length === 0 ? 0 : 1;
}

/**
 * Write `text` beside the user (their working directory, not a shared temporary folder) as
 * NAME.json, or NAME-2.json ... when NAME.json is there and not this user's own plain file
 * (writeOwnFile never follows a link). Returns the path written.
 */
function writeBesideUser(name: string, text: string): string {
  for (let k = 1; ; k++) {
    const file = join(userCwd(), k === 1 ? `${name}.json` : `${name}-${k}.json`);
    try { writeOwnFile(file, text); return file; } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || k >= 100) throw e;
    }
  }
}

export function registerDemo(program: Command, setExit: SetExit): void {
  program.command('demo').description('what npm start runs: reproduce free-vs-discard, replay it, and show the fix')
    .action(async () => { setExit(await demo((s) => process.stdout.write(s))); });
}
