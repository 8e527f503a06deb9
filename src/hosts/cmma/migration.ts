/**
 * The CMMA host's timed work, run in guest CPUs' time slices (GuestHooks.cpuTick, after each
 * workload step; one CPU at a time holds CM_WORK_LOCK): the migration worker (QEMU's
 * migration thread calling KVM_S390_GET_CMMA_BITS, one slice every migrate_every guest
 * operations: its bandwidth) and the CMMA reset. Events are timed in guest operations
 * (CM_CLOCK), in both modes.
 *
 *   start     (migrate_at) under slots_arch_lock: every live page's cmma_d set,
 *             cmma_dirty_pages = their number, migration_mode = 1, ECB2_CMMA off on every
 *             vCPU (from now on every ESSA is intercepted and emulated with dirty tracking).
 *   memslot   with remove_slot, the first slice removes memslot 1 (device memory outside the
 *             allocator): its dirty pages leave cmma_dirty_pages (K8 ec2153462705).
 *   GET       each slice walks up to SLICE gfns: a dirty page's bit is cleared, the counter
 *             decremented and its usage byte sent (the destination's copy, CmmaViews.dest); a
 *             clean page must hold what was sent (C4).
 *   stop      a walk that sent little (or walk migrate_passes) ends in stop-and-copy: the rest is sent,
 *             every page's destination byte must equal its usage (integrity), remaining must
 *             be 0 (liveness), migration_mode = 0.
 *   reset     (reset_at) load normal: every page's usage reset to stable, no-dat cleared (K7).
 */
import { ME, V } from '../../core/ctx.js';
import { ESSA_USTATE_MASK, ESSA_USTATE_STABLE, frameLock, frameUnlock } from '../../core/hw.js';
import {
  CMV_INTERP, CM_CLOCK, CM_CURSOR, CM_MAX_PASSES, CM_NEXT_SLICE, CM_SLICE_EVERY, CM_DIRTY_PAGES, CM_MIGRATE_AT, CM_MIGRATION, CM_MIG_PHASE, CM_PASSES, CM_PASS_SENT, CM_REMOVE_AT, CM_RESET_AT,
  CM_RESET_DONE, CM_RESET_GEN, CM_SLOT1_BASE, CM_SLOT1_LIVE, CM_SLOTS_LOCK, CM_VCPU, CM_VCPU_WORDS, CM_WORK_LOCK, HS_STATE_MASK,
} from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import { isUnfixed, raceIndex } from '../../core/races.js';
import { SP_HOST, STEPS, sp } from '../../core/sched.js';
import { spinLock, spinUnlock } from '../../core/spinlock.js';
import { T_MIGRATE_B, T_MIGRATE_E, tr } from '../../core/trace.js';
import { nodatResetUnfixed } from './cmma.js';
import { CCNT, CMC, CM_HS_DIRTY, CM_HS_NODAT, CV } from './cmma_views.js';

/** gfns the migration worker looks at per slice (one GET_CMMA_BITS call of a 128-byte buffer). */
const SLICE = 128;

let uSlotCount = false;
let rEssa = 0, rSlot = 0;

export function migrationInit(): void {
  uSlotCount = isUnfixed(V.hdr, 'cmma-memslot-remove-count');
  rEssa = raceIndex('cmma-essa-vs-migration') + 1;
  rSlot = raceIndex('cmma-memslot-remove-count') + 1;
}

function slotsLock(): void { spinLock(CV.a, CM_SLOTS_LOCK, ME); }
function slotsUnlock(): void { spinUnlock(CV.a, CM_SLOTS_LOCK, ME); } // the static bug_on reporter (spinlock.ts)

/** The gfns the walk covers: memslot 0, and memslot 1 while it exists. */
function liveEnd(): number {
  return Atomics.load(CV.a, CM_SLOT1_LIVE) !== 0 ? V.nframes : CV.a[CM_SLOT1_BASE];
}

