#!/usr/bin/env node
/**
 * hintsim: the command line. Exit codes: 0 clean, 1 violations found (for `hunt`: none
 * found), 2 bad input (one line naming the flag and what is accepted; nothing runs).
 */
import { Command, CommanderError, Option } from 'commander';
import { WORKLOADS, findWorkload } from '../workloads/index.js';
import {
  DEFAULTS, HOSTS, SWITCH_EVERY_MAX, UsageError, parseChoice, parseIntFlag, parseNumberFlag, parseSize, validate, type RunOptions,
} from './machine/config.js';
import { runMachine, type RunResult } from './machine/run.js';
import { DEBUG_FAULTS } from './core/debug.js';
import { INJECT_NAMES } from './core/inject.js';
import { RACES } from './core/races.js';
import { computeStates, statesDot } from './hosts/essa/states.js';
import { formatRunHuman, progressReporter, replayCommand } from './report/text.js';
import { SOAK_OPS_SIM, SOAK_OPS_THREADS, BENCH_NAMES, formatBench, formatBenchList, parseBenchOnly, runBench } from './bench/bench.js';
import { DEFAULT_JOBS, hunt, findRace } from './explore/hunt.js';
import { fromReplayOptions, readReplayFile } from './explore/replay_file.js';
import { writeFileSync } from 'node:fs';
import { demo } from './cli/demo.js';
import { compare, formatCompare } from './bench/compare.js';
import { STRESS_DEFAULT_SECONDS, cmdStress, type StressFlags } from './cli/stress.js';
import { STEER_SECONDS } from './explore/steer.js';
import { renderReport } from './report/html.js';
import {
  checkHtmlPath, loadReportInput, replayForReport, reproduced, withReportRecording, withoutReportRecording, writeHtml,
} from './report/input.js';

function collectOpt(value: string, prev: Record<string, string>): Record<string, string> {
  const m = /^([a-z_]+)=(.+)$/.exec(value);
  if (!m) throw new UsageError(`--opt: '${value}' is not key=value (e.g. --opt fill=40)`);
  return { ...prev, [m[1]]: m[2] };
}

interface RawRunFlags {
  cpus?: string; mem?: string; hostMem?: string; seconds?: string; ops?: string; seed?: string;
  mode?: string; strategy?: string; depth?: string; hinting?: string; host?: string; ringSlots?: string; batch?: boolean; unfix?: string;
  debugFault?: string; inject?: string; injectPfn?: string; switchEvery?: string; pcpHigh?: string; pcpBatch?: string; watchdogMs?: string; opt?: Record<string, string>;
  json?: boolean;
  trace?: string;
  html?: string;
}

