/**
 * Regenerate src/explore/race_bounds.ts: for each race, `hintsim check` with its fix off,
 * bounds 0..MAX in turn, and record the least bound at which a violation was found (null:
 * none up to the bound reached; the table then prints "-").
 *   node --import tsx scripts/race-bounds.ts [--seconds S] [--max K] [ID...]
 * Races not named keep their existing entry. Long: each race gets up to S seconds (default 300).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RACES } from '../src/core/races.js';
import { check, checkSeed } from '../src/explore/check.js';
import { RACE_BOUNDS, type RaceBound } from '../src/explore/race_bounds.js';

const args = process.argv.slice(2);
let seconds = 300, max = 2;
const ids: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (args[i] === '--max') max = Number(args[++i]);
  else ids.push(args[i]);
}
const out: Record<string, RaceBound> = { ...RACE_BOUNDS };
for (const id of ids.length ? ids : RACES.map((r) => r.id)) {
  const r = await check({ id, fixed: false, preemptions: max, ops: null, cpus: null, seconds, reduce: true, seed: checkSeed(id) });
  const last = r.bounds[r.bounds.length - 1];
  out[id] = {
    bound: r.least_preemptions, searched_to: r.violation ? last.bound : r.exhausted ? max : Math.max(-1, last.bound - 1),
    ops: r.ops, cpus: r.cpus, seed: r.seed, schedules: r.schedules, seconds: Number(r.seconds.toFixed(1)),
  };
  process.stderr.write(`${id}: ${JSON.stringify(out[id])}\n`);
}
const fields = (b: RaceBound): string => Object.entries(b).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
const body = Object.keys(out).sort().map((id) => `  '${id}': { ${fields(out[id])} },`).join('\n');
writeFileSync(join(import.meta.dirname, '..', 'src', 'explore', 'race_bounds.ts'), `/**
 * The least preemption bound at which \`hintsim check\` finds each race with its fix off
 * (its own small ground and seed, explore/check.ts): measured, not written by hand. Regenerate with
 *   node --import tsx scripts/race-bounds.ts [--seconds S] [--max K] [ID...]
 * bound: the fewest preemptions (0: no interleaving needed, a sequential protocol bug);
 * null: not found with any bound up to searched_to, every one of them exhausted (the table
 * prints "> searched_to"; -1: not even bound 0 was exhausted in the time given, "-").
 * A race with no entry was not measured ("-").
 */
export interface RaceBound { bound: number | null; searched_to: number; ops: number; cpus: number; seed: number; schedules: number; seconds: number }

export const RACE_BOUNDS: Record<string, RaceBound> = {
${body}
};

/** The races table's "preemptions" cell. */
export function preemptionsCell(id: string): string {
  const b = RACE_BOUNDS[id];
  if (!b) return '-';
  if (b.bound === null) return b.searched_to >= 0 ? \`> \${b.searched_to}\` : '-';
  return b.bound === 0 ? '0 (sequential protocol bug)' : String(b.bound);
}
`);
