/** Human-readable run summaries and the progress line. */
import { SingleBar } from 'cli-progress';
import { DEFAULTS, formatSize, replayCommand, type RunOptions } from '../machine/config.js';

export { replayCommand };
import type { Progress, RunResult } from '../machine/run.js';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

function bytes(x: number): string {
  if (x >= 1 << 30) return `${(x / (1 << 30)).toFixed(2)} GiB`;
  if (x >= 1 << 20) return `${(x / (1 << 20)).toFixed(1)} MiB`;
  if (x >= 1024) return `${(x / 1024).toFixed(0)} KiB`;
  return `${x} B`;
}


/** The xenpaging host's lines: pager, vCPU stalls, dom0, the p2m at the end. */
function formatXen(r: RunResult): string[] {
  const c = r.counters;
  const x = r.xen!;
  const k = x.counters;
  const stall = r.mode === 'sim' ? `${n(k.vcpu_stall)} steps` : `${(k.vcpu_stall / 1000).toFixed(1)} ms`;
  return [
    `  hinting      ESSA calls ${n(c.essa_calls + c.essa_batched_pages)} (pages), all ignored by the xenpaging host: the pager knows no guest page states`,
    `  host         xenpaging: page-outs ${n(c.host_pageouts)} (${bytes(c.host_swap_bytes_written)} to the page file), page-ins ${n(c.host_pageins)}; ` +
      `nominated ${n(k.nominate_ok)} (EBUSY ${n(k.nominate_ebusy)}), evicted ${n(k.evict_ok)} (EBUSY ${n(k.evict_ebusy)}), EVICT_FAIL ${n(k.evict_fail_events)}`,
    `  waste        page-file writes of free guest pages ${n(c.wasted_writes_free)}, of clean page cache ${n(c.wasted_writes_clean_cache)}, ` +
      `for evictions that failed ${n(k.wasted_writes_failed_evict)}; double paging ${n(c.double_paging)}`,
    `  vCPUs        paused for a page-in ${n(k.vcpu_pauses)} times (${stall}), spurious faults on paging_in ${n(k.spin_exits_paging_in)}, ring waits ${n(k.ring_full_waits)}`,
    `  dom0         foreign maps ${n(k.foreign_maps)} (-ENOENT ${n(k.foreign_enoent_retries)}, EBUSY ${n(k.foreign_ebusy)}), I/O writes ${n(k.dom0_io_writes)}, ` +
      `reads ${n(k.dom0_io_reads)}, map-cache reads ${n(k.dom0_mapcache_reads)}; balloon out ${n(k.balloon_out)}, in ${n(k.balloon_in)}`,
    `  p2m          ${Object.entries(x.p2m).sort().map(([t, v]) => `${t} ${n(v)}`).join(', ')}; tot_pages ${n(x.tot_pages)} (target ${n(x.target)}); ` +
      `ring ${x.ring_slots} slots, ${n(k.ring_requests)} requests, ${n(x.ring_unanswered)} unanswered`,
  ];
}

/** The shadow host's lines: exits and emulations, the pool, kscand. */
function formatShadow(r: RunResult): string[] {
  const s = r.shadow!;
  const c = s.counters;
  const out = [
    `  shadow mmu   exits ${n(c.exits)} (${s.traps_per_1000_ops} per 1000 ops), emulations ${n(c.insn_emulation)} (kmap ${n(c.emulations_kmap)}, A-bit clears ${n(c.emulations_a_clear)}, data ${n(c.emulations_data)}), floods ${n(c.mmu_flooded)} (kernel table ${n(c.kernel_table_floods)})`,
    `  shadow pool  ${s.pool_pages} pages, built ${n(c.mmu_cache_miss)}, zapped ${n(c.mmu_shadow_zapped)} (unshadowed ${n(c.unshadows)}, recycled ${n(c.mmu_recycled)}, shrunk ${n(c.mmu_shrink_zaps)}), remote TLB flushes ${n(c.remote_tlb_flush)}`,
  ];
  if (c.kscand_steps > 0) out.push(`  kscand       ${n(c.kscand_scanned)} ptes scanned in ${n(c.kscand_steps)} passes, ${n(c.kscand_young)} young; A-bit clears ${s.a_clear === 'unshadow' ? 'unshadow the table' : 'emulated'}`);
  return out;
}