export function buildRunOptions(workload: string | undefined, f: RawRunFlags): RunOptions {
  const o: RunOptions = { ...DEFAULTS, workloadOptions: {} };
  o.workload = workload ?? DEFAULTS.workload;
  const w = findWorkload(o.workload);
  if (!w) throw new UsageError(`unknown workload '${o.workload}'; accepted: ${WORKLOADS.map((x) => x.name).join(', ')}`);
  if (f.cpus !== undefined) o.cpus = parseIntFlag('--cpus', f.cpus, 1, 16);
  if (w.defaults?.memBytes !== undefined) o.memBytes = w.defaults.memBytes;
  if (w.defaults?.hinting !== undefined) o.hinting = w.defaults.hinting;
  if (w.defaults?.host !== undefined) o.host = w.defaults.host;
  if (f.mem !== undefined) o.memBytes = parseSize('--mem', f.mem);
  if (f.hostMem !== undefined) o.hostMemBytes = parseSize('--host-mem', f.hostMem);
  if (f.seconds !== undefined) o.seconds = parseNumberFlag('--seconds', f.seconds, 0.01, 86400);
  if (f.ops !== undefined) o.ops = parseIntFlag('--ops', f.ops, 1, 1e12);
  if (f.seed !== undefined) o.seed = parseIntFlag('--seed', f.seed, 0, 0x7fffffff);
  if (f.mode !== undefined) o.mode = parseChoice('--mode', f.mode, ['threads', 'sim'] as const);
  if (f.strategy !== undefined) o.strategy = parseChoice('--strategy', f.strategy, ['pct', 'random'] as const);
  if (f.depth !== undefined) o.depth = parseIntFlag('--depth', f.depth, 1, 64);
  if (f.switchEvery !== undefined) o.switchEvery = parseIntFlag('--switch-every', f.switchEvery, 1, SWITCH_EVERY_MAX);
  if (f.hinting !== undefined) o.hinting = parseChoice('--hinting', f.hinting, ['off', 'unused', 'full'] as const);
  if (f.host !== undefined) o.host = parseChoice('--host', f.host, HOSTS);
  if (f.ringSlots !== undefined) o.ringSlots = parseIntFlag('--ring-slots', f.ringSlots, 2, 64);
  if (f.batch === false) o.batch = false;
  if (f.unfix !== undefined) {
    const ids = f.unfix.split(',').map((s) => s.trim()).filter(Boolean);
    for (const id of ids) {
      if (!RACES.some((r) => r.id === id)) {
        throw new UsageError(`--unfix: unknown race id '${id}'; accepted: ${RACES.length ? RACES.map((r) => r.id).join(', ') : '(no race toggles are modelled yet)'}`);
      }
    }
    o.unfix = ids;
  }
  if (f.debugFault !== undefined) {
    const ids = f.debugFault.split(',').map((s) => s.trim()).filter(Boolean);
    for (const id of ids) parseChoice('--debug-fault', id, Object.keys(DEBUG_FAULTS));
    o.debugFaults = ids;
  }
  if (f.inject !== undefined) o.inject = parseInject(f.inject);
  if (f.injectPfn !== undefined) o.injectPfn = parseIntFlag('--inject-pfn', f.injectPfn, 0, o.memBytes / 4096 - 1);
  if (f.pcpHigh !== undefined) o.pcpHigh = parseIntFlag('--pcp-high', f.pcpHigh, 1, 4096);
  if (f.pcpBatch !== undefined) o.pcpBatch = parseIntFlag('--pcp-batch', f.pcpBatch, 1, 512);
  if (f.watchdogMs !== undefined) o.watchdogMs = parseIntFlag('--watchdog-ms', f.watchdogMs, 50, 600000);
  for (const [k, val] of Object.entries(f.opt ?? {})) {
    const spec = w.options.find((x) => x.name === k);
    if (!spec) throw new UsageError(`--opt: workload ${w.name} has no option '${k}'; accepted: ${w.options.map((x) => x.name).join(', ')}`);
    o.workloadOptions[k] = parseNumberFlag(`--opt ${k}`, val, spec.min, spec.max);
  }
  validate(o);
  return o;
}

/** --inject a,b,c: fault-injection point names (inject.ts), in a fixed order. */
export function parseInject(text: string): string[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) parseChoice('--inject', id, INJECT_NAMES);
  return INJECT_NAMES.filter((n) => ids.includes(n));
}

