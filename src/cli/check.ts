/**
 * `hintsim check <id>`: every schedule of a race's small ground with at most K preemptions
 * (explore/check.ts). Exit 0 exhausted and clean, 1 a violation (its schedule written as a
 * replay file), 3 the bound was not exhausted within --seconds.
 */
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { CHECK_OPS, CHECK_RACE_OPS, check, checkSeed, type CheckProgress, type CheckResult } from '../explore/check.js';
import { findRace } from '../explore/hunt.js';
import { DEFAULT_CORPUS, addToCorpus } from '../explore/corpus.js';
import { replayFileCommand } from '../machine/invocation.js';
import { UsageError, parseIntFlag, writeReplayOut, parseNumberFlag, type SetExit } from './common.js';

/** The exit code of a check: 0 exhausted and clean, 1 violation, 3 not exhausted. */
export function checkExit(r: CheckResult): number {
  return r.violation ? 1 : r.exhausted ? 0 : 3;
}

function progressBar(quiet: boolean): { update: (p: CheckProgress) => void; stop: () => void } | undefined {
  if (quiet || !process.stderr.isTTY) return undefined;
  const bar = new SingleBar({
    format: 'check bound {bound} | {schedules} schedules | {states} states | depth {depth} | {seconds} s',
    stream: process.stderr, hideCursor: true, clearOnComplete: true,
  });
  let started = false;
  return {
    update(p) {
      const payload = { bound: p.bound, schedules: p.schedules, states: p.states, depth: p.depth, seconds: p.seconds.toFixed(0) };
      if (!started) { bar.start(1, 0, payload); started = true; } else bar.update(0, payload);
    },
    stop() { if (started) bar.stop(); },
  };
}

function summary(r: CheckResult, out: string | null): string {
  const lines = [`check ${r.race} (${r.fixed ? 'every fix on' : 'fix off'}): ${r.cpus} CPUs, ${r.ops} ops, seed ${r.seed}, at most ${r.bound} preemption${r.bound === 1 ? '' : 's'}, DPOR and sleep sets ${r.reduction ? 'on' : 'off'}`];
  for (const b of r.bounds) {
    const how = b.found ? 'VIOLATION' : b.exhausted ? 'exhausted' : 'NOT exhausted (time)';
    lines.push(`  bound ${b.bound}: ${b.schedules} schedule${b.schedules === 1 ? '' : 's'}, ${b.states} distinct states, pruned ${b.pruned.dpor} by DPOR + ${b.pruned.sleep} asleep + ${b.pruned.state} at visited states + ${b.pruned.blocked} blocked, longest ${b.max_points} points, ${b.seconds.toFixed(2)} s: ${how}`);
  }
  if (r.violation) {
    const v = r.violation;
    lines.push(`  [${v.oracle}] pfn ${v.pfn}, participant ${v.cpu}, step ${v.step}: ${v.message}`);
    lines.push(r.least_preemptions !== null
      ? `  fewest preemptions that expose it: ${r.least_preemptions}${r.least_preemptions === 0 ? ' (no interleaving needed: a sequential protocol bug)' : ''} (the schedule found has ${r.schedule_preemptions})`
      : `  found at bound ${r.bounds[r.bounds.length - 1].bound} (a smaller bound was not exhausted: not known to be the fewest)`);
    if (out) lines.push(`  replay file: ${out}${r.replay_verified ? '' : ' (WARNING: its replay did not reproduce the violation)'}\n  replay with: ${replayFileCommand(out)}`);
  } else {
    lines.push(r.exhausted ? `  clean: every schedule with at most ${r.bound} preemption${r.bound === 1 ? '' : 's'} explored (${r.schedules} schedules, ${r.seconds.toFixed(2)} s)`
      : `  not exhausted within the time given (${r.seconds.toFixed(2)} s): nothing found so far`);
  }
  return lines.join('\n') + '\n';
}

