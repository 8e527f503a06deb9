/**
 * What the commands share: the program's error handling (exit codes, the one-line usage
 * error), the run flags of `run` and `compare` and their parsing, trace and report helpers.
 *
 * Exit codes: 0 clean, 1 violations found (for `hunt`: none found), 2 bad input (one line
 * naming the flag and what is accepted; nothing runs), 3 internal error.
 */
import { CommanderError, Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { WORKLOADS, findWorkload } from '../../workloads/index.js';
import {
  DEFAULTS, HOSTS, SWITCH_EVERY_MAX, UsageError, parseChoice, parseIntFlag, parseNumberFlag, parseSize, validate, type RunOptions,
} from '../machine/config.js';
import type { RunResult } from '../machine/run.js';
import { hintsimCommand, shellWord, writeOwnFile } from '../machine/invocation.js';
import { DEBUG_FAULTS } from '../core/debug.js';
import { INJECT_NAMES } from '../core/inject.js';
import { RACES } from '../core/races.js';
import { hostByName } from '../hosts/index.js';
import { STRATEGY_NAMES, findStrategy } from '../sim/strategies/index.js';
import type { Strategy } from '../machine/config.js';

/**
 * Write a replay file to --out, or to the tool's default name (`named`: false). A default
 * name is the tool's choice: it is created exclusively, never written through a link
 * planted under it. Any failure is a one-line usage error.
 */
export function writeReplayOut(out: string, named: boolean, text: string): void {
  try { (named ? writeFileSync : writeOwnFile)(out, text); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--out: cannot write '${out}': ${code === 'EEXIST' ? 'it exists and is not a plain file of yours (a link?); give --out FILE' : code ?? (e as Error).message}`);
  }
}

/** The --strategy choices (the registry's names). */
export const STRATEGY_CHOICES = STRATEGY_NAMES as readonly Strategy[];

/** --strategy's help: each strategy's name and what it is good for. */
export function strategyHelp(): string {
  return STRATEGY_NAMES.map((n) => `${n} (${findStrategy(n)!.help})`).join(' | ');
}

// The flag parsers every command uses, from one place.
export { UsageError, parseChoice, parseIntFlag, parseNumberFlag };

/** A command's action reports its exit code through this (0 unless it calls it). */
export type SetExit = (code: number) => void;

/** One command: registers itself (flags, help text, action) on the program. */
export type Register = (program: Command, setExit: SetExit) => void;

function collectOpt(value: string, prev: Record<string, string>): Record<string, string> {
  const m = /^([a-z_]+)=(.+)$/.exec(value);
  if (!m) throw new UsageError(`--opt: '${value}' is not key=value (e.g. --opt fill=40)`);
  return { ...prev, [m[1]]: m[2] };
}

/** The flags `run` and `compare` share, as commander hands them over (strings until parsed). */
export interface RawRunFlags {
  cpus?: string; mem?: string; hostMem?: string; seconds?: string; ops?: string; seed?: string;
  mode?: string; strategy?: string; depth?: string; hinting?: string; host?: string; ringSlots?: string; batch?: boolean; unfix?: string;
  debugFault?: string; inject?: string; injectPfn?: string; switchEvery?: string; pcpHigh?: string; pcpBatch?: string; watchdogMs?: string; opt?: Record<string, string>;
  json?: boolean;
  trace?: string;
  html?: string;
}

/** The run flags, checked one by one (a UsageError names the first bad one), as RunOptions. */
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
  if (f.strategy !== undefined) o.strategy = parseChoice('--strategy', f.strategy, STRATEGY_CHOICES);
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
    const hostOpts = hostByName(o.host).options ?? []; // a host's own options (e.g. --host cmma: migrate_at)
    const spec = w.options.find((x) => x.name === k) ?? hostOpts.find((x) => x.name === k);
    if (!spec) throw new UsageError(`--opt: workload ${w.name}${hostOpts.length ? ` and host ${o.host} have` : ' has'} no option '${k}'; accepted: ${[...w.options, ...hostOpts].map((x) => x.name).join(', ')}`);
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

/** Add the run flags (every knob of a machine run) to `run` and `compare`. */
export function addRunFlags(c: Command): Command {
  return c
    .option('--cpus <n>', 'guest CPUs (worker threads), 1..16', String(DEFAULTS.cpus))
    .option('--mem <size>', 'guest memory, 256K..512M (4 KiB frames; default 64M, or the workload\'s own)')
    .option('--host-mem <size>', 'host memory budget for the guest (default: half of --mem)')
    .option('--seconds <s>', `run for this long (default ${3} s unless --ops is given)`)
    .option('--ops <n>', 'run this many workload operations in total, split over the CPUs')
    .option('--seed <n>', 'seed for every random choice', String(DEFAULTS.seed))
    .option('--mode <mode>', 'threads (real parallel workers) | sim (deterministic: one participant at a time, seeded schedule)', 'threads')
    .option('--strategy <s>', `sim scheduling strategy: ${strategyHelp()}`, 'random')
    .option('--depth <d>', 'pct depth: d-1 priority-change points', '3')
    .option('--switch-every <n>', `random strategy: mean scheduling points between switch decisions, 1..${SWITCH_EVERY_MAX} (default ${DEFAULTS.switchEvery})`)
    .option('--hinting <mode>', 'off (blind host baseline) | unused (free pages hinted unused) | full (plus volatile page cache); default unused, or the workload\'s own')
    .option('--host <host>', 'essa (the s390 ESSA host, default) | xenpaging (Xen paging: a dom0 pager that knows nothing of guest page states, dom0 backends mapping guest frames; ESSA is a no-op) | shadow (KVM\'s shadow MMU of 2.6.2x: write-protected guest page tables, emulated pte writes, flood detection; the kscand workload\'s default) | reporting (free page reporting, Linux 5.7: the guest reports free blocks of order >= 9 after 2 s, the host discards them; --opt report_order/report_capacity/report_delay) | cmma (KVM s390 CMMA today: stable/unused ESSA per page, 511-entry block reuse list, reclaim drops unused pages; --opt migrate_at=N starts a migration)')
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
export function checkTracePath(path: string | undefined): void {
  if (path === undefined) return;
  try { writeFileSync(path, ''); } catch (e) {
    throw new UsageError(`--trace: cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Write the run's trace events to --trace's file, and leave them out of the result. */
export function writeTrace(path: string | undefined, r: RunResult): RunResult {
  if (path === undefined || !r.trace) return r;
  writeFileSync(path, JSON.stringify(r.trace));
  const { trace: _t, ...rest } = r;
  return rest;
}

/** This command line, as a user would type it again (for the report's footer). */
export function madeWith(): string {
  return [hintsimCommand(), ...process.argv.slice(2).map(shellWord)].join(' ');
}

/**
 * Parse argv with the commands registered in order and resolve with the exit code: the
 * action's, 0 for --help, 2 for bad input (one line on stderr), 3 for an internal error.
 */
export async function runCli(program: Command, commands: readonly Register[], argv: string[]): Promise<number> {
  program
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      // One line, named like our own errors, pointing at the list of what is accepted.
      outputError: (str, write) => write(`hintsim: ${str.split('\n')[0].replace(/^error: /, '')}; see '${hintsimCommand()} --help' and '${hintsimCommand()} <command> --help' for what is accepted\n`),
    });
  let code = 0;
  for (const register of commands) register(program, (c) => { code = c; });

  // Output piped into `head` and closed early: stop quietly, as other command-line tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

  try {
    await program.parseAsync(argv);
    return code;
  } catch (e: unknown) {
    if (e instanceof UsageError) { process.stderr.write(`hintsim: ${e.message}\n`); return 2; }
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`hintsim: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 3;
  }
}
