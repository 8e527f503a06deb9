/**
 * The mem_event ring of Xen paging (xenpaging_kvm.md 1.6), its event channels, and the
 * ways a guest vCPU waits for the pager. One ring in the machine buffer: a header of
 * named words (layout.ts XR_*) and up to RING_MAX slots of {flags, vcpu, gfn, p2mt,
 * reason}; requests and responses share the slots.
 *
 *   front end (Xen: vCPUs populating, dom0's foreign populates, guest_remove_page)
 *     claims a slot, fills it, publishes XR_REQ_PROD; consumes responses in resume
 *   back end (the pager) consumes requests (XR_REQ_CONS), fills responses and
 *     publishes XR_RSP_PROD
 *
 * A slot is freed only by a response: free = size - (requests produced - responses
 * consumed), so an unanswered request holds its slot for good.
 *
 * Lock order: p2m entry lock (a gfn's frame lock) -> ring lock (XR_LOCK, leaf). A guest
 * vCPU that must wait for a slot waits before it takes any entry lock.
 */
import { ME, V } from '../../core/ctx.js';
import {
  CTL_STATE, CTL_UNFIX, PA_STATE, RING_MAX, RS_FLAGS, RS_GFN, RS_P2MT, RS_REASON, RS_VCPU, RS_WORDS, SIM_DIRTY, XH_DOM0_KICK,
  XH_DRAIN_EPOCH, XH_PAGER_GONE, XH_PAGER_KICK, XH_WAIT_DRAINS, XR_CLAIMS_FOREIGN, XR_CLAIMS_GUEST, XR_LOCK, XR_REQ_CONS,
  XR_REQ_PROD, XR_REQ_PROD_PVT, XR_RSP_CONS, XR_RSP_PROD, XR_RSP_PROD_PVT, XR_SIZE, XR_WAITERS, XS_BASE, XV_BASE, XV_GFN,
  XV_PAUSE, XV_WHY, XV_WORDS, XR_LEAKED, paWord, CS_RUN, PS_IDLE, PS_RUNNING,
} from '../../core/layout.js';
import { O, report, violationCount } from '../../core/oracles.js';
import { raceBit } from '../../core/races.js';
import { ParticipantAbandoned, SP_SPIN, STEPS, simActive, sp } from '../../core/sched.js';
import { spinLock, spinUnlock } from '../../core/spinlock.js';
import { XC, XCNT, XV } from './xen_views.js';

// Request/response flags of Xen 4.2 (mem_event.h), bit values as there.
export const MEM_EVENT_FLAG_VCPU_PAUSED = 1 << 0;
export const MEM_EVENT_FLAG_DROP_PAGE = 1 << 1;
export const MEM_EVENT_FLAG_EVICT_FAIL = 1 << 2;
export const MEM_EVENT_FLAG_FOREIGN = 1 << 3;
export const MEM_EVENT_FLAG_DUMMY = 1 << 4;
export const MEM_EVENT_REASON_MEM_PAGING = 3; // the reason code's later name (VM_EVENT_REASON_MEM_PAGING)

export function flagNames(f: number): string {
  const out: string[] = [];
  if (f & MEM_EVENT_FLAG_VCPU_PAUSED) out.push('VCPU_PAUSED');
  if (f & MEM_EVENT_FLAG_DROP_PAGE) out.push('DROP_PAGE');
  if (f & MEM_EVENT_FLAG_EVICT_FAIL) out.push('EVICT_FAIL');
  if (f & MEM_EVENT_FLAG_FOREIGN) out.push('FOREIGN');
  if (f & MEM_EVENT_FLAG_DUMMY) out.push('DUMMY');
  return out.length ? out.join('|') : '0';
}

export const E_BUSY = -16;

/** The X8 fix (claim/put/cancel with reserved slots) is off: producers only check for room. */
const U_RING_RESERVE = raceBit('xp-ring-reserve');
function ringReserve(): boolean {
  return (V.hdr[CTL_UNFIX] & U_RING_RESERVE) === 0;
}

/** A guest vCPU gives up waiting: the run stopped on a violation (cpu_worker catches it). */
export class VcpuAbandoned extends ParticipantAbandoned {}
const ABANDONED = new VcpuAbandoned('vCPU abandoned its wait: the run stopped on a violation');

function pagerId(): number { return V.ncpus; }
function dom0Id(): number { return V.ncpus + 1; }