export function formatRunHuman(r: RunResult, command: string): string {
  const c = r.counters;
  const out: string[] = [];
  out.push(`hintsim run ${r.workload}: seed ${r.seed}, ${r.mode} mode, ${r.cpus} CPUs, ${r.mem} guest / ${r.host_mem} host budget, ${r.host !== 'essa' ? `host ${r.host}, ` : ''}hinting ${r.hinting}${r.batch ? '' : ' (unbatched)'}${r.unfix.length ? `, unfixed: ${r.unfix.join(',')}` : ''}`);
  out.push(`  ops          ${n(r.ops)} in ${r.seconds.toFixed(2)} s (${n(r.ops_per_sec)} ops/s; ${r.per_cpu.map((p) => `cpu${p.cpu} ${n(p.ops)}`).join(', ')})`);
  out.push(`  allocator    allocs ${n(c.allocs)}, frees ${n(c.frees)}, pcp refills ${n(c.pcp_refills)}, pcp drains ${n(c.pcp_drains)}, alloc failures ${n(c.alloc_failures)}`);
  if (r.xen) out.push(...formatXen(r));
  else out.push(`  hinting      ESSA calls ${n(c.essa_calls)}, batched host calls ${n(c.essa_batches)} carrying ${n(c.essa_batched_pages)} pages`);
  if (!r.xen) out.push(`  host         page-outs ${n(c.host_pageouts)} (${bytes(c.host_swap_bytes_written)} to swap), page-ins ${n(c.host_pageins)}, unused frees ${n(c.host_frees)}, discards ${n(c.host_discards)}, zero fills ${n(c.zero_fills)}, clock scans ${n(c.host_scans)}`);
  out.push(`  faults       discard ${n(c.discard_faults)}, addressing exceptions ${n(c.addressing_exceptions)}, page faults ${n(c.faults)}`);
  if (r.shadow) out.push(...formatShadow(r));
  if (r.hinting === 'full') {
    out.push(`  volatility   make_volatile ${n(c.make_volatile_ok)} of ${n(c.make_volatile_attempts)} attempts; make_stable ${n(c.make_stable_calls)} (${n(c.make_stable_failed)} found the page discarded)`);
    out.push(`  discard      pages discarded ${n(c.pages_discarded)}, get_page_if_present refused ${n(c.get_page_if_present_refused)}, discard list adds ${n(c.discard_list_adds)} (max ${n(c.discard_list_max)}), grace periods ${n(c.grace_periods)}`);
  }
  out.push(`  state mix    ${Object.entries(r.state_mix).sort().map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  if (r.accounting) out.push(`  accounting   ${n(r.accounting.buddy)} free in the buddy + ${n(r.accounting.pcp)} on pcp lists + ${n(r.accounting.cached)} cached + ${n(r.accounting.discard_list)} on the discard list + ${n(r.accounting.owned)} held = ${n(r.accounting.total)} frames`);
  if (r.violations.length === 0) {
    out.push('  violations   none');
  } else {
    out.push(`  violations   ${r.violations.length}`);
    for (const v of r.violations) {
      out.push(`    [${v.oracle}]${v.race ? ` (race ${v.race})` : ''} pfn ${v.pfn}, ${v.cpu === r.cpus ? (r.xen ? 'pager' : 'host') : v.cpu > r.cpus ? 'dom0' : `cpu ${v.cpu}`}, step ${v.step}: ${v.message}`);
    }
    out.push(`  rerun with:  ${command}`);
  }
  return out.join('\n') + '\n';
}

/** A live progress bar on stderr (only used when stderr is a terminal). */
export function progressReporter(): { update: (p: Progress) => void; stop: () => void } {
  const bar = new SingleBar({
    format: '{bar} {percentage}% | {ops} ops | {rate} ops/s | violations {viol} | {left}',
    stream: process.stderr, hideCursor: true, clearOnComplete: true,
  });
  let started = false;
  return {
    update(p: Progress) {
      if (p.elapsedMs < 1000) return; // only for runs longer than a second
      const total = p.totalMs ?? (p.totalOps ?? 1);
      const value = p.totalMs !== null ? Math.min(p.elapsedMs, p.totalMs) : p.ops;
      const payload = {
        ops: n(p.ops), rate: n(p.ops / (p.elapsedMs / 1000)), viol: p.violations,
        left: p.totalMs !== null ? `${Math.max(0, (p.totalMs - p.elapsedMs) / 1000).toFixed(0)} s left` : `${n(p.ops)}/${n(p.totalOps ?? 0)}`,
      };
      if (!started) { bar.start(total, value, payload); started = true; } else bar.update(value, payload);
    },
    stop() { if (started) bar.stop(); },
  };
}
