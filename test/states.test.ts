/**
 * The ESSA state machine the model executes (`hintsim states --json`, computeStates())
 * against a table written by hand from the sources: seeds/001 (the 2005 s390 patch) and
 * reference/hinting.md sections 1.4 (guest ESSA), 1.5 (host reclaim), 1.6 (guest access).
 */
import { describe, expect, it } from 'vitest';
import { computeStates, type StatesTable } from '../src/hosts/essa/states.js';
import { cli } from './helpers/cli.js';

const VALID = ['Sr', 'Sp', 'Sz', 'Ur', 'Uz', 'Vr', 'Vz', 'Pr'] as const;
type State = (typeof VALID)[number];
const INVALID = ['Up', 'Vp', 'Pp', 'Pz'];

/** ORC 0..6 by the names `states --json` uses. */
const OPS = ['get_state', 'set_stable', 'set_unused', 'set_volatile', 'set_pvolatile',
  'set_stable_make_resident', 'set_stable_if_resident'] as const;

/**
 * hinting.md 1.4, columns ORC 1..6. Sp × set_pvolatile depends on the change bit: the
 * entry here is the clean case (Vz); the dirty case is Sp (see essaExpected).
 */
const ESSA_1_TO_6: Record<State, [State, State, State, State, State, State]> = {
  //    1 stable  2 unused  3 volatile  4 p-volatile  5 stable+resident  6 stable-if-resident
  Sr: ['Sr', 'Ur', 'Vr', 'Pr', 'Sr', 'Sr'],
  Sp: ['Sp', 'Uz', 'Vz', 'Vz', 'Sr', 'Sp'],
  Sz: ['Sz', 'Uz', 'Vz', 'Vz', 'Sr', 'Sz'],
  Ur: ['Sr', 'Ur', 'Vr', 'Pr', 'Sr', 'Sr'],
  Uz: ['Sz', 'Uz', 'Vz', 'Vz', 'Sr', 'Uz'],
  Vr: ['Sr', 'Ur', 'Vr', 'Pr', 'Sr', 'Sr'],
  Vz: ['Sz', 'Uz', 'Vz', 'Vz', 'Sr', 'Vz'],
  Pr: ['Sr', 'Ur', 'Vr', 'Pr', 'Sr', 'Sr'],
};

function essaExpected(from: State, op: string, change: boolean): State {
  const orc = OPS.indexOf(op as (typeof OPS)[number]);
  if (orc < 0) throw new Error(`unknown op ${op}`);
  if (orc === 0) return from; // get_state never changes anything
  if (from === 'Sp' && op === 'set_pvolatile' && change) return 'Sp'; // dirty: must stay preserved
  return ESSA_1_TO_6[from][orc - 1];
}

/** hinting.md 1.5 (and seed 001): what host reclaim does to a frame. */
function hostExpected(from: State, action: 'reclaim' | 'reclaim_dirty'): State {
  switch (from) {
    case 'Sr': return 'Sp';
    case 'Ur': return 'Uz';
    case 'Vr': return 'Vz';
    case 'Pr': return action === 'reclaim_dirty' ? 'Sp' : 'Vz';
    default: return from; // not resident: left alone
  }
}

/** hinting.md 1.6: a guest read or write of a frame. */
function accessExpected(from: State): { outcome: string; to: State } {
  switch (from) {
    case 'Sz': return { outcome: 'zero_fill', to: 'Sr' };
    case 'Sp': return { outcome: 'page_in', to: 'Sr' };
    case 'Vz': return { outcome: 'discard_fault', to: 'Vz' };
    case 'Ur': case 'Uz': return { outcome: 'addressing_exception', to: from };
    default: return { outcome: 'ok', to: from }; // Sr Vr Pr
  }
}

function check(t: StatesTable): void {
  expect([...t.valid].sort()).toEqual([...VALID].sort());
  expect([...t.invalid].sort()).toEqual([...INVALID].sort());

  // ESSA: every valid state × ORC 0..6 exactly once with the change bit clear ...
  for (const from of VALID) {
    for (const op of OPS) {
      const rows = t.essa.filter((e) => e.from === from && e.op === op && !e.change);
      expect(rows, `${from} ${op}`).toHaveLength(1);
    }
  }
  // ... plus the dirty Sp × set_pvolatile case the table distinguishes.
  expect(t.essa.filter((e) => e.from === 'Sp' && e.op === 'set_pvolatile' && e.change === true), 'Sp set_pvolatile dirty').toHaveLength(1);
  // Every row the model reports agrees with the hand-written table and returns the old state.
  for (const e of t.essa) {
    const label = `${e.from} ${e.op}${e.change ? ' (change bit set)' : ''}`;
    expect(VALID as readonly string[], label).toContain(e.from);
    expect(e.to, label).toBe(essaExpected(e.from as State, e.op, !!e.change));
    expect(e.returned, `${label}: ESSA returns the old state`).toBe(e.from);
  }

  // Host reclaim: every valid state × {clean, dirty} exactly once.
  expect(t.host).toHaveLength(VALID.length * 2);
  for (const from of VALID) {
    for (const action of ['reclaim', 'reclaim_dirty'] as const) {
      const rows = t.host.filter((h) => h.from === from && h.action === action);
      expect(rows, `${from} ${action}`).toHaveLength(1);
      expect(rows[0].to, `${from} ${action}`).toBe(hostExpected(from, action));
    }
  }

  // Guest access: every valid state × {read, write} exactly once; reads and writes agree.
  expect(t.access).toHaveLength(VALID.length * 2);
  for (const from of VALID) {
    for (const kind of ['read', 'write'] as const) {
      const rows = t.access.filter((a) => a.from === from && a.kind === kind);
      expect(rows, `${from} ${kind}`).toHaveLength(1);
      expect({ outcome: rows[0].outcome, to: rows[0].to }, `${from} ${kind}`).toEqual(accessExpected(from));
    }
  }

  // No row anywhere leads into a state that must never exist.
  for (const s of [...t.essa.map((e) => e.to), ...t.host.map((h) => h.to), ...t.access.map((a) => a.to)]) {
    expect(VALID as readonly string[]).toContain(s);
  }
}

describe('ESSA state machine', () => {
  it('computeStates() agrees with every transition the seeds and hinting.md 1.4-1.6 state', () => {
    check(computeStates());
  });

  it('the table check can fail: one wrong transition is caught', () => {
    const t = computeStates();
    const bad: StatesTable = structuredClone(t);
    const row = bad.essa.find((e) => e.from === 'Vz' && e.op === 'set_stable_if_resident')!;
    row.to = 'Sr'; // the classic mistake: a discarded page "made stable"
    expect(() => check(bad)).toThrow();
    const bad2: StatesTable = structuredClone(t);
    bad2.host.find((h) => h.from === 'Pr' && h.action === 'reclaim_dirty')!.to = 'Vz'; // dirty P discarded
    expect(() => check(bad2)).toThrow();
  });

  it('hintsim states --json prints the same table and passes the same check', async () => {
    const out = await cli('states', '--json');
    expect(out.status).toBe(0);
    expect(out.stderr).toBe('');
    const t = JSON.parse(out.stdout) as StatesTable;
    check(t);
    expect(t).toEqual(computeStates());
  });
});