function ringLock(): void { spinLock(XV.x, XR_LOCK, ME); }
function ringUnlock(): void {
  spinUnlock(XV.x, XR_LOCK, ME, (m) => report(V, O.bug_on, -1, ME, STEPS, `mem_event ring: ${m}`));
}

/** Free request slots (ring lock held): size - (produced - responses consumed). */
function freeSlots(): number {
  const x = XV.x;
  return x[XR_SIZE] - (x[XR_REQ_PROD_PVT] - Atomics.load(x, XR_RSP_CONS)); // resume's store of RSP_CONS comes after it read the slot
}

/** Wake a participant that is idle in sim mode (PS_IDLE); the baton holder does it. */
function simWake(p: number): void {
  const w = paWord(p, PA_STATE);
  // Only the baton holder runs in sim mode: load and store need no more than whole words.
  if (Atomics.load(V.pa, w) === PS_IDLE) { Atomics.store(V.pa, w, PS_RUNNING); V.hdr[SIM_DIRTY] = 1; }
}

/** Event channel Xen -> pager. Threads: set the pending bit and notify (the pager re-checks the ring after clearing it). */
export function kickPager(): void {
  if (simActive()) { simWake(pagerId()); return; }
  if (Atomics.load(XV.x, XH_PAGER_KICK) === 0) {
    Atomics.store(XV.x, XH_PAGER_KICK, 1);
    Atomics.notify(XV.x, XH_PAGER_KICK, 1);
  }
}

/** The guest's I/O doorbell to dom0 (backend work follows guest activity). */
export function ringDom0(): void {
  if (simActive()) { simWake(dom0Id()); return; }
  if (Atomics.load(XV.x, XH_DOM0_KICK) === 0) {
    Atomics.store(XV.x, XH_DOM0_KICK, 1);
    Atomics.notify(XV.x, XH_DOM0_KICK, 1);
  }
}

/**
 * Reserve a request slot. A guest vCPU (guest = true) sleeps on the ring's wait queue
 * until one is available; a foreign caller gets E_BUSY and retries its whole operation,
 * and may not take the last slots (one is kept per vCPU). Returns 1 when a claim is held,
 * 0 when the unfixed X8 path only checked for room (nothing reserved), E_BUSY.
 */
export function ringClaim(guest: boolean, gfn: number): number {
  const x = XV.x;
  const reserve = ringReserve();
  const vw = XV_BASE + ME * XV_WORDS;
  let e0 = -1;
  let reported = false;
  for (let i = 0; ; i++) {
    ringLock();
    const avail = freeSlots() - (reserve ? x[XR_CLAIMS_GUEST] + x[XR_CLAIMS_FOREIGN] : 0);
    if (guest ? avail > 0 : avail > (reserve ? V.ncpus : 0)) {
      if (reserve) { if (guest) x[XR_CLAIMS_GUEST]++; else x[XR_CLAIMS_FOREIGN]++; }
      ringUnlock();
      if (e0 >= 0) { Atomics.sub(x, XR_WAITERS, 1); x[vw + XV_WHY] = 0; x[vw + XV_GFN] = -1; } // waiters: a statistic
      return reserve ? 1 : 0;
    }
    ringUnlock();
    if (!guest) return E_BUSY;
    if (e0 < 0) {
      e0 = Atomics.load(x, XH_DRAIN_EPOCH); // the clock the pager advances after each drain (seq-cst add there)
      Atomics.add(x, XR_WAITERS, 1);
      x[vw + XV_WHY] = 3; x[vw + XV_GFN] = gfn;
      XCNT[XC.ring_full_waits]++;
    }
    if (!reported && waitedTooLong(e0) && slotsLeaked()) {
      reported = true;
      report(V, O.liveness, gfn, ME, STEPS, `vCPU ${ME} waits for a mem_event ring slot (to page in gfn ${gfn}) through ` +
        `${Atomics.load(x, XH_DRAIN_EPOCH) - e0} pager drains${pagerGone() ? ' and the pager has exited' : ''}: ${ringDescribe()}`);
    }
    waitTurn(i);
  }
}

/** Return a claim that will not be used (the gfn changed meanwhile). */
export function ringCancel(claimed: number, guest: boolean): void {
  if (claimed !== 1) return;
  ringLock();
  if (guest) XV.x[XR_CLAIMS_GUEST]--; else XV.x[XR_CLAIMS_FOREIGN]--;
  ringUnlock();
}

