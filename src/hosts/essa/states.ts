/**
 * `hintsim states`: the ESSA state machine as the model executes it. Every row is
 * obtained by putting a scratch frame into a state and running the real code (essa(),
 * the host's reclaimFrame(), the hardware access path), never from a written table.
 */
import { essa, hwBegin } from './essa.js';
import { reclaimFrame } from './reclaim.js';
import { ctxInit } from '../../core/ctx.js';
import {
  ACC_FAULT, ACC_NAMES, ALL_STATES, ORC_NAMES, VALID_STATES, hwEnd, isValidState, stateName,
} from '../../core/hw.js';
import { CTL_HOST_BUDGET, CTL_STATE, HS_CHANGE, HS_STATE_MASK, Views, allocMachineBuffer, CS_DONE } from '../../core/layout.js';

export interface StatesTable {
  valid: string[];
  invalid: string[];
  essa: { from: string; op: string; to: string; returned: string; change?: boolean }[];
  host: { from: string; action: 'reclaim' | 'reclaim_dirty'; to: string }[];
  access: { from: string; kind: 'read' | 'write'; outcome: string; to: string }[];
}

export function computeStates(): StatesTable {
  const nframes = 16;
  const v = new Views(allocMachineBuffer(nframes, 1), nframes, 1);
  v.hdr[CTL_HOST_BUDGET] = nframes * 4; // never kick a host
  v.hdr[CTL_STATE] = CS_DONE;
  ctxInit(v, 0);
  const set = (state: number, change: boolean): void => { Atomics.store(v.hs, 0, state | (change ? HS_CHANGE : 0)); };
  const get = (): string => stateName(Atomics.load(v.hs, 0) & HS_STATE_MASK);
  const t: StatesTable = {
    valid: VALID_STATES.map(stateName),
    invalid: ALL_STATES.filter((s) => !isValidState(s)).map(stateName),
    essa: [], host: [], access: [],
  };
  for (const s of VALID_STATES) {
    for (let orc = 0; orc < ORC_NAMES.length; orc++) {
      set(s, false);
      const old = essa(0, orc);
      t.essa.push({ from: stateName(s), op: ORC_NAMES[orc], to: get(), returned: stateName(old) });
      if (stateName(s) === 'Sp' && ORC_NAMES[orc] === 'set_pvolatile') {
        set(s, true);
        const old2 = essa(0, orc);
        t.essa.push({ from: stateName(s), op: ORC_NAMES[orc], to: get(), returned: stateName(old2), change: true });
      }
    }
  }
  for (const s of VALID_STATES) {
    for (const dirty of [false, true]) {
      set(s, dirty);
      reclaimFrame(0, false);
      t.host.push({ from: stateName(s), action: dirty ? 'reclaim_dirty' : 'reclaim', to: get() });
    }
  }
  for (const s of VALID_STATES) {
    for (const kind of ['read', 'write'] as const) {
      set(s, false);
      const r = hwBegin(0, kind === 'write');
      if (r < ACC_FAULT) hwEnd(0);
      t.access.push({ from: stateName(s), kind, outcome: ACC_NAMES[r], to: get() });
    }
  }
  return t;
}

/** Graphviz digraph: guest ESSA ops (blue), host actions (red), guest accesses (green). */
export function statesDot(t: StatesTable): string {
  const edges = new Map<string, { from: string; to: string; color: string; labels: string[] }>();
  const add = (from: string, to: string, color: string, label: string): void => {
    if (from === to) return;
    const k = `${from}|${to}|${color}`;
    const e = edges.get(k) ?? { from, to, color, labels: [] };
    if (!e.labels.includes(label)) e.labels.push(label);
    edges.set(k, e);
  };
  for (const e of t.essa) add(e.from, e.to, 'blue', e.op + (e.change ? ' (C)' : ''));
  for (const h of t.host) add(h.from, h.to, 'red', h.action);
  for (const a of t.access) add(a.from, a.to, 'darkgreen', `${a.kind}: ${a.outcome}`);
  const lines = [
    'digraph essa {',
    '  rankdir=LR; node [shape=circle, fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=9];',
    `  label="ESSA page states: guest ops (blue), host reclaim (red), guest access (green)"; labelloc=t;`,
    ...t.valid.map((s) => `  ${s};`),
    '  subgraph cluster_invalid { label="never exist"; style=dashed; color=gray;',
    ...t.invalid.map((s) => `    ${s} [style=dashed, color=gray, fontcolor=gray];`),
    '  }',
    ...[...edges.values()].map((e) => `  ${e.from} -> ${e.to} [color=${e.color}, fontcolor=${e.color}, label="${e.labels.join('\\n')}"];`),
    '}',
  ];
  return lines.join('\n') + '\n';
}
