/**
 * keyed: follow a keyed schedule (replay files of version 3, sim/keys.ts). Each decision
 * names the participant that took it and its point: its own count of points of that kind on
 * that object. While decisions remain, the strategy is asked at every point; when the
 * holder's current point is the next decision's, the baton goes where the decision says;
 * elsewhere the holder keeps running (on a spin: the next runnable participant, round
 * robin), as the step replay does.
 *
 * Divergence (the model changed under the file): the next decision's point was passed (its
 * participant counted beyond it), its participant finished, or the run went on well past
 * the step it was recorded at. From there the run goes on best-effort with the strategy of
 * the file's seed (random or pct, its words set up as for a fresh run), and the first
 * divergence is reported (keyedResult).
 *
 * Words: the fallback strategy's from SIM_STRAT, this strategy's at the end of the area:
 *   KB+0 POS   the next decision to follow      KB+1 N     decisions to follow
 *   KB+2 FALL  fallback: 0 random, 1 pct        KB+3 DIV   0, or the diverging decision + 1
 *   KB+4 DIV_STEP  the step it was seen at      KB+5 WHY   1 passed, 2 finished, 3 late
 */
import { PA_STATE, SIM_NEXT, SIM_STRAT, SIM_STRAT_WORDS, paWord } from '../../core/layout.js';
import { IN_BASE, IN_WORDS, curArg, curCount, curKind, inLog } from '../keys.js';
import { NEVER, excluded, nextRunnable, runnable, type Strategy } from '../strategy.js';
import { checkFallbackWords, divergenceOf, fallbackChoose, setupFallback, type Divergence } from './fallback.js';

const OWN = 6;
const KB = SIM_STRAT + SIM_STRAT_WORDS - OWN;
const POS = KB, N = KB + 1, FALL = KB + 2, DIV = KB + 3, DIV_STEP = KB + 4, WHY = KB + 5;
checkFallbackWords('keyed', OWN);

/** How far past its recorded step a decision may come before the replay has diverged. */
function late(recorded: number): number {
  return recorded + 1000 + (recorded >> 1);
}

export const keyed: Strategy = {
  name: 'keyed',
  help: 'follow a keyed schedule (version 3 replay files; selected by the schedule, not by --strategy)',
  words: SIM_STRAT_WORDS,

  setup(v, o, n, rng) {
    const s = o.schedule;
    if (!s?.keys) throw new Error('sim: the keyed strategy needs a keyed schedule');
    const fall = setupFallback(v, o, n, rng); // its words, as a fresh run of the seed has them
    const h = v.hdr;
    h[POS] = 0; h[N] = s.keys.length; h[FALL] = fall; h[DIV] = 0; h[DIV_STEP] = 0; h[WHY] = 0;
    h[SIM_NEXT] = 1;
    return s.first;
  },

  choose(step, kind, arg, me, v) {
    const h = v.hdr;
    if (h[DIV] !== 0) return fallbackChoose(h[FALL], step, kind, arg, me, v);
    const pos = h[POS];
    if (pos >= h[N]) { h[SIM_NEXT] = NEVER; return nextRunnable(v, me, kind); }
    const w = inLog();
    const b = IN_BASE + pos * IN_WORDS;
    const who = w[b], k = w[b + 1], a = w[b + 2], c = w[b + 3], to = w[b + 4], recorded = w[b + 5];
    h[SIM_NEXT] = step + 1; // every point, while decisions remain
    if (me === who && curKind === k && curArg === a && curCount === c) {
      h[POS] = pos + 1;
      if (to >= 0 && to !== excluded(kind, me) && runnable(v, to)) return to;
      return nextRunnable(v, me, kind);
    }
    const why = me === who && curKind === k && curArg === a && curCount > c ? 1
      : who !== me && Atomics.load(v.pa, paWord(who, PA_STATE)) === 2 ? 2
        : step > late(recorded) ? 3 : 0;
    if (why === 0) return nextRunnable(v, me, kind);
    h[DIV] = pos + 1; h[DIV_STEP] = step; h[WHY] = why;
    return fallbackChoose(h[FALL], step, kind, arg, me, v);
  },
};

/** Main thread, after a keyed run: decisions followed, and the first divergence. */
export interface KeyedOutcome { decisions: number; followed: number; diverged: Divergence }

export function keyedResult(h: Int32Array): KeyedOutcome {
  const d = h[DIV];
  return {
    decisions: h[N], followed: d ? d - 1 : h[POS],
    diverged: divergenceOf(d, h[DIV_STEP], h[WHY]),
  };
}
