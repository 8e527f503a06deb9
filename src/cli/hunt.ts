/**
 * `hintsim hunt <id>`: search seeds with one fix off until the race's oracle fires; write a
 * replay file. Exit 0 when found, 1 when not.
 */
import type { Command } from 'commander';
import { HOSTS } from '../machine/config.js';
import { replayFileCommand } from '../machine/invocation.js';
import { formatRingRecord } from '../explore/ring_schedule.js';
import { DEFAULT_JOBS, hunt, findRace } from '../explore/hunt.js';
import { DEFAULT_SHRINK_SECONDS } from '../explore/shrink.js';
import { DEFAULT_CORPUS, addToCorpus } from '../explore/corpus.js';
import { renderReport } from '../report/html.js';
import { checkHtmlPath, replayForReport, writeHtml } from '../report/input.js';
import { STRATEGY_CHOICES, UsageError, madeWith, writeReplayOut, parseChoice, strategyHelp, parseIntFlag, parseNumberFlag, type SetExit } from './common.js';

export function registerHunt(program: Command, setExit: SetExit): void {
  program.command('hunt <id>').description('search seeds with one fix off until its race\'s oracle fires; write a replay file')
    .option('--seeds <n>', 'seeds to try (in this shard)', '400')
    .option('--seconds <s>', 'give up after this long', '120')
    .option('--jobs <j>', 'parallel runs (piscina threads)', String(DEFAULT_JOBS()))
    .option('--shard <k/n>', 'run the k-th of n slices of the seed space (seeds k, k+n, k+2n, ...)', '1/1')
    .option('--mode <mode>', 'sim (deterministic, replayable, shrinkable) | threads', 'sim')
    .option('--strategy <s>', `sim strategy: ${strategyHelp()}`, 'random')
    .option('--depth <d>', 'pct depth', '3')
    .option('--cpus <n>', 'guest CPUs (default: what the race needs, 2 or 3; see hintsim races)')
    .option('--no-shrink', 'keep the schedule as found')
    .option('--shrink-seconds <s>', 'cap on the time spent shrinking (it stops earlier when nothing more comes off)', String(DEFAULT_SHRINK_SECONDS))
    .option('--fixed', 'control: hunt with the fix on (should find nothing)')
    .option('--host <host>', `${HOSTS.join(' | ')}: must be the race's own host (hunts run on it anyway; see hintsim races)`)
    .option('--out <file>', 'replay file to write (default <id>.replay.json)')
    .option('--corpus <dir>', `failure corpus: its entries for this race are replayed first, and what is found is kept there (default ${DEFAULT_CORPUS})`)
    .option('--no-corpus', 'neither replay nor keep corpus entries')
    .option('--html <file>', 'also write a self-contained HTML report (replays what was found, with its timeline)')
    .option('--json', 'machine-readable')
    .action(async (id: string, f: Record<string, string | boolean | undefined>) => {
      const race = findRace(id);
      if (f.host !== undefined && parseChoice('--host', String(f.host), HOSTS) !== race.host) {
        throw new UsageError(`--host: race '${id}' belongs to the ${race.host} host; leave --host out or give --host ${race.host}`);
      }
      if (typeof f.html === 'string') checkHtmlPath(f.html);
      const m = /^(\d+)\/(\d+)$/.exec(String(f.shard));
      if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard: '${String(f.shard)}' is not K/N with 1 <= K <= N (e.g. 2/8)`);
      const mode = parseChoice('--mode', String(f.mode), ['sim', 'threads'] as const);
      const h = {
        id, seeds: parseIntFlag('--seeds', String(f.seeds), 1, 1e9), seconds: parseNumberFlag('--seconds', String(f.seconds), 0.1, 86400),
        jobs: parseIntFlag('--jobs', String(f.jobs), 1, 64), shard: [Number(m[1]), Number(m[2])] as [number, number], mode,
        strategy: parseChoice('--strategy', String(f.strategy), STRATEGY_CHOICES), depth: parseIntFlag('--depth', String(f.depth), 1, 16),
        cpus: f.cpus === undefined ? null : parseIntFlag('--cpus', String(f.cpus), 1, 16), shrink: f.shrink !== false, shrinkSeconds: parseNumberFlag('--shrink-seconds', String(f.shrinkSeconds), 0.1, 3600), fixed: !!f.fixed,
        corpus: f.corpus === false ? null : String(f.corpus ?? DEFAULT_CORPUS),
        progress: !f.json && process.stderr.isTTY ? (d: number, t: number) => process.stderr.write(`\rhunt ${id}: ${d}/${t} seeds`) : undefined,
      };
      const out = String(f.out ?? `${id}.replay.json`);
      const r = await hunt(h);
      if (h.progress) process.stderr.write('\n');
      if (r.found && r.replay) writeReplayOut(out, f.out !== undefined, JSON.stringify(r.replay, null, 2) + '\n');
      if (r.found && r.replay && h.corpus) addToCorpus(h.corpus, r.replay);
      if (typeof f.html === 'string') {
        const hs = { race: r.race, found: r.found, seed: r.seed, seeds_tried: r.seeds_tried, seconds: r.seconds, replay_file: r.found ? out : null, violation: r.violation, shrink: r.replay?.shrink ?? null };
        const page = r.found && r.replay ? { ...(await replayForReport(r.replay, out, madeWith())), kind: 'hunt' as const, hunt: hs }
          : { kind: 'hunt' as const, result: null, command: null, madeWith: madeWith(), hunt: hs };
        writeHtml(f.html, await renderReport(page));
      }
      if (f.json) {
        process.stdout.write(JSON.stringify({ ...r, replay_file: r.found ? out : null, replay: undefined, schedule: r.replay?.shrink ?? null, ...(r.replay?.ring_replay ? { ring_replay: r.replay.ring_replay } : {}) }, null, 2) + '\n');
      } else if (r.found && r.violation) {
        const v = r.violation;
        process.stdout.write(r.from_corpus ? `hunt ${id}: found by replaying the corpus entry ${r.from_corpus} (seed ${r.seed}) in ${r.seconds.toFixed(2)} s\n`
          : `hunt ${id}: found with seed ${r.seed} after ${r.seeds_tried} seeds in ${r.seconds.toFixed(2)} s (${mode} mode)\n`);
        process.stdout.write(`  [${v.oracle}] pfn ${v.pfn}, participant ${v.cpu}, step ${v.step}: ${v.message}\n`);
        const ring = r.replay?.ring_replay;
        if (ring) {
          const how = ring.reproduced ? 'the replay file holds that sim run\'s schedule'
            : r.replay?.replay_kind === 'sim-reproduced' ? 'the sim run with the failure\'s own options and seed failed the same way: the replay file holds its schedule'
            : 'nor did the sim run with its own options: the replay file is threads-only (the options, not the interleaving)';
          process.stdout.write(`  ${formatRingRecord(ring)}; ${how}\n`);
        }
        if (r.replay?.shrink) process.stdout.write(`  shrunk: ${r.replay.shrink.steps_before} -> ${r.replay.shrink.steps_after} steps, ${r.replay.shrink.decisions_before} -> ${r.replay.shrink.decisions_after} schedule decisions\n`);
        process.stdout.write(`  replay file: ${out}\n  replay with: ${replayFileCommand(out)}\n  as a story:  ${replayFileCommand(out)} --story\n`);
        if (typeof f.html === 'string') process.stdout.write(`  html report: ${f.html}\n`);
      } else {
        process.stdout.write(`hunt ${id}: not found in ${r.seeds_tried} seeds, ${r.seconds.toFixed(2)} s (${mode} mode)${h.fixed ? ' with the fix on' : ''}\n`);
      }
      setExit(r.found ? 0 : 1);
    });
}
