/** `hintsim bench`: benchmarks as ratios against a baseline of the same run; exit 1 when a soak run failed. */
import { Option, type Command } from 'commander';
import { DEBUG_FAULTS } from '../core/debug.js';
import { SOAK_OPS_SIM, SOAK_OPS_THREADS, BENCH_NAMES, formatBench, formatBenchList, parseBenchOnly, runBench } from '../bench/bench.js';
import { UsageError, parseChoice, parseIntFlag, type SetExit } from './common.js';

export function registerBench(program: Command, setExit: SetExit): void {
  program.command('bench').description('benchmarks, each as a ratio against a baseline measured in the same run, with its goal and whether it was met (text: UNMET marks a missed goal; --json: name, value, unit, baseline, ratio, goal, met, note)')
    .option('--list', 'the entries, one line each, and exit')
    .option('--only <names>', `run only these entries (comma-separated): ${BENCH_NAMES.join(', ')}`)
    .option('--all', 'every entry, the long ones included: soak (10^8 guest ops), shrink (per race), strategies (time to find every race with each sim strategy) and races (each race in threads mode); default: every entry but those (about 2 minutes)')
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
      setExit((b.soak?.threads?.failed_runs ?? 0) + (b.soak?.sim?.failed_runs ?? 0) > 0 ? 1 : 0);
    });
}