function addRunFlags(c: Command): Command {
  return c
    .option('--cpus <n>', 'guest CPUs (worker threads), 1..16', String(DEFAULTS.cpus))
    .option('--mem <size>', 'guest memory, 256K..512M (4 KiB frames; default 64M, or the workload\'s own)')
    .option('--host-mem <size>', 'host memory budget for the guest (default: half of --mem)')
    .option('--seconds <s>', `run for this long (default ${3} s unless --ops is given)`)
    .option('--ops <n>', 'run this many workload operations in total, split over the CPUs')
    .option('--seed <n>', 'seed for every random choice', String(DEFAULTS.seed))
    .option('--mode <mode>', 'threads (real parallel workers) | sim (deterministic: one participant at a time, seeded schedule)', 'threads')
    .option('--strategy <s>', 'sim scheduling strategy: random (a switch every 16 points on average) | pct (priority-change points)', 'random')
    .option('--depth <d>', 'pct depth: d-1 priority-change points', '3')
    .option('--switch-every <n>', `random strategy: mean scheduling points between switch decisions, 1..${SWITCH_EVERY_MAX} (default ${DEFAULTS.switchEvery})`)
    .option('--hinting <mode>', 'off (blind host baseline) | unused (free pages hinted unused) | full (plus volatile page cache); default unused, or the workload\'s own')
    .option('--host <host>', 'essa (the s390 ESSA host, default) | xenpaging (Xen paging: a dom0 pager that knows nothing of guest page states, dom0 backends mapping guest frames; ESSA is a no-op) | shadow (KVM\'s shadow MMU of 2.6.2x: write-protected guest page tables, emulated pte writes, flood detection; the kscand workload\'s default)')
    .option('--ring-slots <n>', 'xenpaging: mem_event ring slots, a power of two 2..64 (default 64)')
    .option('--no-batch', 'issue one ESSA per page instead of batched host calls at the pcp<->buddy boundary')
    .option('--unfix <ids>', 'comma-separated race ids whose fix is switched off (see `hintsim races`)')
    .option('--opt <key=value>', 'workload option (repeatable; see `hintsim workloads`)', collectOpt, {})
    .option('--pcp-high <n>', 'per-CPU hot list high watermark (default 6 x batch)')
    .option('--pcp-batch <n>', 'pages moved per pcp refill/drain (default from memory size, like zone_batchsize)')
    .option('--watchdog-ms <ms>', 'liveness: a CPU with no progress for this long is a violation (threads mode: time every thread could run)', String(DEFAULTS.watchdogMs))
    .option('--inject <points>', `fault injection at named points (seeded; deterministic in sim mode): ${INJECT_NAMES.join(', ')}`)
    .option('--inject-pfn <pfn>', 'favour this page at the injection points: its stalls fire 3 times in 4, host-reclaim-touched takes only it')
    .addOption(new Option('--debug-fault <names>', `plant a bug to prove an oracle fires: ${Object.keys(DEBUG_FAULTS).join(', ')}`).hideHelp())
    .option('--json', 'print one JSON object instead of the summary')
    .option('--trace <file>', 'write a Chrome trace-event JSON file (open it in Perfetto: ui.perfetto.dev)');
}

