/**
 * What a scheduling point touches, for the strategies that reason about conflicts (pos,
 * surw, and the bounded exhaustive check's dfs). Every point is `sp(kind, obj)` (or a spin
 * on a busy word `obj`, core/sched.ts); a participant's *pending event* is the point it
 * stopped at when it last gave the baton away: the operation it performs when it runs next.
 *
 * The baton holder records its own pending event in its participant area whenever one of
 * these strategies is consulted (they are consulted at every point), so when it hands the
 * baton over the word says where it stopped. Words (participant area, owner = baton holder
 * for itself; layout.ts reserves them):
 *   PA_EV_KIND  the point's kind (sched.ts SP_*), EV_UNKNOWN before its first point
 *   PA_EV_OBJ   the point's object (-1 unknown)
 *
 * Conflict (two events that do not commute): same object, or either of them has no object
 * or a kind that touches shared state beyond its object (epoch sign-off, the host's reclaim
 * pass, fault entry, an unknown spin). Every point is counted as a write. Objects are not
 * typed (a pfn and a lock word index may collide): a collision only adds conflicts.
 * A local event (OBJ_LOCAL, OBJ_STALL: the inner points of an injected stall, whose code up
 * to the next point touches nothing shared) conflicts with nothing: it is invisible in the
 * sense of CHESS (Musuvathi, Qadeer, PLDI 2007: a preemption is only needed before an
 * operation on shared state; one before an invisible event is equivalent to one after it).
 */
import { PA_EV_KIND, PA_EV_OBJ, paWord } from '../core/layout.js';
import { OBJ_LOCAL, OBJ_STALL, SP_ACCESS, SP_EPOCH, SP_ESSA, SP_FAULT, SP_HOST, SP_SPIN } from '../core/sched.js';

export const EV_UNKNOWN = 0;

/** Record the baton holder's pending event (strategies that track conflicts; hot path). */
export function recordEvent(pa: Int32Array, me: number, kind: number, obj: number): void {
  pa[paWord(me, PA_EV_KIND)] = kind;
  pa[paWord(me, PA_EV_OBJ)] = obj;
}

/** Kinds whose object does not bound what they touch (bitmask over SP_*). */
const GLOBAL_KINDS = (1 << EV_UNKNOWN) | (1 << SP_EPOCH) | (1 << SP_HOST) | (1 << SP_FAULT);

/** Does an event touch nothing shared (it commutes with every other)? */
export function isLocalEvent(o: number): boolean {
  return o === OBJ_LOCAL || o === OBJ_STALL;
}

/** Does an event touch shared state beyond one object (it conflicts with every non-local other)? */
export function isGlobalEvent(k: number, o: number): boolean {
  return !isLocalEvent(o) && (((GLOBAL_KINDS >> k) & 1) !== 0 || o < 0);
}

/** Do two pending events conflict (not commute)? */
export function conflicts(k1: number, o1: number, k2: number, o2: number): boolean {
  if (isLocalEvent(o1) || isLocalEvent(o2)) return false;
  if (((GLOBAL_KINDS >> k1) & 1) !== 0 || ((GLOBAL_KINDS >> k2) & 1) !== 0) return true;
  if (o1 < 0 || o2 < 0) return true;

  return o1 === o2;
}

/** Do participants p and q's pending events conflict? */
export function participantsConflict(pa: Int32Array, p: number, q: number): boolean {
  return conflicts(pa[paWord(p, PA_EV_KIND)], pa[paWord(p, PA_EV_OBJ)], pa[paWord(q, PA_EV_KIND)], pa[paWord(q, PA_EV_OBJ)]);
}

/** Start of a run: nobody's pending event is known. */
export function clearEvents(pa: Int32Array, n: number): void {
  for (let p = 0; p < n; p++) recordEvent(pa, p, EV_UNKNOWN, -1);
}