/** kvm_s390_vm_start_migration. */
function startMigration(): void {
  slotsLock();
  const end = liveEnd();
  for (let pfn = 0; pfn < end; pfn++) {
    const w = frameLock(pfn);
    frameUnlock(pfn, w | CM_HS_DIRTY);
    CV.dest[pfn] = -1;
  }
  Atomics.store(CV.a, CM_DIRTY_PAGES, end); // every page's bit was just set
  Atomics.store(CV.a, CM_MIGRATION, 1);
  for (let c = 0; c < V.ncpus; c++) Atomics.store(CV.a, CM_VCPU + c * CM_VCPU_WORDS + CMV_INTERP, 0); // the START_MIGRATION broadcast: ECB2_CMMA off
  CV.a[CM_CURSOR] = 0;
  CV.a[CM_PASS_SENT] = 0;
  CV.a[CM_PASSES] = 0;
  Atomics.store(CV.a, CM_MIG_PHASE, 1);
  CCNT[CMC.migrations]++;
  slotsUnlock();
}

/** Memslot 1 goes away during the migration (a device region QEMU unmaps). */
function removeSlot1(): void {
  slotsLock();
  if (!uSlotCount) { // K8 ec2153462705: the removed slot's dirty pages leave the counter
    for (let pfn = CV.a[CM_SLOT1_BASE]; pfn < V.nframes; pfn++) {
      const w = frameLock(pfn);
      if ((w & CM_HS_DIRTY) !== 0) Atomics.sub(CV.a, CM_DIRTY_PAGES, 1);
      frameUnlock(pfn, w & ~CM_HS_DIRTY);
    }
  }
  Atomics.store(CV.a, CM_SLOT1_LIVE, 0);
  CCNT[CMC.slot_removals]++;
  slotsUnlock();
}

/**
 * C4 at a clean gfn (frame lock held): every change in migration mode sets cmma_d, so a clean
 * page holds what the destination was sent. A difference is a change that slipped through
 * untracked: unless another change dirties the page again, the destination keeps it stale.
 */
function checkClean(pfn: number, w: number): boolean {
  const usage = w & ESSA_USTATE_MASK;
  if (CV.dest[pfn] < 0 || CV.dest[pfn] === usage) return true;
  const name = (u: number): string => (u === ESSA_USTATE_STABLE ? 'stable' : u === 0x04 ? 'unused' : `usage ${u}`);
  report(V, O.integrity, pfn, ME, STEPS, `migration: gfn ${pfn} is ${name(usage)} on the source but the destination was sent ${name(CV.dest[pfn])} and its cmma_d bit is clear: a change in migration mode was not tracked${usage === ESSA_USTATE_STABLE ? ' (the destination would drop a page in use)' : ''}`, rEssa);
  return false;
}

/** GET_CMMA_BITS for one gfn (frame lock): a dirty page's usage byte goes to the destination. */
function sendIfDirty(pfn: number): number {
  const w = frameLock(pfn);
  if ((w & CM_HS_DIRTY) === 0) { checkClean(pfn, w); frameUnlock(pfn, w); return 0; }
  Atomics.sub(CV.a, CM_DIRTY_PAGES, 1);
  CV.dest[pfn] = w & ESSA_USTATE_MASK;
  frameUnlock(pfn, w & ~CM_HS_DIRTY);
  CCNT[CMC.cmma_bytes_sent]++;
  return 1;
}

/** Stop-and-copy: send the rest, then the destination must hold every page's usage and nothing may remain. */
function stopAndCopy(): void {
  const end = liveEnd();
  for (let pfn = 0; pfn < end; pfn++) {
    sendIfDirty(pfn); // a clean page is checked against what the destination holds
  }
  const remaining = Atomics.load(CV.a, CM_DIRTY_PAGES);
  if (remaining !== 0) {
    report(V, O.liveness, -1, ME, STEPS, `migration: KVM_S390_GET_CMMA_BITS reports remaining ${remaining} after stop-and-copy sent every dirty page: the counter counts pages no walk can find (a removed memslot's), so userspace loops on remaining for ever`, rSlot);
  }
  Atomics.store(CV.a, CM_MIGRATION, 0); // stop: vCPUs enable ECB2_CMMA again at their next intercept
  Atomics.store(CV.a, CM_MIG_PHASE, 2);
  CCNT[CMC.migrations_done]++;
}