/**
 * Put a request (entry lock of `gfn` held: the type change and the request are one step
 * for the pager). O-ring: a put into a slot that still holds an unconsumed request or
 * response is a protocol violation (X8).
 */
export function ringPut(flags: number, vcpu: number, gfn: number, p2mt: number, claimed: number, guest: boolean): void {
  const x = XV.x;
  ringLock();
  const size = x[XR_SIZE];
  const idx = x[XR_REQ_PROD_PVT];
  const cons = Atomics.load(x, XR_RSP_CONS); // a slot below cons was read by resume before it stored cons
  if (idx - cons >= size) {
    report(V, O.protocol, gfn, ME, STEPS, `mem_event ring overfilled: the request for gfn ${gfn} (${flagNames(flags)}) goes into slot ` +
      `${idx & (size - 1)}, which still holds an unconsumed entry (${idx - cons} of ${size} slots in use: produced ${idx}, ` +
      `responses consumed ${cons}); ${claimed === 1 ? '' : 'the producer checked for room without reserving it'}`);
  }
  const s = XS_BASE + (idx & (size - 1)) * RS_WORDS;
  x[s + RS_FLAGS] = flags; x[s + RS_VCPU] = vcpu; x[s + RS_GFN] = gfn; x[s + RS_P2MT] = p2mt; x[s + RS_REASON] = MEM_EVENT_REASON_MEM_PAGING;
  x[XR_REQ_PROD_PVT] = idx + 1;
  Atomics.store(x, XR_REQ_PROD, idx + 1); // release: the slot's words are visible to the pager's load of XR_REQ_PROD
  if (claimed === 1) { if (guest) x[XR_CLAIMS_GUEST]--; else x[XR_CLAIMS_FOREIGN]--; }
  ringUnlock();
  XCNT[XC.ring_requests]++;
  if (flags & MEM_EVENT_FLAG_EVICT_FAIL) XCNT[XC.evict_fail_events]++;
}

// ------------------------------------------------------------------ back end (the pager)
/** Scratch for one ring entry read by the pager or by resume: flags, vcpu, gfn, p2mt. */
export const entry = new Int32Array(4);

/** Next request, or false (pager only). The acquire load of XR_REQ_PROD pairs with ringPut's release store. */
export function ringGetRequest(): boolean {
  const x = XV.x;
  const cons = x[XR_REQ_CONS];
  if (cons === Atomics.load(x, XR_REQ_PROD)) return false; // acquire: pairs with ringPut's release store of REQ_PROD
  const s = XS_BASE + (cons & (x[XR_SIZE] - 1)) * RS_WORDS;
  entry[0] = x[s + RS_FLAGS]; entry[1] = x[s + RS_VCPU]; entry[2] = x[s + RS_GFN]; entry[3] = x[s + RS_P2MT];
  x[XR_REQ_CONS] = cons + 1;
  return true;
}

export function ringPendingRequests(): boolean {
  return XV.x[XR_REQ_CONS] !== Atomics.load(XV.x, XR_REQ_PROD); // acquire, as ringGetRequest
}

/** Fill the next response slot (pager only; published by ringPushResponses). */
export function ringPutResponse(flags: number, vcpu: number, gfn: number, p2mt: number): void {
  const x = XV.x;
  const idx = x[XR_RSP_PROD_PVT];
  const s = XS_BASE + (idx & (x[XR_SIZE] - 1)) * RS_WORDS;
  x[s + RS_FLAGS] = flags; x[s + RS_VCPU] = vcpu; x[s + RS_GFN] = gfn; x[s + RS_P2MT] = p2mt; x[s + RS_REASON] = MEM_EVENT_REASON_MEM_PAGING;
  x[XR_RSP_PROD_PVT] = idx + 1;
  XCNT[XC.ring_responses]++;
}

export function ringPushResponses(): void {
  Atomics.store(XV.x, XR_RSP_PROD, XV.x[XR_RSP_PROD_PVT]); // release: response slots are filled before resume loads it
}

/** Next response for Xen's resume (runs in the pager's context), or false. Frees the slot. */
export function ringGetResponse(): boolean {
  const x = XV.x;
  const cons = Atomics.load(x, XR_RSP_CONS); // only resume (the pager's thread) stores it
  if (cons === Atomics.load(x, XR_RSP_PROD)) return false; // acquire: pairs with ringPushResponses' release store
  const s = XS_BASE + (cons & (x[XR_SIZE] - 1)) * RS_WORDS;
  entry[0] = x[s + RS_FLAGS]; entry[1] = x[s + RS_VCPU]; entry[2] = x[s + RS_GFN]; entry[3] = x[s + RS_P2MT];
  // Release: the slot is read before producers may see it free and overwrite it.
  Atomics.store(x, XR_RSP_CONS, cons + 1);
  return true;
}