/**
 * The bounded exhaustive check's relation (explore/check.ts, sim/strategies/dfs.ts). Each
 * event falls in one class; two events of different participants conflict as below.
 *   EC_LOCAL   touches nothing shared (a stall's inner points; with the ESSA model, a guest
 *              CPU's start): conflicts with nothing
 *   EC_GLOBAL  unknown footprint: conflicts with everything but EC_LOCAL
 *   EC_PLAIN   a guest event on one object (lock word, pfn...): the same object
 *   EC_HS      a guest event that may touch host state (ESSA, frame access, a spin that may
 *              retry either): EC_PLAIN's rule, every other EC_HS event and every EC_HOST
 *              event (see below: its object does not bound its host footprint)
 *   EC_HOST    a host participant's event on frame `obj` (-1: its loop top only): the same
 *              object, every EC_HS event, every other EC_HOST event
 * Without a model (CHECK_MODEL_NONE) the classes are those of `conflicts` (local, global,
 * plain): the relation pos and surw use, plus local events. CHECK_MODEL_ESSA is the audited
 * footprint of the ESSA host with the mixed page-cache workload (the check's ground for
 * discard-get-page, discard-grace and their kin):
 *  - the host's reclaim (hosts/essa/reclaim.ts, machine/host_worker.ts) touches, after
 *    sp(SP_HOST, t) or a spin on t's frame lock, frame t's host state word, content and swap
 *    slot, and the host-wide words HOST_RESIDENT (residency), INJ_TOUCHED (the frame a guest
 *    touched last), CTL_STATE and the guest CPUs' PA_STATE (loop top); the guest writes the
 *    first two only inside an ESSA (essa.ts essa/essaBatch, after sp(SP_ESSA)) or a frame
 *    access (hwBegin, after sp(SP_ACCESS); its frame-lock spins are SP_SPIN points), never
 *    reads host state elsewhere (the guest imports no host); a CPU's PA_STATE changes at its
 *    exit, whose last event the check counts as EC_GLOBAL (dfs.ts F_EXIT); CTL_STATE changes
 *    on a violation, which ends the search;
 *  - a guest CPU's first event (EV_UNKNOWN) runs the worker's loop top (reads CTL_STATE) and
 *    the workload's op draw up to the step's first point, cpu_quiescent's sp(SP_EPOCH)
 *    (workloads/file_churn.ts mixed step): nothing shared besides the stop flag.
 *  - two guest EC_HS events conflict whatever their objects: every frame access stores
 *    INJ_TOUCHED (inject.ts injTouch; the check's ground injects host-reclaim-touched, so the
 *    last writer decides the frame the host reclaims next), a batched ESSA (essa.ts
 *    essaBatch, CTL_BATCH: on in this ground) changes the host state words of every frame
 *    of its batch after one sp(SP_ESSA, first pfn), and a spin on a frame lock may resume
 *    either (audit of this session: the relation before it let two accesses, or a batch and
 *    an access to one of its later frames, commute; they do not).
 * Other guest-guest pairs keep `conflicts` (the standing assumption (a) of check.ts).
 */
export const EC_LOCAL = 0, EC_GLOBAL = 1, EC_PLAIN = 2, EC_HS = 3, EC_HOST = 4;
export const CHECK_MODEL_NONE = 0, CHECK_MODEL_ESSA = 1;

/** The class of the event (kind, obj) of participant p (host: p >= ncpus). */
export function eventClass(model: number, k: number, o: number, host: boolean): number {
  if (isLocalEvent(o)) return EC_LOCAL;
  if (model === CHECK_MODEL_NONE) return isGlobalEvent(k, o) ? EC_GLOBAL : EC_PLAIN;
  if (host) return EC_HOST;
  if (k === EV_UNKNOWN) return EC_LOCAL;
  if (isGlobalEvent(k, o)) return EC_GLOBAL;
  return k === SP_ESSA || k === SP_ACCESS || k === SP_SPIN ? EC_HS : EC_PLAIN;
}

/** Do two events of different participants, by class and object, conflict? */
export function classesConflict(c1: number, o1: number, c2: number, o2: number): boolean {
  if (c1 === EC_LOCAL || c2 === EC_LOCAL) return false;
  if (c1 === EC_GLOBAL || c2 === EC_GLOBAL) return true;
  if (c1 === EC_HOST && (c2 === EC_HS || c2 === EC_HOST)) return true;
  if (c2 === EC_HOST && c1 === EC_HS) return true;
  if (c1 === EC_HS && c2 === EC_HS) return true; // INJ_TOUCHED, batched ESSAs: see CHECK_MODEL_ESSA
  return o1 === o2 && o1 >= 0;
}

/** The check's relation on participants p and q's pending events. */
export function checkParticipantsConflict(pa: Int32Array, model: number, ncpus: number, p: number, q: number): boolean {
  const kp = pa[paWord(p, PA_EV_KIND)], op = pa[paWord(p, PA_EV_OBJ)], kq = pa[paWord(q, PA_EV_KIND)], oq = pa[paWord(q, PA_EV_OBJ)];
  return classesConflict(eventClass(model, kp, op, p >= ncpus), op, eventClass(model, kq, oq, q >= ncpus), oq);
}
