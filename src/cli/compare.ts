/** `hintsim compare [workload]`: the same run with hinting off, unused and full; host I/O side by side. */
import type { Command } from 'commander';
import { compare, formatCompare } from '../bench/compare.js';
import { findWorkload } from '../../workloads/index.js';
import { compareAllHosts, formatAllHosts, splitHostOptions } from '../bench/compare_hosts.js';
import { UsageError, addRunFlags, buildRunOptions, type RawRunFlags, type SetExit } from './common.js';

export function registerCompare(program: Command, setExit: SetExit): void {
  addRunFlags(program.command('compare [workload]')
    .description('run the same workload and seed with hinting off, unused and full; compare host I/O (--host xenpaging adds Xen paging; --host all: every design, incl. free page reporting and CMMA)'))
    .action(async (wl: string | undefined, flags: RawRunFlags) => {
      if (flags.hinting !== undefined) throw new UsageError('--hinting: compare runs all three modes itself; leave it out');
      if (flags.host === 'all') return compareAllCommand(wl, flags, setExit); // every design, one table
      const o = buildRunOptions(wl, flags);
      const rows = await compare(o, flags.host === 'xenpaging');
      if (flags.json) process.stdout.write(JSON.stringify({ workload: o.workload, seed: o.seed, mode: o.mode, rows }, null, 2) + '\n');
      else process.stdout.write(formatCompare(rows, `hintsim compare ${o.workload}: seed ${o.seed}, ${o.mode} mode, ${o.cpus} CPUs, ${o.ops !== null ? `${o.ops} ops` : `${o.seconds ?? 3} s`} each`));
      setExit(rows.some((r) => r.violations > 0) ? 1 : 0);
    });
}

/** `--host all`: every design side by side (bench/compare_hosts.ts); a host's --opt goes to its own run. */
async function compareAllCommand(wl: string | undefined, flags: RawRunFlags, setExit: SetExit): Promise<void> {
  const w = findWorkload(wl ?? 'alloc-storm');
  const { workload, hosts } = splitHostOptions(flags.opt ?? {}, w ? w.options.map((x) => x.name) : []);
  const o = buildRunOptions(wl, { ...flags, host: undefined, opt: workload }); // an unknown workload is reported here
  const rows = await compareAllHosts(o, hosts);
  const sim = o.mode === 'sim';
  if (flags.json) process.stdout.write(JSON.stringify({ workload: o.workload, seed: o.seed, mode: o.mode, rows }, null, 2) + '\n');
  else {
    const knobs = [...hosts].map(([h, m]) => `${h}: ${Object.entries(m).map(([k, v]) => `${k}=${v}`).join(' ')}`).join('; ');
    process.stdout.write(formatAllHosts(rows, `hintsim compare ${o.workload} --host all: seed ${o.seed}, ${o.mode} mode, ${o.cpus} CPUs, ${o.ops !== null ? `${o.ops} ops` : `${o.seconds ?? 3} s`} each${knobs ? ` (${knobs})` : ''}`, sim));
  }
  setExit(rows.some((r) => r.violations > 0) ? 1 : 0);
}