/** The pager finished a drain and resume: advance the waiters' clock and wake them. */
export function drainDone(): void {
  // Every request consumed so far was handled: what is still unanswered never will be. Stored before the epoch add.
  Atomics.store(XV.x, XR_LEAKED, XV.x[XR_REQ_CONS] - XV.x[XR_RSP_PROD_PVT]);
  Atomics.add(XV.x, XH_DRAIN_EPOCH, 1); // seq-cst: every response and unpause of the drain is visible to a waiter that sees the new epoch
  Atomics.notify(XV.x, XH_DRAIN_EPOCH);  // threads mode: wake waiters sleeping on the epoch
}

export function pagerGone(): boolean {
  return Atomics.load(XV.x, XH_PAGER_GONE) !== 0; // stored once by the pager on its way out
}

export function ringDescribe(): string {
  const x = XV.x;
  // Diagnostics: a snapshot of the indices, each a whole word; they may move while we read.
  const prod = Atomics.load(x, XR_REQ_PROD);
  const rprod = Atomics.load(x, XR_RSP_PROD);
  const rcons = Atomics.load(x, XR_RSP_CONS);
  return `ring size ${x[XR_SIZE]}: requests produced ${prod}, consumed by the pager ${x[XR_REQ_CONS]}, answered ${rprod}` +
    ` (${prod - rprod} never answered hold their slots), responses consumed ${rcons}, claims ${x[XR_CLAIMS_GUEST]}+${x[XR_CLAIMS_FOREIGN]}` +
    `, waiters ${Atomics.load(x, XR_WAITERS)}`;
}

// ------------------------------------------------------------------ vCPU pause and waits
/** VCPU_PAUSED: counted pause of this vCPU, taken before its request is put (entry lock held). */
export function pauseSelf(gfn: number): void {
  const vw = XV_BASE + ME * XV_WORDS;
  XV.x[vw + XV_GFN] = gfn;
  XV.x[vw + XV_WHY] = 1;
  Atomics.add(XV.x, vw + XV_PAUSE, 1); // seq-cst: visible before the request that will undo it
}

/** Xen's unpause on a VCPU_PAUSED response (resume, in the pager's context). */
export function unpauseVcpu(vcpu: number): void {
  if (vcpu < 0 || vcpu >= V.ncpus) {
    report(V, O.protocol, -1, ME, STEPS, `resume: a VCPU_PAUSED response names vCPU ${vcpu}, which does not exist`);
    return;
  }
  const w = XV_BASE + vcpu * XV_WORDS + XV_PAUSE;
  const was = Atomics.sub(XV.x, w, 1); // the paused vCPU loads it; notify wakes it in threads mode
  if (was <= 0) {
    Atomics.add(XV.x, w, 1); // undo
    report(V, O.protocol, -1, ME, STEPS, `resume: vCPU ${vcpu} unpaused more often than it was paused (a response answered twice?)`);
  }
  Atomics.notify(XV.x, w); // nobody waits on the word itself (waiters sleep on the drain epoch); harmless
}

/**
 * The run stopped on a violation and this vCPU waits for a page: it gives up (cpu_worker
 * catches VcpuAbandoned and ends the run loop). Never taken on a clean run.
 */
export function checkAbandon(): void {
  if ((V.hdr[CTL_STATE] | 0) !== CS_RUN && violationCount(V) > 0) throw ABANDONED;
}

/** One turn of a wait: sim mode yields the baton (a spinner); threads mode sleeps on the drain clock. */
function waitTurn(i: number): void {
  checkAbandon();
  if ((i & 63) === 63) kickPager(); // a lost request shows up as drains without an answer
  if (simActive()) { sp(SP_SPIN, i); return; }
  Atomics.wait(XV.x, XH_DRAIN_EPOCH, Atomics.load(XV.x, XH_DRAIN_EPOCH), 2); // woken by drainDone; 2 ms bound
}

/**
 * Every slot is held by a request the pager consumed in a finished drain and never
 * answered: no slot will ever come free (a claim that merely lost to faster producers,
 * or a request still being handled, is not that).
 */