/** Check up front that a trace file can be written (nothing runs if it cannot). */
function checkTracePath(path: string | undefined): void {
  if (path === undefined) return;
  try { writeFileSync(path, ''); } catch (e) {
    throw new UsageError(`--trace: cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function writeTrace(path: string | undefined, r: RunResult): RunResult {
  if (path === undefined || !r.trace) return r;
  writeFileSync(path, JSON.stringify(r.trace));
  const { trace: _t, ...rest } = r;
  return rest;
}

/** This command line, as a user would type it again (for the report's footer). */
function madeWith(): string {
  return ['hintsim', ...process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))].join(' ');
}

async function cmdRun(workload: string | undefined, flags: RawRunFlags): Promise<number> {
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

function main(argv: string[]): Promise<number> {
  const program = new Command();
  let code = 0;
  program
    .name('hintsim')
    .description('Simulator of guest page hinting (s390 ESSA / CMMA): guest CPUs as worker threads over one shared ' +
      'memory, a host that reclaims, discards and pages out, and oracles that name the invariant that broke.')
    .addHelpText('after', `
Examples:
  hintsim demo                                  reproduce free-vs-discard, replay it, show the fix
  hintsim run file-churn --hinting full         page cache, volatile pages, discard faults (threads)
  hintsim run mixed --mode sim --seed 7         deterministic: same seed, same JSON and trace_hash
  hintsim hunt discard-grace                    find a race with its fix off; writes a replay file
  hintsim replay discard-grace.replay.json --trace t.json    replay exactly; open t.json in Perfetto
  hintsim compare file-churn --mode sim         host I/O with hinting off / unused / full

Exit codes: 0 clean (hunt: found), 1 violations (hunt: not found), 2 bad input.`)
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      // One line, named like our own errors, pointing at the list of what is accepted.
      outputError: (str, write) => write(`hintsim: ${str.split('\n')[0].replace(/^error: /, '')}; see 'hintsim --help' and 'hintsim <command> --help' for what is accepted\n`),
    });

  addRunFlags(program.command('run [workload]')
    .description(`run a workload (default ${DEFAULTS.workload}) and report counters and violations`))
    .option('--html <file>', 'also write a self-contained HTML report (records trace events and the schedule for its timeline)')
    .action(async (wl: string | undefined, flags: RawRunFlags) => { code = await cmdRun(wl, flags); });

  program.command('workloads').description('list the workloads and their options')
    .option('--json', 'machine-readable')
    .action((f: { json?: boolean }) => {
      if (f.json) { process.stdout.write(JSON.stringify(WORKLOADS.map((w) => ({ name: w.name, description: w.description, options: w.options, oracles: w.oracles })), null, 2) + '\n'); return; }
      for (const w of WORKLOADS) {
        process.stdout.write(`${w.name}\n  ${w.description}\n  oracles: ${w.oracles.join(', ')}\n`);
        for (const op of w.options) process.stdout.write(`  --opt ${op.name}=N   ${op.description} (default ${op.default}, ${op.min}..${op.max})\n`);
      }
    });

  program.command('races').description('list the race catalogue (fix toggles for --unfix, targets for hunt)')
    .option('--json', 'machine-readable')
    .option('--markdown', 'a Markdown table (the README\'s)')
    .action((f: { json?: boolean; markdown?: boolean }) => {
      if (f.json) { process.stdout.write(JSON.stringify(RACES, null, 2) + '\n'); return; }
      if (f.markdown) {
        process.stdout.write('| id | host | race | oracle | fix | source | reproduced |\n|---|---|---|---|---|---|---|\n');
        for (const r of RACES) process.stdout.write(`| \`${r.id}\` | ${r.host} | ${r.catalogue}: ${r.name} | ${r.oracle} | ${r.fix} | ${r.source} | ${r.reproduced ? 'yes' : 'not yet'} |\n`);
        return;
      }
      for (const r of RACES) {
        process.stdout.write(`${r.id}  (${r.catalogue}, ${r.host} host) ${r.name}${r.reproduced ? '' : '   [not reproduced by a hunt yet]'}\n`);
        r.interleaving.forEach((s, i) => process.stdout.write(`    ${i + 1}. ${s}\n`));
        process.stdout.write(`    oracle: ${r.oracle}   fix: ${r.fix}\n    source: ${r.source}   hunted on: ${r.workload}${r.host !== 'essa' ? ` with --host ${r.host}` : ''}` +
          `${r.also_unfix?.length ? ` (also unfixed: ${r.also_unfix.join(', ')})` : ''}\n\n`);
      }
    });

  program.command('hunt <id>').description('search seeds with one fix off until its race\'s oracle fires; write a replay file')
    .option('--seeds <n>', 'seeds to try (in this shard)', '400')
    .option('--seconds <s>', 'give up after this long', '120')
    .option('--jobs <j>', 'parallel runs (piscina threads)', String(DEFAULT_JOBS()))
    .option('--shard <k/n>', 'run the k-th of n slices of the seed space (seeds k, k+n, k+2n, ...)', '1/1')
    .option('--mode <mode>', 'sim (deterministic, replayable, shrinkable) | threads', 'sim')
    .option('--strategy <s>', 'sim strategy: random | pct', 'random')
    .option('--depth <d>', 'pct depth', '3')
    .option('--cpus <n>', 'guest CPUs (default: what the race needs, 2 or 3; see hintsim races)')
    .option('--no-shrink', 'keep the schedule as found')
    .option('--shrink-seconds <s>', 'time budget for shrinking', '10')
    .option('--fixed', 'control: hunt with the fix on (should find nothing)')
    .option('--host <host>', 'essa | xenpaging | shadow: must be the race\'s own host (hunts run on it anyway; see hintsim races)')
    .option('--out <file>', 'replay file to write (default <id>.replay.json)')
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
        strategy: parseChoice('--strategy', String(f.strategy), ['pct', 'random'] as const), depth: parseIntFlag('--depth', String(f.depth), 1, 16),
        cpus: f.cpus === undefined ? null : parseIntFlag('--cpus', String(f.cpus), 1, 16), shrink: f.shrink !== false && mode === 'sim', shrinkSeconds: parseNumberFlag('--shrink-seconds', String(f.shrinkSeconds), 0.1, 3600), fixed: !!f.fixed,
        progress: !f.json && process.stderr.isTTY ? (d: number, t: number) => process.stderr.write(`\rhunt ${id}: ${d}/${t} seeds`) : undefined,
      };
      const out = String(f.out ?? `${id}.replay.json`);
      const r = await hunt(h);
      if (h.progress) process.stderr.write('\n');
      if (r.found && r.replay) writeFileSync(out, JSON.stringify(r.replay, null, 2) + '\n');
      if (typeof f.html === 'string') {
        const hs = { race: r.race, found: r.found, seed: r.seed, seeds_tried: r.seeds_tried, seconds: r.seconds, replay_file: r.found ? out : null, violation: r.violation, shrink: r.replay?.shrink ?? null };
        const page = r.found && r.replay ? { ...(await replayForReport(r.replay, out, madeWith())), kind: 'hunt' as const, hunt: hs }
          : { kind: 'hunt' as const, result: null, command: null, madeWith: madeWith(), hunt: hs };
        writeHtml(f.html, await renderReport(page));
      }
      if (f.json) {
        process.stdout.write(JSON.stringify({ ...r, replay_file: r.found ? out : null, replay: undefined, schedule: r.replay?.shrink ?? null }, null, 2) + '\n');
      } else if (r.found && r.violation) {
        const v = r.violation;
        process.stdout.write(`hunt ${id}: found with seed ${r.seed} after ${r.seeds_tried} seeds in ${r.seconds.toFixed(2)} s (${mode} mode)\n`);
        process.stdout.write(`  [${v.oracle}] pfn ${v.pfn}, participant ${v.cpu}, step ${v.step}: ${v.message}\n`);
        if (r.replay?.shrink) process.stdout.write(`  shrunk: ${r.replay.shrink.steps_before} -> ${r.replay.shrink.steps_after} steps, ${r.replay.shrink.decisions_before} -> ${r.replay.shrink.decisions_after} schedule decisions\n`);
        process.stdout.write(`  replay file: ${out}\n  replay with: hintsim replay ${out}\n`);
        if (typeof f.html === 'string') process.stdout.write(`  html report: ${f.html}\n`);
      } else {
        process.stdout.write(`hunt ${id}: not found in ${r.seeds_tried} seeds, ${r.seconds.toFixed(2)} s (${mode} mode)${h.fixed ? ' with the fix on' : ''}\n`);
      }
      code = r.found ? 0 : 1;
    });

  addRunFlags(program.command('compare [workload]')
    .description('run the same workload and seed with hinting off, unused and full; compare host I/O (--host xenpaging adds Xen paging)'))
    .action(async (wl: string | undefined, flags: RawRunFlags) => {
      if (flags.hinting !== undefined) throw new UsageError('--hinting: compare runs all three modes itself; leave it out');
      const o = buildRunOptions(wl, flags);
      const rows = await compare(o, flags.host === 'xenpaging');
      if (flags.json) process.stdout.write(JSON.stringify({ workload: o.workload, seed: o.seed, mode: o.mode, rows }, null, 2) + '\n');
      else process.stdout.write(formatCompare(rows, `hintsim compare ${o.workload}: seed ${o.seed}, ${o.mode} mode, ${o.cpus} CPUs, ${o.ops !== null ? `${o.ops} ops` : `${o.seconds ?? 3} s`} each`));
      code = rows.some((r) => r.violations > 0) ? 1 : 0;
    });

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

  program.command('stress').description('many short swarm runs in parallel, each with its own options and fault injection; failures become replay files')
    .option('--seconds <s>', `wall-clock budget for starting runs (default ${STRESS_DEFAULT_SECONDS} unless --ops is given)`)
    .option('--ops <n>', 'total guest operations budget instead of time')
    .option('--jobs <j>', 'runs in parallel (piscina threads)', String(DEFAULT_JOBS()))
    .option('--mode <mode>', 'threads | sim (deterministic: every run replayable and shrinkable)', 'threads')
    .option('--seed <n>', 'stress seed: run i gets options drawn from (seed, i) (default: a fresh one, printed first)')
    .option('--unfix <ids>', 'switch these fixes off in every run (see `hintsim races`)')
    .option('--out <dir>', 'directory for replay files, made only if a run fails (default stress-<seed>)')
    .option('--shrink-seconds <s>', 'time budget for shrinking each failure (sim schedules)', '10')
    .option('--steer-seconds <s>', `time budget for finding each threads-mode failure again in sim mode, steered by its oracle, page and message (0: only a sim run with its own options)`, String(STEER_SECONDS))
    .option('--steer <files>', 'no swarm runs: search sim schedules for these threads-only replay files (comma-separated), writing replay files to --out')
    .addOption(new Option('--debug-fault <names>', `plant a bug in every run (tests of the failure paths): ${Object.keys(DEBUG_FAULTS).join(', ')}`).hideHelp())
    .option('--run <i,j>', 're-run only these run indices of --seed (as printed for a failure)')
    .option('--quiet', 'no progress on stderr')
    .option('--json', 'one JSON object: runs, ops, failures by oracle, coverage with what was never reached')
    .action(async (f: StressFlags) => { code = await cmdStress(f); });

  program.command('demo').description('what npm start runs: reproduce free-vs-discard, replay it, and show the fix')
    .action(async () => { code = await demo((s) => process.stdout.write(s)); });

  program.command('replay <file>').description('re-run a replay file written by hunt and check it gives the same violation')
    .option('--json', 'print the run result as JSON')
    .option('--trace <file>', 'write a Chrome trace-event JSON file of the replayed run')
    .option('--html <file>', 'also write a self-contained HTML report of the replayed run')
    .option('--host <host>', 'essa | xenpaging | shadow: must match the host the file was recorded with')
    .action(async (file: string, f: { json?: boolean; trace?: string; html?: string; host?: string }) => {
      const rf = readReplayFile(file);
      const fileHost = rf.options.host ?? 'essa';
      if (f.host !== undefined && parseChoice('--host', f.host, HOSTS) !== fileHost) {
        throw new UsageError(`--host: '${file}' was recorded with --host ${fileHost}; leave --host out or give --host ${fileHost}`);
      }
      checkTracePath(f.trace);
      if (f.html !== undefined) checkHtmlPath(f.html);
      const o = { ...fromReplayOptions(rf.options, rf.seed, rf.schedule), trace: f.trace !== undefined };
      let r = await runMachine(f.html !== undefined ? withReportRecording(o) : o);
      const same = reproduced(rf, r);
      if (f.html !== undefined) {
        writeHtml(f.html, await renderReport({ kind: 'replay', result: r, command: `hintsim replay ${file}`, madeWith: madeWith(), replay: { file, reproduced: same, expected: rf.expected } }));
      }
      r = withoutReportRecording(writeTrace(f.trace, r), o);
      if (f.json) process.stdout.write(JSON.stringify({ ...r, replay: { file, reproduced: same, expected: rf.expected } }, null, 2) + '\n');
      else {
        process.stdout.write(formatRunHuman(r, `hintsim replay ${file}`));
        process.stdout.write(same ? `replay: reproduced the ${rf.expected.oracle} violation${rf.schedule ? ` at step ${rf.expected.step}, pfn ${rf.expected.pfn}` : ''}\n`
          : `replay: did NOT reproduce the expected ${rf.expected.oracle} violation (step ${rf.expected.step}, pfn ${rf.expected.pfn})\n`);
        if (f.html !== undefined) process.stdout.write(`html report: ${f.html}\n`);
      }
      code = r.violations.length > 0 ? 1 : 0;
    });

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

  program.command('bench').description('benchmarks, each as a ratio against a baseline measured in the same run')
    .option('--list', 'the entries, one line each, and exit')
    .option('--only <names>', `run only these entries (comma-separated): ${BENCH_NAMES.join(', ')}`)
    .option('--all', 'every entry, the long soak included (default: every entry but soak)')
    .option('--json', 'machine-readable')
    .option('--quick', 'shorter measurements (noisier)')
    .option('--soak-ops-threads <n>', `soak: guest ops in threads mode (default ${SOAK_OPS_THREADS.toLocaleString('en-US')}; 0 skips the mode; e.g. --only soak --soak-ops-threads 200000 --soak-ops-sim 5000 for a quick look)`)
    .option('--soak-ops-sim <n>', `soak: guest ops in sim mode (default ${SOAK_OPS_SIM.toLocaleString('en-US')}; 0 skips the mode)`)
    .option('--soak-seed <n>', 'soak: stress seed (default a fresh one, printed; the sim half is a pure function of it and its ops)')
    .option('--soak-out <dir>', 'soak: directory for replay files of failing runs, made only if one fails (default bench-soak-<seed>)')
    .option('--host <host>', 'only one host\'s entries: shadow (the kscand pathology under KVM\'s shadow MMU, time to find the K races)')
    .addOption(new Option('--debug-fault <names>', `soak: plant a bug in every run (tests of the failure counts): ${Object.keys(DEBUG_FAULTS).join(', ')}`).hideHelp())
    .action(async (f: {
      debugFault?: string; list?: boolean; only?: string; all?: boolean; json?: boolean; quick?: boolean; soakOpsThreads?: string; soakOpsSim?: string; soakSeed?: string; soakOut?: string; host?: string;
    }) => {
      if (f.list && (f.only !== undefined || f.all)) throw new UsageError('--list: it only lists the entries; leave --only and --all out');
      if (f.only !== undefined && f.all) throw new UsageError('--only: give --only or --all, not both');
      const only = f.only !== undefined ? parseBenchOnly(f.only) : f.all ? [...BENCH_NAMES] : null;
      const soakOpsThreads = f.soakOpsThreads !== undefined ? parseIntFlag('--soak-ops-threads', f.soakOpsThreads, 0, 1e13) : undefined;
      const soakOpsSim = f.soakOpsSim !== undefined ? parseIntFlag('--soak-ops-sim', f.soakOpsSim, 0, 1e12) : undefined;
      const soakSeed = f.soakSeed !== undefined ? parseIntFlag('--soak-seed', f.soakSeed, 0, 0x7fffffff) : undefined;
      const host = f.host !== undefined ? parseChoice('--host', f.host, ['shadow'] as const) : undefined;
      if (host !== undefined && only !== null) throw new UsageError('--host: it picks its own entries; leave --only and --all out');
      const soakFlag = [['--soak-ops-threads', soakOpsThreads], ['--soak-ops-sim', soakOpsSim], ['--soak-seed', soakSeed], ['--soak-out', f.soakOut], ['--debug-fault', f.debugFault]].find(([, v]) => v !== undefined);
      if (soakFlag && !(only ?? []).includes('soak')) throw new UsageError(`${soakFlag[0]}: the soak runs only when asked for; add --only soak (or --all)`);
      const debugFaults = f.debugFault !== undefined ? f.debugFault.split(',').map((x) => parseChoice('--debug-fault', x.trim(), Object.keys(DEBUG_FAULTS))) : undefined;
      if (f.list) { process.stdout.write(formatBenchList()); return; }
      const b = await runBench({ quick: !!f.quick, only, host, soakOpsThreads, soakOpsSim, soakSeed, soakOut: f.soakOut, soakDebugFaults: debugFaults, log: f.json ? () => {} : (m) => process.stderr.write(m + '\n') });
      process.stdout.write(f.json ? JSON.stringify(b, null, 2) + '\n' : formatBench(b));
      code = (b.soak?.threads?.failed_runs ?? 0) + (b.soak?.sim?.failed_runs ?? 0) > 0 ? 1 : 0;
    });

  return program.parseAsync(argv).then(() => code);
}

// Output piped into `head` and closed early: stop quietly, as other command-line tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof UsageError) { process.stderr.write(`hintsim: ${e.message}\n`); process.exitCode = 2; return; }
    if (e instanceof CommanderError) {
      process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`hintsim: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 3;
  },
);
