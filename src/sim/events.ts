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
import { OBJ_LOCAL, OBJ_STALL, SP_EPOCH, SP_FAULT, SP_HOST } from '../core/sched.js';

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