function slotsLeaked(): boolean {
  return Atomics.load(XV.x, XR_LEAKED) >= XV.x[XR_SIZE]; // stored before the drain's seq-cst epoch add we saw
}

function waitedTooLong(e0: number): boolean {
  return Atomics.load(XV.x, XH_DRAIN_EPOCH) - e0 >= XV.x[XH_WAIT_DRAINS] || pagerGone();
}

function stallStart(): number {
  return simActive() ? STEPS : performance.now(); // wall-clock ok: threads mode only, a statistic, never a decision
}
function stallEnd(t0: number): void {
  XCNT[XC.vcpu_stall] += simActive() ? STEPS - t0 : Math.round((performance.now() - t0) * 1000); // wall-clock ok: threads mode only (statistic)
}

/**
 * Wait until the pager's response unpauses this vCPU (VCPU_PAUSED). O-liveness: if the
 * pager drains its ring XH_WAIT_DRAINS times and the vCPU is still paused, its request
 * was lost or never answered.
 */
export function waitUnpaused(gfn: number, describe: (g: number) => string): void {
  const x = XV.x;
  const vw = XV_BASE + ME * XV_WORDS;
  const e0 = Atomics.load(x, XH_DRAIN_EPOCH); // read after our request was put (ringPut's ring-lock release)
  const t0 = stallStart();
  let reported = false;
  XCNT[XC.vcpu_pauses]++;
  for (let i = 0; Atomics.load(x, vw + XV_PAUSE) !== 0; i++) { // the pager's seq-cst sub in unpauseVcpu
    // Re-read the pause after the drains were seen: a vCPU thread descheduled meanwhile is not a lost request.
    if (!reported && waitedTooLong(e0) && Atomics.load(x, vw + XV_PAUSE) !== 0) {
      reported = true;
      report(V, O.liveness, gfn, ME, STEPS, `vCPU ${ME} paused (VCPU_PAUSED) for a page-in of gfn ${gfn} and never resumed: ` +
        `the pager drained its ring ${Atomics.load(x, XH_DRAIN_EPOCH) - e0} times since${pagerGone() ? ' and has exited' : ''}; ` +
        `${describe(gfn)}; ${ringDescribe()}`);
    }
    waitTurn(i);
  }
  stallEnd(t0);
  x[vw + XV_WHY] = 0; x[vw + XV_GFN] = -1;
}

/**
 * A fault on a gfn already being paged in is spurious: the vCPU re-enters the guest and
 * faults again until the page-in publishes it (X16). `stillPagingIn` is re-read each turn.
 * O-liveness as for waitUnpaused. Returns when the gfn is no longer paging_in.
 */
export function spinOnPagingIn(gfn: number, stillPagingIn: (g: number) => boolean, describe: (g: number) => string): void {
  const x = XV.x;
  const vw = XV_BASE + ME * XV_WORDS;
  let e0 = Atomics.load(x, XH_DRAIN_EPOCH); // the populate that made g paging_in put its request under g's entry lock, before we saw the type
  // The type is read without the lock: g may be paged in, evicted and populated again between two looks (threads
  // mode), so the clock restarts with each populate episode (its count is added under the entry lock, seq-cst).
  let gen = Atomics.load(x, XV.g.popGen + gfn);
  const t0 = stallStart();
  let reported = false;
  x[vw + XV_WHY] = 2; x[vw + XV_GFN] = gfn;
  for (let i = 0; stillPagingIn(gfn); i++) {
    XCNT[XC.spin_exits_paging_in]++;
    const g2 = Atomics.load(x, XV.g.popGen + gfn);
    if (g2 !== gen) { gen = g2; e0 = Atomics.load(x, XH_DRAIN_EPOCH); }
    if (!reported && waitedTooLong(e0) && stillPagingIn(gfn) && Atomics.load(x, XV.g.popGen + gfn) === gen) {
      reported = true;
      report(V, O.liveness, gfn, ME, STEPS, `vCPU ${ME} keeps faulting on gfn ${gfn}, stuck in paging_in: the pager drained its ring ` +
        `${Atomics.load(x, XH_DRAIN_EPOCH) - e0} times${pagerGone() ? ' and has exited' : ''} and no page-in or resume came ` +
        `(a populate request nobody answered?); ${describe(gfn)}; ${ringDescribe()}`);
    }
    waitTurn(i);
  }
  stallEnd(t0);
  x[vw + XV_WHY] = 0; x[vw + XV_GFN] = -1;
}

export { RING_MAX };
