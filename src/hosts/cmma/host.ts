/**
 * The CMMA host in the registry (--host cmma): KVM's s390 CMMA as it runs today
 * (reporting_cmma.md part B). The guest hooks and ESSA (cmma.ts), host reclaim (reclaim.ts),
 * the migration worker and the reset (migration.ts), the PGSTE bits and counters
 * (cmma_views.ts), the races (races.ts).
 */
import { ST_Uz } from '../../core/hw.js';
import { n } from '../../core/format.js';
import {
  CM_CBRL_MAX, CM_DIRTY_PAGES, CM_MAX_PASSES, CM_SLICE_EVERY, CM_MIGRATE_AT, CM_MIGRATION, CM_MIG_PHASE, CM_NODAT_FACILITY, CM_REMOVE_AT, CM_RESET_AT, CM_SLOT1_BASE, CM_SLOT1_LIVE,
  CBRL_SLOTS, HOST_CMMA, cmmaGeometry, type Views,
} from '../../core/layout.js';
import type { Host, HostTextRun } from '../host.js';
import { cmmaHooks } from './cmma.js';
import { CmmaViews, cmmaViewsInit, sumCmmaCounters } from './cmma_views.js';
import { CMMA_RACES } from './races.js';
import { CMMA_DAEMON } from './reclaim.js';

/** Frames of memslot 1 (device memory at the top, outside the allocator). */
export function slot1Frames(nframes: number): number {
  return Math.max(4, nframes >> 6);
}

export interface CmmaSummary {
  cbrl_size: number;
  nodat_facility: boolean;
  migration: 'none' | 'running' | 'done';
  migration_mode: boolean;
  /** cmma_dirty_pages at the end (KVM_S390_GET_CMMA_BITS's remaining). */
  remaining: number;
  counters: Record<string, number>;
  /** Intercepts of every kind (first use, full block reuse list, migration). */
  intercepts: number;
  /** Pages the host freed without I/O: resident unused frames dropped plus swap slots zapped from block reuse lists. */
  freed_no_io: number;
  /** Mean model time from SET_UNUSED to the drop (steps in sim mode, ms in threads mode). */
  mean_latency: number | null;
}

function summary(v: Views, participants: number): CmmaSummary {
  const cv = new CmmaViews(v);
  const c = sumCmmaCounters(v, participants);
  const phase = cv.a[CM_MIG_PHASE];
  const drops = c.reclaim_drops + c.cbrl_zaps;
  return {
    cbrl_size: cv.a[CM_CBRL_MAX], nodat_facility: cv.a[CM_NODAT_FACILITY] !== 0,
    migration: phase === 0 ? 'none' : phase === 1 ? 'running' : 'done', migration_mode: cv.a[CM_MIGRATION] !== 0,
    remaining: cv.a[CM_DIRTY_PAGES], counters: c,
    intercepts: c.intercepts_first_use + c.intercepts_cbrl_full + c.intercepts_migration,
    freed_no_io: drops,
    mean_latency: c.latency_pages > 0 ? Math.round(c.latency_sum / c.latency_pages) : null,
  };
}

function extraLines(t: HostTextRun): string[] {
  const s = t.section as CmmaSummary;
  const c = s.counters;
  const out = [
    `  cmma         ESSA interpreted ${n(c.essa_interpreted)}, intercepts ${n(s.intercepts)} (first use ${n(c.intercepts_first_use)}, full CBRL ${n(c.intercepts_cbrl_full)}, migration ${n(c.intercepts_migration)}), CBRL ${s.cbrl_size} entries: ${n(c.cbrl_entries)} queued, ${n(c.cbrl_zaps)} swap slots zapped`,
    `  cmma host    reclaim dropped ${n(c.reclaim_drops)} unused frames without I/O and swapped ${n(c.reclaim_swapouts)}; ${n(c.dropped_refaults)} refaults of dropped frames; mean unused->drop ${s.mean_latency ?? '-'}`,
  ];
  if (c.migrations > 0) out.push(`  migration    ${s.migration}: ${n(c.migration_passes)} walks, ${n(c.cmma_bytes_sent)} attribute bytes sent, remaining ${s.remaining}${c.slot_removals ? ', memslot 1 removed' : ''}`);
  if (c.spec_exceptions > 0) out.push(`  exceptions   ${n(c.spec_exceptions)} specification exceptions (ESSA operation code above ${s.nodat_facility ? 7 : 6})`);
  return out;
}

