/**
 * The threads-mode point ring: the last RING_POINTS scheduling points each participant
 * passed, so that a threads-mode failure can be turned into a sim schedule
 * (explore/ring_schedule.ts, sim/strategies/ring.ts). It exists only when the run asked for
 * it (RunOptions.recordRing: hunt --mode threads, stress threads runs), in its own
 * SharedArrayBuffer; without it `sp` pays one null check (core/sched.ts).
 *
 * Layout (Int32 words):
 *   [0]                 TICKET: the global order stamp, Atomics.add by every recorder
 *   [1]                 participants the area was made for
 *   then per participant p, at RING_HDR + p * RING_PER_PARTICIPANT:
 *     [0]               points written so far (monotonic; written only by p, plain store)
 *     [1 + 4 i ..]      point i mod RING_POINTS: kind, arg, own count, stamp
 * `own count` is the participant's count of scheduling points so far, this one included,
 * spins excluded (sched.ts does not record SP_SPIN points: most threads-mode spinning goes
 * through no scheduling point at all): the ring strategy (sim/strategies/ring.ts) counts the
 * same points in a sim run, which is how a ring decision is found again in sim mode.
 *
 * Ordering: the stamp is one seq-cst Atomics.add on TICKET per point, taken at the point,
 * before the action that follows it. Seq-cst read-modify-writes on one word form a single
 * total order that agrees with each thread's program order and with every happens-before
 * edge through other atomics (a lock release/acquire, an ESSA CAS): a point that happened
 * before another in that sense has the lower stamp. Points with no such edge between them
 * (two CPUs on unrelated pages) are ordered as their adds happened to land: the order of
 * reaching the points, not of the actions after them. The main thread reads the rings only
 * after every participant's run call returned (a message: happens-after all their writes).
 */
export const RING_POINTS = 4096;
const MASK = RING_POINTS - 1;
export const RING_SLOT = 4;
export const RING_HDR = 2;
export const RING_PER_PARTICIPANT = 1 + RING_POINTS * RING_SLOT;
const TICKET = 0;

/** Main: the ring area for `participants` (zeroed). */
export function ringArea(participants: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer((RING_HDR + participants * RING_PER_PARTICIPANT) * 4);
  new Int32Array(sab)[1] = participants;
  return sab;
}

/** A participant's view of the area: the whole area (for the ticket) and its own ring. */
export interface RingView { all: Int32Array; mine: Int32Array }

/** This participant's ring view (null: not recording). */
export function ringView(sab: SharedArrayBuffer | null | undefined, me: number): RingView | null {
  if (!sab) return null;
  const all = new Int32Array(sab);
  if (me >= all[1]) return null;
  return { all, mine: new Int32Array(sab, (RING_HDR + me * RING_PER_PARTICIPANT) * 4, RING_PER_PARTICIPANT) };
}

/** Record a point (hot path: four plain stores, one atomic add, nothing allocated). */
export function ringPut(all: Int32Array, mine: Int32Array, kind: number, arg: number): void {
  const n = mine[0];
  const b = 1 + (n & MASK) * RING_SLOT;
  mine[b] = kind;
  mine[b + 1] = arg;
  mine[b + 2] = n + 1;
  mine[b + 3] = Atomics.add(all, TICKET, 1); // seq-cst: the global order of points (see the header)
  mine[0] = n + 1; // plain: only main reads it, after the run
}

/** One recorded point: participant `who` at its `count`-th point, of `kind` on `arg`, global order `stamp`. */
export interface RingPoint { who: number; kind: number; arg: number; count: number; stamp: number }

/** Main, after the run: each participant's ring, oldest point first, and how many points it passed in all. */
export function readRings(sab: SharedArrayBuffer): { points: RingPoint[][]; passed: number[] } {
  const all = new Int32Array(sab);
  const n = all[1];
  const points: RingPoint[][] = [];
  const passed: number[] = [];
  for (let p = 0; p < n; p++) {
    const base = RING_HDR + p * RING_PER_PARTICIPANT;
    const written = all[base];
    const out: RingPoint[] = [];
    for (let i = Math.max(0, written - RING_POINTS); i < written; i++) {
      const b = base + 1 + (i & MASK) * RING_SLOT;
      out.push({ who: p, kind: all[b], arg: all[b + 1], count: all[b + 2], stamp: all[b + 3] });
    }
    points.push(out);
    passed.push(written);
  }
  return { points, passed };
}
