/** Human-readable run summaries and the progress line. */
import { SingleBar } from 'cli-progress';
import { DEFAULTS } from '../machine/config.js';
import type { Progress, RunResult } from '../machine/run.js';
import { bytes, n } from '../core/format.js';
import { hostByName, type HostTextRun } from '../hosts/index.js';

/** The ESSA host's lines (the default when a host has no `hostLines` of its own). */
function essaHostLines(t: HostTextRun): string[] {
  const c = t.counters;
  return [
    `  hinting      ESSA calls ${n(c.essa_calls)}, batched host calls ${n(c.essa_batches)} carrying ${n(c.essa_batched_pages)} pages`,
    `  host         page-outs ${n(c.host_pageouts)} (${bytes(c.host_swap_bytes_written)} to swap), page-ins ${n(c.host_pageins)}, unused frees ${n(c.host_frees)}, discards ${n(c.host_discards)}, zero fills ${n(c.zero_fills)}, clock scans ${n(c.host_scans)}`,
  ];
}


export function formatRunHuman(r: RunResult, command: string): string {
  const c = r.counters;
  const out: string[] = [];
  out.push(`hintsim run ${r.workload}: seed ${r.seed}, ${r.mode} mode, ${r.cpus} CPUs, ${r.mem} guest / ${r.host_mem} host budget, ${r.host !== DEFAULTS.host ? `host ${r.host}, ` : ''}hinting ${r.hinting}${r.batch ? '' : ' (unbatched)'}${r.unfix.length ? `, unfixed: ${r.unfix.join(',')}` : ''}`);
  out.push(`  ops          ${n(r.ops)} in ${r.seconds.toFixed(2)} s (${n(r.ops_per_sec)} ops/s; ${r.per_cpu.map((p) => `cpu${p.cpu} ${n(p.ops)}`).join(', ')})`);
  out.push(`  allocator    allocs ${n(c.allocs)}, frees ${n(c.frees)}, pcp refills ${n(c.pcp_refills)}, pcp drains ${n(c.pcp_drains)}, alloc failures ${n(c.alloc_failures)}`);
  const host = hostByName(r.host);
  const t: HostTextRun = { mode: r.mode, counters: c, section: (r as unknown as Record<string, unknown>)[host.summaryKey ?? ''] };
  out.push(...(host.hostLines ?? essaHostLines)(t));
  out.push(`  faults       discard ${n(c.discard_faults)}, addressing exceptions ${n(c.addressing_exceptions)}, page faults ${n(c.faults)}`);
  if (host.extraLines) out.push(...host.extraLines(t));
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
      out.push(`    [${v.oracle}]${v.race ? ` (race ${v.race})` : ''} pfn ${v.pfn}, ${v.cpu >= r.cpus ? (host.participants[v.cpu - r.cpus]?.who ?? 'host').replace(/^the /, '') : `cpu ${v.cpu}`}, step ${v.step}: ${v.message}`);
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