export function registerCheck(program: Command, setExit: SetExit): void {
  program.command('check <id>')
    .description('bounded exhaustive check of a race\'s small ground: every schedule with at most K preemptions (exit 0 clean, 1 violation, 3 not exhausted in time)')
    .option('--fixed', 'check with every fix on (does the fix hold up to the bound?); default: the race\'s fix off, bounds 0..K in turn, so the first violation comes with the fewest preemptions')
    .option('--preemptions <k>', 'preemption bound: choices other than the default schedule (a CPU runs on across its ops, the host runs between them, a stall or spin passes the baton); each one more multiplies the schedules by up to the ground\'s points (loom: 2 or 3 catch most bugs)', '2')
    .option('--ops <n>', `workload ops of the ground in total (default ${CHECK_OPS}, about 1,200-1,600 scheduling points per execution; ${Object.entries(CHECK_RACE_OPS).map(([r, n]) => `${r}: ${n}`).join(', ')}, the grounds where the fix-off violation lies within bound 1). Smaller grounds are exhausted sooner but may hold no violation at all`)
    .option('--cpus <n>', 'guest CPUs (default: the race\'s own)')
    .option('--seed <n>', 'the ground\'s seed (workload and injection draws; the schedule is what the search varies; default: the race\'s own, 1 for most)')
    .option('--seconds <s>', 'give up (exit 3) after this long', '600')
    .option('--no-reduction', 'no DPOR and no sleep sets, so no conflict relation either (to measure what they save; the visited-state table stays)')
    .option('--out <file>', 'replay file for a violation (default <id>.check.replay.json)')
    .option('--corpus <dir>', `failure corpus: the replay file is also kept there (default ${DEFAULT_CORPUS})`)
    .option('--no-corpus', 'keep no copy in the failure corpus')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
What "exhausted" (exit 0) covers: every schedule of this one ground (race, seed, ops, CPUs,
its injection draws) with at most K preemptions of the default schedule, up to
  - the conflict relation (src/sim/events.ts): code between two scheduling points is taken to
    touch only its point's object (or words under a lock whose acquire is a point); fault
    entries, epochs and unknown objects conflict with everything; an injected stall's inner
    points with nothing; on the ESSA page-cache ground an audited host model: the host's
    reclaim of frame t conflicts only with ESSA, frame-access and spin events and events on t,
    and those guest events conflict with each other whatever their frames (every access
    stores the touched-frame word the host reads; a batched ESSA changes several frames);
  - DPOR (with happens-before: an event ordered after a conflicting one through a chain of
    conflicts is not a race) and sleep sets combined with a preemption bound and a visited-state table, which can
    skip a schedule whose only equivalent within the bound was pruned (Coons et al. 2013);
  - the state hash, which leaves out page contents and the workers' JS-local state.
It does not cover other seeds, larger grounds, more CPUs, threads mode or real hardware
memory ordering. --no-reduction drops the first two (not the state table).`)
    .action(async (id: string, f: Record<string, string | boolean | undefined>) => {
      const race = findRace(id);
      const k = String(f.preemptions);
      if (!/^-?\d+$/.test(k) || Number(k) < 0) throw new UsageError(`--preemptions: '${k}' is not accepted; use an integer >= 0`);
      const bar = progressBar(!!f.json);
      const opts = {
        id: race.id, fixed: !!f.fixed, preemptions: parseIntFlag('--preemptions', k, 0, 16),
        ops: f.ops === undefined ? null : parseIntFlag('--ops', String(f.ops), 1, 100_000),
        cpus: f.cpus === undefined ? null : parseIntFlag('--cpus', String(f.cpus), 1, 16),
        seed: f.seed === undefined ? checkSeed(race.id) : parseIntFlag('--seed', String(f.seed), 0, 0x7fffffff), seconds: parseNumberFlag('--seconds', String(f.seconds), 0.1, 86400),
        reduce: f.reduction !== false, progress: bar?.update,
      };
      let r: CheckResult;
      try { r = await check(opts); } finally { bar?.stop(); }
      const out = r.replay ? String(f.out ?? `${id}.check.replay.json`) : null;
      if (out && r.replay) {
        writeReplayOut(out, f.out !== undefined, JSON.stringify(r.replay, null, 2) + '\n');
        if (f.corpus !== false) addToCorpus(String(f.corpus ?? DEFAULT_CORPUS), r.replay);
      }
      if (f.json) process.stdout.write(JSON.stringify({ ...r, replay: undefined, replay_file: out }, null, 2) + '\n');
      else process.stdout.write(summary(r, out));
      setExit(checkExit(r));
    });
}
