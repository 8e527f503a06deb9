/**
 * The `hintsim stress` command: flags, progress on stderr, the summary or JSON on stdout.
 * Exit 0 clean, 1 when any run reported a violation, 2 on bad input (a UsageError).
 */
import { randomInt } from 'node:crypto';
import { Option, type Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { DEBUG_FAULTS } from '../core/debug.js';
import { RACES } from '../core/races.js';
import { readReplayFile, type ReplayFile } from '../explore/replay_file.js';
import { DEFAULT_CORPUS } from '../explore/corpus.js';
import { STEER_SECONDS } from '../explore/steer.js';
import { DEFAULT_JOBS } from '../explore/hunt.js';
import { DEFAULT_SHRINK_SECONDS } from '../explore/shrink.js';
import { SHRINK_PER_ORACLE, formatStress, stress, type StressOptions, type StressProgress } from '../explore/stress.js';
import { replayFileCommand } from '../machine/invocation.js';
import { STRATEGY_CHOICES, UsageError, parseChoice, strategyHelp, parseIntFlag, parseNumberFlag, type SetExit } from './common.js';

export interface StressFlags {
  seconds?: string; ops?: string; jobs?: string; mode?: string; seed?: string; json?: boolean; unfix?: string;
  out?: string; corpus?: string | false; strategy?: string; shrinkSeconds?: string; steerSeconds?: string; steer?: string; debugFault?: string; run?: string; quiet?: boolean;
}

export const STRESS_DEFAULT_SECONDS = 60;
const SUMMARY_EVERY_MS = 10_000;

function parseUnfixList(text: string): string[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!RACES.some((r) => r.id === id)) throw new UsageError(`--unfix: unknown race id '${id}'; accepted: ${RACES.map((r) => r.id).join(', ')}`);
  }
  return ids;
}

/** --steer a,b: threads-only replay files (each read and checked; one-line errors). */
function parseSteerFiles(text: string): { file: string; replay: ReplayFile }[] {
  const files = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (files.length === 0) throw new UsageError(`--steer: '${text}' names no file; give threads-only replay files written by stress, comma-separated`);
  return files.map((file) => {
    let replay: ReplayFile;
    try { replay = readReplayFile(file); } catch (e) {
      throw new UsageError(`--steer: ${(e as Error).message.replace(/^replay: /, '')}`);
    }
    if (replay.schedule !== null || replay.options.mode !== 'threads') {
      throw new UsageError(`--steer: '${file}' is not threads-only (it has a sim schedule or sim mode); replay it with '${replayFileCommand(file)}'`);
    }
    return { file, replay };
  });
}

function parseDebugFaults(text: string): string[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw new UsageError(`--debug-fault: '${text}' names no planted bug; accepted: ${Object.keys(DEBUG_FAULTS).join(', ')}`);
  for (const id of ids) parseChoice('--debug-fault', id, Object.keys(DEBUG_FAULTS));
  return ids;
}

export function buildStressOptions(f: StressFlags): StressOptions {
  if (f.seconds !== undefined && f.ops !== undefined) throw new UsageError('--seconds and --ops: give one of them, not both');
  if (f.steer !== undefined) {
    for (const [flag, v] of [['--seconds', f.seconds], ['--ops', f.ops], ['--run', f.run], ['--unfix', f.unfix], ['--debug-fault', f.debugFault]] as const) {
      if (v !== undefined) throw new UsageError(`${flag}: --steer runs no swarm runs, it searches the files' own failures; leave ${flag} out`);
    }
    if (f.mode !== undefined && f.mode !== 'threads') throw new UsageError('--mode: --steer searches threads-mode failures in sim mode; leave --mode out');
  }
  const seed = f.seed !== undefined ? parseIntFlag('--seed', f.seed, 0, 0x7fffffff) : randomInt(1, 0x7fffffff);
  let only: number[] | null = null;
  if (f.run !== undefined) {
    if (f.seed === undefined) throw new UsageError('--run: give the --seed the run indices belong to (as printed for a failure)');
    only = f.run.split(',').map((s) => parseIntFlag('--run', s.trim(), 0, 1e9));
    if (only.length === 0) throw new UsageError(`--run: '${f.run}' names no run; give indices like 3 or 3,17`);
  }
  const ops = f.ops !== undefined ? parseIntFlag('--ops', f.ops, 1, 1e13) : null;
  return {
    seed,
    seconds: ops !== null ? null : f.seconds !== undefined ? parseNumberFlag('--seconds', f.seconds, 0.1, 86400 * 7) : STRESS_DEFAULT_SECONDS,
    ops,
    jobs: f.jobs !== undefined ? parseIntFlag('--jobs', f.jobs, 1, 64) : DEFAULT_JOBS(),
    mode: f.mode !== undefined ? parseChoice('--mode', f.mode, ['threads', 'sim'] as const) : 'threads',
    unfix: f.unfix !== undefined ? parseUnfixList(f.unfix) : [],
    out: f.out ?? `stress-${seed}`,
    corpus: f.corpus === false ? null : f.corpus ?? DEFAULT_CORPUS,
    strategy: f.strategy !== undefined ? parseChoice('--strategy', f.strategy, STRATEGY_CHOICES) : null,
    shrinkSeconds: f.shrinkSeconds !== undefined ? parseNumberFlag('--shrink-seconds', f.shrinkSeconds, 0, 3600) : DEFAULT_SHRINK_SECONDS,
    only,
    steerSeconds: f.steerSeconds !== undefined ? parseNumberFlag('--steer-seconds', f.steerSeconds, 0, 3600) : STEER_SECONDS,
    ...(f.debugFault !== undefined ? { debugFaults: parseDebugFaults(f.debugFault) } : {}),
    ...(f.steer !== undefined ? { steer: parseSteerFiles(f.steer) } : {}),
  };
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

function left(p: StressProgress): string {
  if (p.totalMs !== null) return `${Math.max(0, (p.totalMs - p.elapsedMs) / 1000).toFixed(0)} s left`;
  if (p.totalOps !== null) return `${n(p.ops)}/${n(p.totalOps)} ops`;
  return `${p.inflight} running`;
}

/** Live bar on a terminal, a line every 10 s otherwise; null when quiet. */
function progressSink(quiet: boolean): { update: (p: StressProgress) => void; stop: () => void; everyMs: number } | null {
  if (quiet) return null;
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: 'stress {bar} {percentage}% | {runs} runs | {ops} ops | {rate} ops/s | violations {viol} | {left}',
      stream: process.stderr, hideCursor: true, clearOnComplete: true,
    });
    let started = false;
    return {
      everyMs: 250,
      update(p) {
        const total = p.totalMs ?? p.totalOps ?? 1;
        const value = p.totalMs !== null ? Math.min(p.elapsedMs, p.totalMs) : p.totalOps !== null ? Math.min(p.ops, p.totalOps) : 0;
        const payload = { runs: n(p.runs), ops: n(p.ops), rate: n(p.ops / Math.max(p.elapsedMs / 1000, 1e-3)), viol: p.violations, left: left(p) };
        if (!started) { bar.start(total, value, payload); started = true; } else bar.update(value, payload);
      },
      stop() { if (started) bar.stop(); },
    };
  }
  return {
    everyMs: SUMMARY_EVERY_MS,
    update(p) {
      process.stderr.write(`stress: ${(p.elapsedMs / 1000).toFixed(0)} s, ${n(p.runs)} runs, ${n(p.ops)} ops (${n(p.ops / Math.max(p.elapsedMs / 1000, 1e-3))} ops/s), ${p.violations} violations, ${left(p)}\n`);
    },
    stop() { /* nothing pending */ },
  };
}

