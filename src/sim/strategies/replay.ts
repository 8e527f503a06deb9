/**
 * replay: follow a recorded schedule (replay files, shrinking). At each decision's step
 * the baton goes to the decision's participant if it can run; decisions whose step has
 * passed are skipped (a shrunk schedule may lack the points they were taken at). Where the
 * schedule says nothing, the holder keeps running; when it must not (a spin, or the
 * recorded participant cannot run), the first runnable participant after it, round robin.
 * Draws nothing.
 *
 * Words (SIM_STRAT + i):
 *   0  POS  baton holder: the next decision to follow (index into Views.slogIn)
 *   1  N    main: decisions to follow (in slogIn, schedule.ts log layout)
 */
import { SIM_NEXT, SIM_STRAT } from '../../core/layout.js';
import { logStep, logTo, writeLog } from '../schedule.js';
import { NEVER, excluded, nextRunnable, runnable, type Strategy } from '../strategy.js';

const POS = SIM_STRAT;
const N = SIM_STRAT + 1;

export const replay: Strategy = {
  name: 'replay',
  help: 'follow a recorded schedule (replay files; selected by the schedule, not by --strategy)',
  words: 2,

  setup(v, o) {
    const s = o.schedule;
    if (!s) throw new Error('sim: the replay strategy needs a schedule');
    v.hdr[N] = writeLog(v.slogIn, s.decisions);
    v.hdr[POS] = 0;
    return s.first;
  },

  choose(step, kind, _arg, me, v) {
    const h = v.hdr;
    const exclude = excluded(kind, me);
    const log = v.slogIn;
    const end = h[N];
    let pos = h[POS];
    while (pos < end && logStep(log, pos) < step) pos++; // a shrunk schedule may skip some
    let to = -1;
    if (pos < end && logStep(log, pos) === step) to = logTo(log, pos++);
    h[POS] = pos;
    h[SIM_NEXT] = pos < end ? logStep(log, pos) : NEVER;
    if (to >= 0 && to !== exclude && runnable(v, to)) return to;
    return nextRunnable(v, me, kind);
  },
};
