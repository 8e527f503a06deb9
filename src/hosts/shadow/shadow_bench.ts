/**
 * The kscand pathology under KVM's shadow MMU (seed 004, xenpaging_kvm.md 2.5), measured in
 * one `hintsim bench` run: the kscand workload with no scanner, with the scanner and the
 * 2008 fix (the default), with the scanner and the fix off (--unfix
 * kv-emulated-access-marks-spte), and with Arcangeli's alternative (a_clear=1: an
 * accessed-bit clear unshadows the page table at once).
 *
 *   traps per 1000 user ops   sim mode, same seed and op count: exits are counted exactly
 *   user ops per second       threads mode, the same wall-clock budget each (the simulator's
 *                             own cost of exits, zaps and rebuilds; noisy, read as a ratio)
 *   modelled throughput       user ops per modelled vCPU time, from the counted events and
 *                             the assumed costs in MODEL_US
 */
import type { RunOptions } from '../../machine/config.js';
import type { RunResult } from '../../machine/run.js';

/**
 * The machine a bench entry drives, handed in by its caller (src/bench, a test): a host
 * folder does not import src/machine, which asks the registry for its hosts.
 */
export interface BenchMachine { run: (o: RunOptions) => Promise<RunResult>; defaults: RunOptions }
import type { BenchEntry } from '../../bench/bench.js';

/**
 * Assumed costs (microseconds) of the modelled throughput, round figures for a 2008 VT-x
 * host: one guest op (a syscall or fault's worth of guest work), a VM exit and entry,
 * decoding and emulating one instruction, building a shadow page (allocate, zero, hash,
 * write-protect the frame), zapping one (unlink every spte, flush).
 */
export const MODEL_US = { op: 1, exit: 1.5, emulation: 2, build: 4, zap: 4 } as const;

export interface KscandCase { name: string; label: string; traps_per_1000_user_ops: number; counters: Record<string, number>; user_ops: number; modelled_user_ops_per_ms: number }

const CASES = [
  { name: 'no_scanner', label: 'no scanner', unfix: [] as string[], opts: { scan_pct: 0 } },
  { name: 'scanner_fixed', label: 'kscand, the 2008 fix (default)', unfix: [] as string[], opts: {} },
  { name: 'scanner_unfixed', label: 'kscand, fix off (kv-emulated-access-marks-spte)', unfix: ['kv-emulated-access-marks-spte'], opts: {} },
  { name: 'scanner_unshadow', label: 'kscand, Arcangeli\'s unshadow on A-clear (a_clear=1)', unfix: [] as string[], opts: { a_clear: 1 } },
] as const;

function base(m: BenchMachine, extra: Partial<RunOptions>): RunOptions {
  return { ...m.defaults, workload: 'kscand', host: 'shadow', hinting: 'off', memBytes: 4 << 20, cpus: 2, seed: 1, ...extra };
}

/** Only the violation the unfixed case is expected to record (false_flood, K1) is allowed. */
function check(r: RunResult, unfix: readonly string[]): RunResult {
  const other = r.violations.filter((v) => !(unfix.length > 0 && v.oracle === 'false_flood'));
  if (other.length) throw new Error(`bench: kscand run had violations: [${other[0].oracle}] ${other[0].message}`);
  return r;
}

function modelled(r: RunResult): number {
  const c = r.shadow!.counters;
  const us = r.ops * MODEL_US.op + c.exits * MODEL_US.exit + c.insn_emulation * MODEL_US.emulation +
    c.mmu_cache_miss * MODEL_US.build + c.mmu_shadow_zapped * MODEL_US.zap;
  const userOps = r.ops - c.kscand_steps;
  return userOps / (us / r.cpus / 1000);
}

/** The kscand cases in sim mode: exact trap counts. */
export async function kscandCases(m: BenchMachine, ops: number, seed = 1): Promise<KscandCase[]> {
  const out: KscandCase[] = [];
  for (const c of CASES) {
    const r = check(await m.run(base(m, { mode: 'sim', ops, seed, unfix: [...c.unfix], workloadOptions: { ...c.opts } })), c.unfix);
    const s = r.shadow!;
    out.push({
      name: c.name, label: c.label, traps_per_1000_user_ops: s.traps_per_1000_user_ops, counters: s.counters,
      user_ops: r.ops - s.counters.kscand_steps, modelled_user_ops_per_ms: Number(modelled(r).toFixed(1)),
    });
  }
  return out;
}

