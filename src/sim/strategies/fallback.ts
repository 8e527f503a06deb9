/**
 * The seed's own strategy as the best-effort fallback of the strategies that replay a
 * recorded schedule (keyed.ts, ring.ts): random or pct, as the run's options name it, its
 * words at SIM_STRAT set up as a fresh run of the seed has them. The replaying strategy keeps
 * its own words at the end of the strategy area, and records its first divergence there.
 */
import type { Prng } from '../../core/prng.js';
import { SIM_STRAT_WORDS } from '../../core/layout.js';
import type { SimSetupOptions, SimView, Strategy } from '../strategy.js';
import { pct } from './pct.js';
import { random } from './random.js';

const FALLBACKS: readonly Strategy[] = [random, pct];

/** Module load: a replaying strategy with `own` words at the end of the area must not overlap a fallback's. */
export function checkFallbackWords(name: string, own: number): void {
  for (const f of FALLBACKS) if (f.words > SIM_STRAT_WORDS - own) throw new Error(`sim strategy ${name}: ${f.name}'s words overlap its own`);
}

/** Set the fallback up as a fresh run of the seed; returns its index (0 random, 1 pct) for fallbackChoose. */
export function setupFallback(v: SimView, o: SimSetupOptions, n: number, rng: Prng): number {
  const fall = o.strategy === 'pct' ? 1 : 0;
  FALLBACKS[fall].setup(v, o, n, rng);
  return fall;
}

/** The fallback's choice at this point (hot after a divergence: no allocation). */
export function fallbackChoose(fall: number, step: number, kind: number, arg: number, me: number, v: SimView): number {
  return FALLBACKS[fall].choose(step, kind, arg, me, v);
}

/** The first divergence of a replay: the decision, the step it was seen at, and why. */
export type Divergence = { decision: number; step: number; why: 'passed' | 'finished' | 'late' } | null;

/** Decode the divergence words: `div` the diverging decision + 1 (0: none), `why` 1 passed, 2 finished, 3 late. */
export function divergenceOf(div: number, step: number, why: number): Divergence {
  return div ? { decision: div - 1, step, why: (['passed', 'finished', 'late'] as const)[why - 1] } : null;
}