export const CMMA_HOST: Host = {
  name: 'cmma',
  code: HOST_CMMA,
  base: 'essa',
  description: 'KVM s390 CMMA today: the guest sets pages stable/unused (ESSA per page on alloc and free), a 511-entry block reuse list, reclaim drops unused frames; --opt migrate_at=N migrates',
  hooks: cmmaHooks,
  areaBytes: (nf) => cmmaGeometry(nf).words * 4,
  viewsInit: cmmaViewsInit,
  daemon: () => CMMA_DAEMON,
  participants: [{ entry: 'host_worker', who: 'the host', step: 'reclaim' }],
  workerEntries: {},
  bootState: ST_Uz, // free and never touched: unused, logical zero
  guestFrames: (nf) => [0, nf - slot1Frames(nf)], // memslot 1 (device memory) sits at the top
  boot(v, o): boolean {
    const w = o.workloadOptions;
    const cv = new CmmaViews(v);
    cv.a[CM_CBRL_MAX] = w.cbrl_size ?? CBRL_SLOTS - 1;
    cv.a[CM_NODAT_FACILITY] = w.nodat ?? 0;
    cv.a[CM_MIGRATE_AT] = w.migrate_at ?? 0;
    cv.a[CM_RESET_AT] = w.reset_at ?? 0;
    cv.a[CM_REMOVE_AT] = w.remove_slot ?? 0;
    cv.a[CM_MAX_PASSES] = w.migrate_passes ?? 4;
    cv.a[CM_SLICE_EVERY] = w.migrate_every ?? 16;
    cv.a[CM_SLOT1_BASE] = v.nframes - slot1Frames(v.nframes);
    cv.a[CM_SLOT1_LIVE] = 1;
    cv.dest.fill(-1);
    return true;
  },
  readsHints: false,
  ringSlots: false,
  auditsHostStates: false,
  ownedFrames: (v) => Array.from({ length: slot1Frames(v.nframes) }, (_, i) => v.nframes - slot1Frames(v.nframes) + i),
  summary: (v, nparts) => ['cmma', summary(v, nparts)],
  summaryKey: 'cmma',
  extraLines,
  races: CMMA_RACES,
  options: [
    { name: 'migrate_at', default: 0, min: 0, max: 1e12, description: 'cmma host: start a migration after this many guest operations (0: none); every ESSA is then intercepted and a migration worker walks the CMMA dirty bitmap' },
    { name: 'migrate_passes', default: 4, min: 1, max: 1000, description: 'cmma host: walks of the CMMA dirty bitmap before stop-and-copy is forced (sooner when a walk sends under 1/16 of memory)' },
    { name: 'migrate_every', default: 16, min: 1, max: 1e6, description: 'cmma host: guest operations between two slices of the migration worker (128 gfns each; its bandwidth)' },
    { name: 'cbrl_size', default: CBRL_SLOTS - 1, min: 1, max: CBRL_SLOTS - 1, description: 'cmma host: block reuse list entries before a vCPU exits (511)' },
    { name: 'nodat', default: 0, min: 0, max: 1, description: 'cmma host: facility 147 (the guest sets data pages stable no-dat, ESSA operation code 7)' },
    { name: 'reset_at', default: 0, min: 0, max: 1e12, description: 'cmma host: a CMMA reset (load normal) after this many guest operations (0: none)' },
    { name: 'remove_slot', default: 0, min: 0, max: 1, description: 'cmma host: the migration removes memslot 1 (device memory) before walking it' },
  ],
  checkOptions(o, run) {
    const ops = run.ops; // null: a timed threads run (no bound known)
    for (const k of ['migrate_at', 'reset_at'] as const) {
      const at = o[k];
      if (at !== undefined && at > 0 && ops !== null && at >= ops) return `--opt ${k}: ${at} is beyond the run (${ops} operations); accepted: 1..${ops - 1}, or 0 for none`;
    }
    return null;
  },
  allFigures: (section) => {
    const s = section as CmmaSummary;
    return { host_calls: s.intercepts, freed_no_io: s.freed_no_io, latency_steps: s.mean_latency };
  },
};
