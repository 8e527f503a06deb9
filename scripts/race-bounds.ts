/**
 * Regenerate src/explore/race_bounds.ts: for each race, `hintsim check` with its fix off,
 * bounds 0..MAX in turn, and record the least bound at which a violation was found (null:
 * none up to the bound reached; the table then prints "-").
 *   node --import tsx scripts/race-bounds.ts [--seconds S] [--max K] [--ops N] [ID...]
 * --ops N: the check ground's op budget instead of check's default (CHECK_OPS), for grounds
 * that act at a fixed op (a migration or a reset at op 300 or 600); the entry records it.
 * Races not named keep their existing entry. Long: each race gets up to S seconds (default 300),
 * one race after another; the table is rewritten after each race, so an interrupted run keeps
 * the races it finished.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RACES } from '../src/core/races.js';
import { check, checkSeed } from '../src/explore/check.js';
import { RACE_BOUNDS, type RaceBound } from '../src/explore/race_bounds.js';

const args = process.argv.slice(2);
let seconds = 300, max = 2;
let ops: number | null = null;
const ids: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (args[i] === '--max') max = Number(args[++i]);
  else if (args[i] === '--ops') ops = Number(args[++i]);
  else ids.push(args[i]);
}
const out: Record<string, RaceBound> = { ...RACE_BOUNDS };
const fields = (b: RaceBound): string => Object.entries(b).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
function write(): void {
  const body = Object.keys(out).sort().map((id) => `  '${id}': { ${fields(out[id])} },`).join('\n');
  writeFileSync(join(import.meta.dirname, '..', 'src', 'explore', 'race_bounds.ts'), `/**
 * The least preemption bound at which \`hintsim check\` finds each race with its fix off
 * (its own small ground and seed, explore/check.ts): measured, not written by hand. Regenerate with
 *   node --import tsx scripts/race-bounds.ts [--seconds S] [--max K] [--ops N] [ID...]
 * (ops: the ground's op budget, 40 unless a ground acts at a later op; see the script)
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
}
const todo = ids.length ? ids : RACES.map((r) => r.id);
for (const [i, id] of todo.entries()) {
  process.stderr.write(`race-bounds: ${i + 1}/${todo.length} ${id}, bounds 0..${max}, up to ${seconds} s ...\n`);
  let r: Awaited<ReturnType<typeof check>>;
  try {
    r = await check({ id, fixed: false, preemptions: max, ops, cpus: null, seconds, reduce: true, seed: checkSeed(id) });
  } catch (e) { // one race's ground failing (a watchdog, say) leaves its entry as it was
    process.stderr.write(`race-bounds: ${id}: check failed, entry unchanged: ${e instanceof Error ? e.message : String(e)}\n`);
    continue;
  }
  const last = r.bounds[r.bounds.length - 1];
  out[id] = {
    bound: r.least_preemptions, searched_to: r.violation ? last.bound : r.exhausted ? max : Math.max(-1, last.bound - 1),
    ops: r.ops, cpus: r.cpus, seed: r.seed, schedules: r.schedules, seconds: Number(r.seconds.toFixed(1)),
  };
  process.stderr.write(`${id}: ${JSON.stringify(out[id])}\n`);
  write();
}