export async function cmdStress(f: StressFlags): Promise<number> {
  const o = buildStressOptions(f);
  const sink = progressSink(!!f.quiet);
  if (!f.quiet) {
    const budget = o.steer ? `steering ${o.steer.length} threads-only file${o.steer.length === 1 ? '' : 's'}` : o.only ? `runs ${o.only.join(',')}` : o.ops !== null ? `${n(o.ops)} ops` : `${o.seconds} s`;
    process.stderr.write(`hintsim stress: seed ${o.seed}, ${o.mode} mode, ${o.jobs} jobs, ${budget}${o.unfix.length ? `, unfixed: ${o.unfix.join(',')}` : ''}\n`);
  }
  let r;
  try {
    r = await stress({ ...o, ...(sink ? { onProgress: sink.update, progressEveryMs: sink.everyMs } : {}) });
  } finally {
    sink?.stop();
  }
  process.stdout.write(f.json ? JSON.stringify(r, null, 2) + '\n' : formatStress(r));
  return r.failed_runs > 0 ? 1 : 0;
}

export function registerStress(program: Command, setExit: SetExit): void {
  program.command('stress').description('many short swarm runs in parallel, each with its own options and fault injection; failures become replay files')
    .option('--seconds <s>', `wall-clock budget for starting runs (default ${STRESS_DEFAULT_SECONDS} unless --ops is given)`)
    .option('--ops <n>', 'total guest operations budget instead of time')
    .option('--jobs <j>', 'runs in parallel (piscina threads)', String(DEFAULT_JOBS()))
    .option('--mode <mode>', 'threads | sim (deterministic: every run replayable and shrinkable)', 'threads')
    .option('--seed <n>', 'stress seed: run i gets options drawn from (seed, i) (default: a fresh one, printed first)')
    .option('--unfix <ids>', 'switch these fixes off in every run (see `hintsim races`)')
    .option('--out <dir>', 'directory for replay files, made only if a run fails (default stress-<seed>)')
    .option('--corpus <dir>', `failure corpus: each replay file is also kept there (default ${DEFAULT_CORPUS}; see hintsim corpus)`)
    .option('--no-corpus', 'keep no copy in the failure corpus')
    .option('--strategy <s>', `sim mode: every run uses this strategy instead of the swarm's draw (random or pct): ${strategyHelp()}`)
    .option('--shrink-seconds <s>', `cap on the time spent shrinking each failure (sim schedules; the first ${SHRINK_PER_ORACLE} of each oracle): it stops earlier when nothing more comes off; hunt's default, which the shrunk-length goals are measured with (0: keep the schedule as found)`, String(DEFAULT_SHRINK_SECONDS))
    .option('--steer-seconds <s>', `time budget for finding each threads-mode failure again in sim mode, steered by its oracle, page and message (0: only a sim run with its own options)`, String(STEER_SECONDS))
    .option('--steer <files>', 'no swarm runs: search sim schedules for these threads-only replay files (comma-separated), writing replay files to --out')
    .addOption(new Option('--debug-fault <names>', `plant a bug in every run (tests of the failure paths): ${Object.keys(DEBUG_FAULTS).join(', ')}`).hideHelp())
    .option('--run <i,j>', 're-run only these run indices of --seed (as printed for a failure)')
    .option('--quiet', 'no progress on stderr')
    .option('--json', 'one JSON object: runs, ops, failures by oracle, coverage with what was never reached')
    .action(async (f: StressFlags) => { setExit(await cmdStress(f)); });
}
