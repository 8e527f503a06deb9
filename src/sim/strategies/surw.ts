/**
 * surw: selectively uniform random walk (Zhao, Wolff, Mathur, Roychoudhury: "Selectively
 * Uniform Concurrency Testing", ASPLOS 2025; awslabs/shuttle's urw.rs). A plain random walk
 * (pick any runnable participant at each point) is far from uniform over interleavings: it
 * rarely lets one participant run long while another waits. URW picks participant p with
 * probability proportional to the events p still has to execute, which samples every
 * interleaving of the counted events with the same probability, and decrements p's count
 * (never below 1: a participant that outlives its estimate keeps a small weight).
 *
 * Selective: only points that touch shared state count as events of the walk (every kind
 * but SP_UNLOCK, where the holder just lets go, and SP_SPIN, which always hands the baton
 * on and is weighted like the rest). At an unlock the holder keeps running.
 *
 * Estimates: shuttle measures them in a first execution; a sim run is a single execution,
 * so they come from the op budget: a CPU's share of --ops times SURW_POINTS_PER_OP, the
 * host's participants 1/SURW_HOST_SHARE of the CPUs' total each. Good at races that need
 * one participant to run a long stretch (a whole truncation) inside another's window.
 *
 * Words (SIM_STRAT + i):
 *   0 .. 16  REMAIN  baton holder: estimated events left per participant (>= 1)
 * Draws: setup, one (the first participant, weighted); choose, SIM_RNG, one per decision.
 */
import { CTL_NCPUS, MAX_PARTICIPANTS, SIM_NEXT, SIM_NPART, SIM_STRAT } from '../../core/layout.js';
import { SP_SPIN, SP_UNLOCK } from '../../core/sched.js';
import { excluded, runnable, simRand, type Strategy } from '../strategy.js';

const REMAIN = SIM_STRAT;
/** Counted scheduling points per workload op (measured: about 16 points per op, most of them counted). */
export const SURW_POINTS_PER_OP = 12;
/** Each host participant's estimate: the CPUs' total over this. */
export const SURW_HOST_SHARE = 4;

export const surw: Strategy = {
  name: 'surw',
  help: 'selectively uniform random walk: every interleaving of the shared-state points equally likely (races that need one CPU to run a long stretch inside another\'s window)',
  words: MAX_PARTICIPANTS,

  setup(v, o, n, rng) {
    const h = v.hdr;
    const ncpus = Math.min(n, h[CTL_NCPUS]);
    const ops = Math.max(ncpus, o.ops ?? 1000);
    let cpuTotal = 0;
    for (let p = 0; p < ncpus; p++) {
      const share = Math.floor(ops / ncpus) + (p < ops % ncpus ? 1 : 0);
      h[REMAIN + p] = Math.max(1, Math.min(1 << 26, share * SURW_POINTS_PER_OP));
      cpuTotal += h[REMAIN + p];
    }
    for (let p = ncpus; p < n; p++) h[REMAIN + p] = Math.max(1, Math.floor(cpuTotal / SURW_HOST_SHARE));
    let total = 0;
    for (let p = 0; p < n; p++) total += h[REMAIN + p];
    let k = rng.below(Math.min(total, 0x7fffffff));
    for (let p = 0; p < n; p++) { k -= h[REMAIN + p]; if (k < 0) return p; }
    return n - 1;
  },

  choose(step, kind, _obj, me, v) {
    const h = v.hdr;
    const n = h[SIM_NPART];
    h[SIM_NEXT] = step + 1;
    if (kind === SP_UNLOCK && runnable(v, me)) return me; // not an event of the walk
    const exclude = excluded(kind, me);
    let total = 0;
    for (let p = 0; p < n; p++) if (p !== exclude && runnable(v, p)) total += h[REMAIN + p];
    if (total === 0) return -1;
    // total < 2^31: 17 participants, each count < 2^26 (setup clamps)
    let k = simRand(h) % total;
    for (let p = 0; p < n; p++) {
      if (p === exclude || !runnable(v, p)) continue;
      k -= h[REMAIN + p];
      if (k < 0) {
        if (kind !== SP_SPIN || p !== me) h[REMAIN + p] = Math.max(1, h[REMAIN + p] - 1);
        return p;
      }
    }
    return -1;
  },
};
