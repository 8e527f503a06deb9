/**
 * pct: priority-change points (Burckhardt et al., ASPLOS 2010). Each participant gets a
 * distinct initial priority (16 + its rank in a seeded shuffle); the runnable participant
 * with the highest priority runs. At depth-1 seeded steps (change points, uniform over
 * the estimated ops*24 scheduling points of the run) the running participant drops to a
 * priority below every initial one (the change point's index). Good at races that need
 * a few switches at precise places: it finds a depth-d bug with probability >= 1/(n k^(d-1)).
 *
 * A participant spinning on a busy word counts as blocked: it is passed over while anyone
 * else can run. When every runnable participant spins, they are tried in turn (round
 * robin after the current one), never by priority (a livelock otherwise: see choose).
 *
 * Words (SIM_STRAT + i):
 *   0             CHANGE_K  baton holder: the next change point's index
 *   1             NCHANGE   main: change points (0..16)
 *   2 .. 17       CHANGE    main: the change points' steps, ascending
 *   18 .. 34      PRIO      baton holder: priority per participant (MAX_PARTICIPANTS)
 * Draws (setup, after the shared RNG words): the shuffle (n-1 draws), then the change points.
 */
import { MAX_PARTICIPANTS, SIM_NEXT, SIM_NPART, SIM_STRAT } from '../../core/layout.js';
import { NEVER, excluded, runnable, spinning, type Strategy } from '../strategy.js';

export const PCT_MAX_CHANGES = 16;
export const PCT_CHANGE_K = SIM_STRAT;
export const PCT_NCHANGE = SIM_STRAT + 1;
export const PCT_CHANGE = SIM_STRAT + 2;
export const PCT_PRIO = PCT_CHANGE + PCT_MAX_CHANGES;
/** Initial priorities are PCT_PRIO_BASE + rank; a change point k sets k (< every initial one). */
export const PCT_PRIO_BASE = PCT_MAX_CHANGES;

export const pct: Strategy = {
  name: 'pct',
  help: 'priority-change points (--depth d: d-1 of them): few switches at precise places',
  words: 2 + PCT_MAX_CHANGES + MAX_PARTICIPANTS,

  setup(v, o, n, rng) {
    const h = v.hdr;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) { const j = rng.below(i + 1); [order[i], order[j]] = [order[j], order[i]]; }
    order.forEach((p, rank) => { h[PCT_PRIO + p] = PCT_PRIO_BASE + rank; });
    const k = Math.max(16, (o.ops ?? 0) * 24); // estimated scheduling points of the run
    const nc = Math.min(PCT_MAX_CHANGES, Math.max(0, o.depth - 1));
    const pts = Array.from({ length: nc }, () => 1 + rng.below(k)).sort((a, b) => a - b);
    pts.forEach((s, i) => { h[PCT_CHANGE + i] = s; });
    h[PCT_NCHANGE] = nc; h[PCT_CHANGE_K] = 0;
    return order[n - 1];
  },

  choose(step, kind, _arg, me, v) {
    const h = v.hdr;
    const n = h[SIM_NPART];
    const exclude = excluded(kind, me);
    let ck = h[PCT_CHANGE_K];
    if (ck < h[PCT_NCHANGE] && step >= h[PCT_CHANGE + ck]) {
      h[PCT_PRIO + me] = ck; // drop below every initial priority (those are >= PCT_PRIO_BASE)
      h[PCT_CHANGE_K] = ++ck;
    }
    h[SIM_NEXT] = ck < h[PCT_NCHANGE] ? h[PCT_CHANGE + ck] : NEVER;
    // A spinner waits for someone: like a blocked thread in PCT it is not a candidate while
    // anyone else can run, or two spinners above the lock holder hand the baton back and forth.
    let best = -1;
    for (let p = 0; p < n; p++) {
      if (p === exclude || !runnable(v, p) || spinning(h, p)) continue;
      if (best < 0 || h[PCT_PRIO + p] > h[PCT_PRIO + best]) best = p;
    }
    if (best >= 0) return best;
    // Every runnable participant is a spinner. Their marks are stale: a spinner's word may
    // have been released since it last looked, and only running it again tells. Try them
    // in turn (round robin after this one), never by priority: by priority the two highest
    // spinners hand the baton back and forth while the one whose word is free (or who
    // holds what they wait for) never runs again (soak case soak-sim-liveness: four CPUs,
    // CPUs 0 and 1 spinning on a truncation that CPU 3, at priority 0, was in the middle of).
    for (let k = 1; k <= n; k++) {
      const p = (me + k) % n;
      if (p !== exclude && runnable(v, p)) return p;
    }
    return -1;
  },
};