export async function benchShadow(opts: { quick: boolean; log: (m: string) => void }, m: BenchMachine): Promise<BenchEntry[]> {
  opts.log('bench: kscand under the shadow MMU (sim: traps; threads: throughput) ...');
  const ops = opts.quick ? 6000 : 30_000;
  const [none, fixed, unfixed, unshadow] = await kscandCases(m, ops);
  const t = (k: KscandCase): number => k.traps_per_1000_user_ops;
  const extra = (k: KscandCase): number => t(k) - t(none);
  const removed = extra(unfixed) > 0 ? (t(unfixed) - t(fixed)) / extra(unfixed) : 0;
  const what = (k: KscandCase): string => `${k.counters.kernel_table_floods} floods of the kernel table K, ${k.counters.mmu_cache_miss} shadow pages built, ${k.counters.insn_emulation} emulations`;
  const entries: BenchEntry[] = [
    {
      name: 'shadow_kscand_traps_scanner_vs_none', value: t(unfixed), unit: 'traps/1000 user ops', baseline: t(none), ratio: t(unfixed) / t(none),
      goal: 'the pathology shows (ratio well above 1)', note: `kscand without the 2008 fix vs no scanner; sim, 2 CPUs, ${ops} ops, seed 1; ${what(unfixed)}`,
    },
    {
      name: 'shadow_kscand_traps_fixed_vs_unfixed', value: t(fixed), unit: 'traps/1000 user ops', baseline: t(unfixed), ratio: t(unfixed) / t(fixed),
      goal: 'the fix removes most of the scanner\'s extra traps',
      note: `the fix removes ${(removed * 100).toFixed(0)}% of the scanner's extra traps (${extra(unfixed).toFixed(0)} -> ${extra(fixed).toFixed(0)} per 1000 user ops over no scanner); with it: ${what(fixed)}`,
    },
    {
      name: 'shadow_kscand_traps_unshadow_vs_fixed', value: t(unshadow), unit: 'traps/1000 user ops', baseline: t(fixed), ratio: t(fixed) / t(unshadow),
      goal: 'report', note: `Arcangeli's alternative (a_clear=1) vs the 2008 fix: ${unshadow.counters.a_clear_unshadows} clears turned into unshadows, ${unshadow.counters.mmu_cache_miss} shadow pages built`,
    },
    {
      name: 'shadow_kscand_modelled_throughput_fix', value: fixed.modelled_user_ops_per_ms, unit: 'user ops/ms (modelled)', baseline: unfixed.modelled_user_ops_per_ms,
      ratio: fixed.modelled_user_ops_per_ms / unfixed.modelled_user_ops_per_ms, goal: 'ratio > 1',
      note: `per vCPU, from the counted events at ${MODEL_US.op} us an op, ${MODEL_US.exit} us an exit, ${MODEL_US.emulation} us an emulation, ${MODEL_US.build} us a shadow build, ${MODEL_US.zap} us a zap (assumed); no scanner: ${none.modelled_user_ops_per_ms}`,
    },
  ];
  const secs = opts.quick ? 1 : 3;
  const thr = async (unfix: string[]): Promise<number> => {
    const r = check(await m.run(base(m, { mode: 'threads', seconds: secs, unfix })), unfix);
    return (r.ops - r.shadow!.counters.kscand_steps) / r.seconds;
  };
  const wallFixed = await thr([]);
  const wallUnfixed = await thr(['kv-emulated-access-marks-spte']);
  entries.push({
    name: 'shadow_kscand_throughput_fix', value: Math.round(wallFixed), unit: 'user ops/s', baseline: Math.round(wallUnfixed), ratio: wallFixed / wallUnfixed,
    goal: 'report (the simulator\'s own cost of exits and rebuilds; noisy)', note: `threads mode, ${secs} s each, 2 CPUs, kscand with vs without the 2008 fix`,
  });
  return entries;
}
