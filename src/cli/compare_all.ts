/** `hintsim compare [workload] --host all`: every design side by side (bench/compare_hosts.ts). */
import { findWorkload } from '../../workloads/index.js';
import { compareAllHosts, formatAllHosts, splitHostOptions } from '../bench/compare_hosts.js';
import { buildRunOptions, type RawRunFlags, type SetExit } from './common.js';

export async function compareAllCommand(wl: string | undefined, flags: RawRunFlags, setExit: SetExit): Promise<void> {
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
