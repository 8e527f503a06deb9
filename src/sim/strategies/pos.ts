/**
 * pos: partial order sampling (Yuan, Yang, Gu: "Partial Order Aware Concurrency Sampling",
 * CAV 2018; awslabs/shuttle's pos.rs follows the same rules). Every participant's pending
 * event (the scheduling point it stopped at, with the object it touches: sim/events.ts) has
 * a random priority; at every scheduling point the runnable participant with the highest
 * priority runs next. Then the event that runs and every pending event that conflicts with
 * it (same object) get fresh priorities; the others' priorities decay upwards so that none
 * waits forever. Unlike pct it needs no guess of the run's length or of the bug's depth,
 * and orders of independent events (different pages) are not sampled twice as often:
 * good at races between two or three accesses to the same page or lock, wherever they are.
 *
 * Consulted at every point (SIM_NEXT = step + 1). A spinner is a candidate like any other:
 * when it runs it draws a new priority, so the holder of its word gets its turn.
 *
 * Words (SIM_STRAT + i):
 *   0 .. 16  PRIO  baton holder: priority per participant (MAX_PARTICIPANTS), 0 .. 2^31-1
 * Participant words PA_EV_KIND, PA_EV_OBJ (events.ts): each holder's pending event.
 * Draws: setup, one priority per participant from the setup stream (participant order);
 * choose, SIM_RNG, one per re-drawn priority (participant order).
 */
import { MAX_PARTICIPANTS, SIM_NEXT, SIM_NPART, SIM_STRAT } from '../../core/layout.js';
import { clearEvents, participantsConflict, recordEvent } from '../events.js';
import { excluded, runnable, simRand, type Strategy } from '../strategy.js';

const PRIO = SIM_STRAT;
/** Added to a priority that was not re-drawn (shuttle's default: a lost draw catches up in ~10^4 points). */
export const POS_DECAY = 214_748;
const PRIO_MAX = 0x7fffffff;

export const pos: Strategy = {
  name: 'pos',
  help: 'partial order sampling: fresh priorities for the events that touch the same page or lock as the one that ran (races between a few accesses to one object, wherever they are)',
  words: MAX_PARTICIPANTS,

  setup(v, _o, n, rng) {
    const h = v.hdr;
    let first = 0;
    for (let p = 0; p < n; p++) {
      h[PRIO + p] = rng.next() >>> 1;
      if (h[PRIO + p] > h[PRIO + first]) first = p;
    }
    clearEvents(v.pa, n);
    return first;
  },

  choose(step, kind, obj, me, v) {
    const h = v.hdr;
    const n = h[SIM_NPART];
    const exclude = excluded(kind, me);
    recordEvent(v.pa, me, kind, obj); // a spinner retries its busy word; a finished one (simExit) is never runnable again
    h[SIM_NEXT] = step + 1;
    let best = -1;
    for (let p = 0; p < n; p++) {
      if (p === exclude || !runnable(v, p)) continue;
      if (best < 0 || h[PRIO + p] > h[PRIO + best]) best = p;
    }
    if (best < 0) return -1;
    for (let p = 0; p < n; p++) {
      if (!runnable(v, p) && p !== best) continue;
      if (p === best || participantsConflict(v.pa, p, best)) h[PRIO + p] = simRand(h) >>> 1;
      else h[PRIO + p] = Math.min(PRIO_MAX, h[PRIO + p] + POS_DECAY);
    }
    return best;
  },
};
