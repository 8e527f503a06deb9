/**
 * random: consulted every 1..(2*mean-1) scheduling points (mean = --switch-every, default
 * 16), then any runnable participant, this one included, is equally likely to run next.
 * A spinner is never chosen by itself. Cheap and unbiased; good at races that need many
 * switches at no particular place.
 *
 * Words (SIM_STRAT + i):
 *   0  SWITCH_PCT  main: the chance of a consultation per point in 1/65536 (65536 / mean)
 * Draws: SIM_RNG, two per consultation (the next consultation's distance, then the choice).
 */
import { SIM_NEXT, SIM_NPART, SIM_STRAT } from '../../core/layout.js';
import { excluded, runnable, simRand, type Strategy } from '../strategy.js';

const SWITCH_PCT = SIM_STRAT;

export const random: Strategy = {
  name: 'random',
  help: 'a switch to a uniformly chosen runnable participant every --switch-every points on average',
  words: 1,

  setup(v, o, n, rng) {
    v.hdr[SWITCH_PCT] = Math.max(1, Math.round(65536 / o.switchEvery));
    return rng.below(n);
  },

  choose(step, kind, _arg, me, v) {
    const h = v.hdr;
    const n = h[SIM_NPART];
    const exclude = excluded(kind, me);
    const mean = (65536 / h[SWITCH_PCT]) | 0;
    h[SIM_NEXT] = step + 1 + (simRand(h) % (2 * mean - 1));
    let count = 0;
    for (let p = 0; p < n; p++) if (p !== exclude && runnable(v, p)) count++;
    if (count === 0) return -1;
    let k = simRand(h) % count;
    for (let p = 0; p < n; p++) {
      if (p === exclude || !runnable(v, p)) continue;
      if (k-- === 0) return p;
    }
    return -1;
  },
};