/** One slice of the migration worker (GET_CMMA_BITS for up to SLICE gfns), under slots_arch_lock. */
function migrationSlice(): void {
  slotsLock();
  if (CV.a[CM_PASSES] === 0 && CV.a[CM_CURSOR] === 0 && CV.a[CM_REMOVE_AT] !== 0 && Atomics.load(CV.a, CM_SLOT1_LIVE) !== 0) {
    slotsUnlock();
    removeSlot1();
    slotsLock();
  }
  let cur = CV.a[CM_CURSOR];
  const end = liveEnd();
  for (let k = 0; k < SLICE && cur < end; k++, cur++) {
    sp(SP_HOST, cur);
    CV.a[CM_PASS_SENT] += sendIfDirty(cur);
  }
  CV.a[CM_CURSOR] = cur;
  if (cur >= end) { // one walk of the bitmap done
    CCNT[CMC.migration_passes]++;
    const passes = ++CV.a[CM_PASSES];
    if (CV.a[CM_PASS_SENT] <= (V.nframes >> 4) || passes >= CV.a[CM_MAX_PASSES]) stopAndCopy();
    CV.a[CM_CURSOR] = 0;
    CV.a[CM_PASS_SENT] = 0;
  }
  slotsUnlock();
}

/** Load normal (diag 308 subcode 1): every page's usage back to stable; no-dat cleared (K7). */
function cmmaReset(): void {
  slotsLock();
  Atomics.add(CV.a, CM_RESET_GEN, 1); // resets done; a no-dat set from now on records the new generation
  const clearNodat = !nodatResetUnfixed();
  for (let pfn = 0; pfn < V.nframes; pfn++) {
    const w = frameLock(pfn);
    let nw = (w & ~ESSA_USTATE_MASK) | ESSA_USTATE_STABLE;
    if (clearNodat) nw &= ~CM_HS_NODAT;
    else if ((nw & CM_HS_NODAT) !== 0) CV.nodatGen[pfn] = 0; // kept across the reset: the oracle's mark (cmma.ts performEssa)
    frameUnlock(pfn, nw);
  }
  CV.a[CM_RESET_DONE] = 1;
  CCNT[CMC.resets]++;
  slotsUnlock();
}

/** GuestHooks.cpuTick: after each step of a guest CPU. */
export function cmmaTick(): void {
  const a = CV.a;
  const clock = Atomics.add(a, CM_CLOCK, 1) + 1; // every CPU's steps: the model clock of the events below
  const migrateAt = a[CM_MIGRATE_AT];
  const resetAt = a[CM_RESET_AT];
  if (migrateAt === 0 && resetAt === 0) return;
  const phase = Atomics.load(a, CM_MIG_PHASE);
  const due = (resetAt !== 0 && clock >= resetAt && a[CM_RESET_DONE] === 0) ||
    (migrateAt !== 0 && clock >= migrateAt && (phase === 0 || (phase === 1 && clock >= a[CM_NEXT_SLICE]))); // racy reads: re-checked under the work lock
  if (!due) return;
  if (Atomics.compareExchange(a, CM_WORK_LOCK, 0, ME + 1) !== 0) return; // another CPU runs the worker now
  tr(T_MIGRATE_B, a[CM_CURSOR]); // its own track in the trace export (QEMU's migration thread)
  if (resetAt !== 0 && clock >= resetAt && a[CM_RESET_DONE] === 0) cmmaReset();
  else if (phase === 0) { startMigration(); a[CM_NEXT_SLICE] = clock + a[CM_SLICE_EVERY]; }
  else if (phase === 1 && clock >= a[CM_NEXT_SLICE]) { migrationSlice(); a[CM_NEXT_SLICE] = clock + a[CM_SLICE_EVERY]; } // the migration's bandwidth
  tr(T_MIGRATE_E, a[CM_PASSES]);
  Atomics.store(a, CM_WORK_LOCK, 0); // release: the next slice sees this one's words
  void HS_STATE_MASK;
}
