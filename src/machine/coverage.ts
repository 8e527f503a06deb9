/**
 * Coverage on the main thread: read the per-participant counts after a run (named, only
 * what was reached), add them up over many runs, and compare them with the universe of
 * what can happen. The universe is computed from the model itself: the ESSA, host and
 * access rows come from executing the real code on scratch frames (states.ts, the same
 * table as `hintsim states`), the branch and outcome lists from the declarations next to
 * their hooks (shared/coverage.ts, inject.ts, counters.ts). Nothing here is a hand-written
 * list of transitions.
 */
import { REFUSAL_REASONS } from '../core/counters.js';
import {
  COV_ACCESS, COV_BRANCH, COV_ESSA, COV_GPIP, COV_HOST, COV_HOSTB, COV_INJECT, DISCARD_BRANCHES, GPIP_OUTCOMES, HOST_BRANCHES,
} from '../core/coverage.js';
import { ORC_NAMES, VALID_STATES, isValidState, stateName } from '../core/hw.js';
import { computeStates, essaNext, hostReclaimNext, type StatesTable } from '../hosts/index.js';
import { INJECT_NAMES } from '../core/inject.js';
import { COV_SLOTS, PA_STATE, paWord, type Views } from '../core/layout.js';

/** What one run (or a sum of runs) reached: name -> count, reached entries only. */
export interface RunCoverage {
  essa: Record<string, number>;     // "Sr set_unused -> Ur"
  host: Record<string, number>;     // "Pr reclaim_dirty -> Sp"
  access: Record<string, number>;   // "Vz read discard_fault -> Vz"
  discard: Record<string, number>;  // DISCARD_BRANCHES names
  gpip: Record<string, number>;     // get_page_if_present outcomes
  refusal: Record<string, number>;  // make_volatile refusal reasons
  host_branch: Record<string, number>;
  inject: Record<string, number>;   // injection points that fired
}

export const COVERAGE_GROUPS = ['essa', 'host', 'access', 'discard', 'gpip', 'refusal', 'host_branch', 'inject'] as const;
export type CoverageGroup = (typeof COVERAGE_GROUPS)[number];

let states: StatesTable | null = null;
/** The executed state table, computed once per process (it uses a scratch machine). */
function statesTable(): StatesTable {
  states ??= computeStates();
  return states;
}

const essaKey = (from: string, op: string, to: string): string => `${from} ${op} -> ${to}`;
const hostKey = (from: string, action: string, to: string): string => `${from} ${action} -> ${to}`;
const accessKey = (from: string, kind: string, outcome: string, to: string): string => `${from} ${kind} ${outcome} -> ${to}`;

function bump(rec: Record<string, number>, k: string, n: number): void {
  if (n > 0) rec[k] = (rec[k] ?? 0) + n;
}

/**
 * Sum the coverage slots of `participants` participants (main thread, after the run).
 * The Atomics.load of each PA_STATE pairs with the participant's final seq-cst store of
 * it, after which it made no plain stores to its slots.
 */
export function readCoverage(v: Views, participants: number, counters: Record<string, number>): RunCoverage {
  const slot = new Float64Array(COV_SLOTS);
  for (let p = 0; p < participants; p++) {
    Atomics.load(v.pa, paWord(p, PA_STATE));
    for (let i = 0; i < COV_SLOTS; i++) slot[i] += v.cov[p * COV_SLOTS + i];
  }
  const c: RunCoverage = { essa: {}, host: {}, access: {}, discard: {}, gpip: {}, refusal: {}, host_branch: {}, inject: {} };
  for (let s = 0; s < 16; s++) {
    if (!isValidState(s)) continue;
    for (let orc = 0; orc < ORC_NAMES.length; orc++) {
      for (let ch = 0; ch < 2; ch++) {
        const to = essaNext(s, orc, ch === 1) & 0xff;
        bump(c.essa, essaKey(stateName(s), ORC_NAMES[orc], stateName(to)), slot[COV_ESSA + ((s << 4) | (orc << 1) | ch)]);
      }
    }
    for (let dirty = 0; dirty < 2; dirty++) {
      const to = hostReclaimNext(s, dirty === 1) & 0xff;
      bump(c.host, hostKey(stateName(s), dirty ? 'reclaim_dirty' : 'reclaim', stateName(to)), slot[COV_HOST + ((s << 1) | dirty)]);
    }
  }
  for (const a of statesTable().access) {
    const s = VALID_STATES.find((x) => stateName(x) === a.from)!;
    bump(c.access, accessKey(a.from, a.kind, a.outcome, a.to), slot[COV_ACCESS + ((s << 1) | (a.kind === 'write' ? 1 : 0))]);
  }
  DISCARD_BRANCHES.forEach((b, i) => bump(c.discard, b.name, slot[COV_BRANCH + i]));
  GPIP_OUTCOMES.forEach((o, i) => bump(c.gpip, o, slot[COV_GPIP + i]));
  HOST_BRANCHES.forEach((o, i) => bump(c.host_branch, o, slot[COV_HOSTB + i]));
  INJECT_NAMES.forEach((o, i) => bump(c.inject, o, slot[COV_INJECT + i]));
  for (const r of REFUSAL_REASONS) bump(c.refusal, r, counters[`make_volatile_refused_${r}`] ?? 0);
  return c;
}

