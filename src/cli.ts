#!/usr/bin/env node
/**
 * hintsim: the command line. One file per command in src/cli/, each exporting a register
 * function; this file creates the program, registers the commands in the order `--help`
 * lists them, and runs it. Exit codes: 0 clean, 1 violations found (for `hunt`: none
 * found), 2 bad input (one line naming the flag and what is accepted; nothing runs).
 */
import { Command } from 'commander';
import { runCli, type Register } from './cli/common.js';
import { registerRun } from './cli/run.js';
import { registerWorkloads } from './cli/workloads.js';
import { registerRaces } from './cli/races.js';
import { registerHunt } from './cli/hunt.js';
import { registerCheck } from './cli/check.js';
import { registerCorpus } from './cli/corpus.js';
import { registerMerge } from './cli/merge.js';
import { registerCompare } from './cli/compare.js';
import { registerReport } from './cli/report.js';
import { registerStress } from './cli/stress.js';
import { registerDemo } from './cli/demo.js';
import { registerReplay } from './cli/replay.js';
import { registerStates } from './cli/states.js';
import { registerBench } from './cli/bench.js';

const program = new Command()
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

Exit codes: 0 clean (hunt: found), 1 violations (hunt: not found), 2 bad input.`);

/** The commands, in the order `hintsim --help` lists them. A new command: one file in src/cli/, one line here. */
const COMMANDS: readonly Register[] = [
  registerRun,
  registerWorkloads,
  registerRaces,
  registerHunt,
  registerCheck,
  registerCorpus,
  registerCompare,
  registerReport,
  registerStress,
  registerMerge,
  registerDemo,
  registerReplay,
  registerStates,
  registerBench,
];

runCli(program, COMMANDS, process.argv).then((code) => { process.exitCode = code; });