export function emptyCoverage(): RunCoverage {
  return { essa: {}, host: {}, access: {}, discard: {}, gpip: {}, refusal: {}, host_branch: {}, inject: {} };
}

/** into += add (by name). */
export function addCoverage(into: RunCoverage, add: RunCoverage): void {
  for (const g of COVERAGE_GROUPS) for (const [k, n] of Object.entries(add[g] ?? {})) bump(into[g], k, n);
}

/** Every entry that can be reached, per group, from the model (see the file comment). */
export function coverageUniverse(): Record<CoverageGroup, string[]> & { states: string[] } {
  const t = statesTable();
  return {
    essa: t.essa.map((e) => essaKey(e.from, e.op, e.to)),
    // a row that leaves the frame as it was is the host passing over a non-resident frame
    host: t.host.filter((h) => h.from !== h.to).map((h) => hostKey(h.from, h.action, h.to)),
    access: t.access.map((a) => accessKey(a.from, a.kind, a.outcome, a.to)),
    discard: DISCARD_BRANCHES.filter((b) => b.kind === 'path').map((b) => b.name),
    gpip: [...GPIP_OUTCOMES],
    refusal: [...REFUSAL_REASONS],
    host_branch: [...HOST_BRANCHES],
    inject: [...INJECT_NAMES],
    states: t.valid,
  };
}

export interface CoverageReport {
  /** Per group: entries reached of the universe, and the ones never reached. */
  groups: Record<CoverageGroup, { reached: number; of: number; never: string[] }>;
  states: { reached: string[]; never: string[] };
  /** Branches that report a violation or need a fix off, and were taken anyway. */
  unexpected_branches: Record<string, number>;
  counts: RunCoverage;
}

export function coverageReport(c: RunCoverage): CoverageReport {
  const u = coverageUniverse();
  const groups = {} as CoverageReport['groups'];
  for (const g of COVERAGE_GROUPS) {
    const never = u[g].filter((k) => !(c[g][k] > 0));
    groups[g] = { reached: u[g].length - never.length, of: u[g].length, never };
  }
  const seen = new Set<string>();
  for (const g of ['essa', 'host', 'access'] as const) {
    for (const k of Object.keys(c[g])) {
      const m = /^(\S+) .* -> (\S+)$/.exec(k);
      if (m) { seen.add(m[1]); seen.add(m[2]); }
    }
  }
  const unexpected: Record<string, number> = {};
  for (const b of DISCARD_BRANCHES) if (b.kind !== 'path' && c.discard[b.name] > 0) unexpected[b.name] = c.discard[b.name];
  // counts in a fixed order (the universe's, then anything else by name), whatever order runs finished in
  const counts = emptyCoverage();
  for (const g of COVERAGE_GROUPS) {
    const keys = [...u[g].filter((k) => k in c[g]), ...Object.keys(c[g]).filter((k) => !u[g].includes(k)).sort()];
    for (const k of keys) counts[g][k] = c[g][k];
  }
  return {
    groups,
    states: { reached: u.states.filter((s) => seen.has(s)), never: u.states.filter((s) => !seen.has(s)) },
    unexpected_branches: unexpected,
    counts,
  };
}

const GROUP_TITLES: Record<CoverageGroup, string> = {
  essa: 'ESSA transitions (old state x op)', host: 'host actions', access: 'guest access outcomes',
  discard: 'discard-path branches', gpip: 'get_page_if_present outcomes', refusal: 'make_volatile refusal reasons',
  host_branch: 'host branches', inject: 'injection points fired',
};

/** The coverage table: reached/of per group, then everything never reached. */
export function formatCoverage(r: CoverageReport): string {
  const out: string[] = ['coverage'];
  out.push(`  ${'valid ESSA states'.padEnd(34)} ${String(r.states.reached.length).padStart(4)} of ${String(r.states.reached.length + r.states.never.length).padEnd(4)}${r.states.never.length ? `  never: ${r.states.never.join(' ')}` : ''}`);
  for (const g of COVERAGE_GROUPS) {
    const x = r.groups[g];
    out.push(`  ${GROUP_TITLES[g].padEnd(34)} ${String(x.reached).padStart(4)} of ${String(x.of).padEnd(4)}`);
  }
  const never = COVERAGE_GROUPS.filter((g) => r.groups[g].never.length > 0);
  if (never.length) {
    out.push('  never reached:');
    for (const g of never) {
      out.push(`    ${GROUP_TITLES[g]}:`);
      for (const k of r.groups[g].never) out.push(`      ${k}`);
    }
  } else {
    out.push('  never reached: nothing');
  }
  if (Object.keys(r.unexpected_branches).length) {
    out.push(`  violation or unfixed branches taken: ${Object.entries(r.unexpected_branches).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  return out.join('\n') + '\n';
}
