/**
 * The conflict relation of `hintsim check` (sim/events.ts): which events the DPOR and the
 * sleep sets may reorder. Soundness first: every pair the audited footprints say can
 * interfere must conflict; the reduction comes only from pairs that cannot.
 */
import { describe, expect, it } from 'vitest';
import { OBJ_LOCAL, OBJ_STALL, SP_ACCESS, SP_EPOCH, SP_ESSA, SP_FAULT, SP_HOST, SP_LOCK, SP_REFCOUNT, SP_SPIN, SP_STEP, SP_UNLOCK } from '../src/core/sched.js';
import {
  CHECK_MODEL_ESSA, CHECK_MODEL_NONE, EC_GLOBAL, EC_HOST, EC_HS, EC_LOCAL, EC_PLAIN, EV_UNKNOWN, classesConflict, conflicts, eventClass,
} from '../src/sim/events.js';
import { checkModel, checkRunOptions } from '../src/explore/check.js';
import { runMachine } from '../src/machine/run.js';
import { readDfsRecords, type DfsRecord } from '../src/sim/strategies/dfs.js';

type Ev = [kind: number, obj: number, host: boolean];
const conflict = (model: number, a: Ev, b: Ev): boolean =>
  classesConflict(eventClass(model, a[0], a[1], a[2]), a[1], eventClass(model, b[0], b[1], b[2]), b[1]);

const GUEST_KINDS = [EV_UNKNOWN, SP_LOCK, SP_UNLOCK, SP_ESSA, SP_REFCOUNT, SP_ACCESS, SP_FAULT, SP_EPOCH, SP_STEP, SP_SPIN];
const OBJS = [-1, 0, 3, 7];

describe('check conflict relation', () => {
  it('an injected stall\'s inner points are local: they conflict with nothing, under either model', () => {
    for (const model of [CHECK_MODEL_NONE, CHECK_MODEL_ESSA]) {
      for (const o of [OBJ_LOCAL, OBJ_STALL]) {
        expect(eventClass(model, SP_STEP, o, false)).toBe(EC_LOCAL);
        for (const k of [...GUEST_KINDS, SP_HOST]) for (const x of OBJS) for (const host of [false, true]) {
          expect(conflict(model, [SP_STEP, o, false], [k, x, host])).toBe(false);
        }
      }
    }
  });

  it('without a model it is the pos/surw relation (conflicts) on every non-local pair', () => {
    for (const k1 of [...GUEST_KINDS, SP_HOST]) for (const o1 of OBJS) for (const k2 of [...GUEST_KINDS, SP_HOST]) for (const o2 of OBJS) {
      expect(conflict(CHECK_MODEL_NONE, [k1, o1, k1 === SP_HOST], [k2, o2, k2 === SP_HOST])).toBe(conflicts(k1, o1, k2, o2));
    }
  });

  it('the ESSA model: guest pairs as before but two host-state events (ESSA, access, spin) always conflict; a host reclaim of frame t conflicts with every ESSA, access and spin, with plain events on t only', () => {
    const hs = (k: number) => k === SP_ESSA || k === SP_ACCESS || k === SP_SPIN;
    for (const k1 of GUEST_KINDS.slice(1)) for (const o1 of OBJS) for (const k2 of GUEST_KINDS.slice(1)) for (const o2 of OBJS) {
      // two accesses both store INJ_TOUCHED; a batched ESSA changes frames beyond its object
      expect(conflict(CHECK_MODEL_ESSA, [k1, o1, false], [k2, o2, false])).toBe(hs(k1) && hs(k2) ? true : conflicts(k1, o1, k2, o2));
    }
    expect(conflicts(SP_ACCESS, 3, SP_ACCESS, 7)).toBe(false); // pos/surw's relation is unchanged
    expect(conflict(CHECK_MODEL_ESSA, [SP_ACCESS, 3, false], [SP_ACCESS, 7, false])).toBe(true);
    expect(conflict(CHECK_MODEL_ESSA, [SP_ESSA, 3, false], [SP_ACCESS, 7, false])).toBe(true);
    const t = 7;
    expect(eventClass(CHECK_MODEL_ESSA, SP_HOST, t, true)).toBe(EC_HOST);
    for (const k of [SP_ESSA, SP_ACCESS, SP_SPIN]) for (const o of [0, 3, t]) {
      expect(eventClass(CHECK_MODEL_ESSA, k, o, false)).toBe(EC_HS);
      expect(conflict(CHECK_MODEL_ESSA, [SP_HOST, t, true], [k, o, false])).toBe(true); // residency, the touched frame: host-wide words
      expect(conflict(CHECK_MODEL_ESSA, [SP_SPIN, 0, true], [k, o, false])).toBe(true); // the idle host's loop top
    }
    for (const k of [SP_LOCK, SP_UNLOCK, SP_REFCOUNT, SP_STEP]) {
      expect(eventClass(CHECK_MODEL_ESSA, k, 3, false)).toBe(EC_PLAIN);
      expect(conflict(CHECK_MODEL_ESSA, [SP_HOST, t, true], [k, 3, false])).toBe(false);
      expect(conflict(CHECK_MODEL_ESSA, [SP_HOST, t, true], [k, t, false])).toBe(true);
      expect(conflict(CHECK_MODEL_ESSA, [EV_UNKNOWN, -1, true], [k, t, false])).toBe(false); // the host's start: its loop top only
    }
    for (const k of [SP_EPOCH, SP_FAULT]) {
      expect(eventClass(CHECK_MODEL_ESSA, k, 3, false)).toBe(EC_GLOBAL);
      expect(conflict(CHECK_MODEL_ESSA, [SP_HOST, t, true], [k, 3, false])).toBe(true);
    }
    expect(conflict(CHECK_MODEL_ESSA, [SP_HOST, t, true], [SP_LOCK, -1, false])).toBe(true); // no object: unknown footprint
    // a guest CPU's first event reaches cpu_quiescent's point reading only the stop flag
    expect(eventClass(CHECK_MODEL_ESSA, EV_UNKNOWN, -1, false)).toBe(EC_LOCAL);
    expect(eventClass(CHECK_MODEL_NONE, EV_UNKNOWN, -1, false)).toBe(EC_GLOBAL);
  });

  it('the ESSA model applies only to the ground it was audited for: the ESSA host with the mixed workload', () => {
    const essa = checkRunOptions({ id: 'discard-get-page', fixed: true, ops: null, cpus: 2, seed: 1 });
    expect([essa.host, essa.workload]).toEqual(['essa', 'mixed']);
    expect(checkModel(essa)).toBe(CHECK_MODEL_ESSA);
    expect(checkModel({ ...essa, host: 'xenpaging' })).toBe(CHECK_MODEL_NONE);
    expect(checkModel({ ...essa, workload: 'alloc-storm' })).toBe(CHECK_MODEL_NONE);
  });
});

describe('check: an injected stall in a real execution', () => {
  it('its first point marks the stall, its inner points are local, its last is unknown (the caller\'s code follows)', async () => {
    // discard-get-page's ground with seed 13: a stall-fault fires on CPU 1 in the default schedule
    const opts = checkRunOptions({ id: 'discard-get-page', fixed: true, ops: 40, cpus: 2, seed: 13 });
    let rs: DfsRecord[] = [];
    await runMachine({ ...opts, dfs: { decisions: [], bound: 0, reduce: true, hashFrom: 1e9, model: CHECK_MODEL_ESSA } }, { afterRun: (v) => { rs = readDfsRecords(v).records; } });
    const start = rs.findIndex((r) => r.obj === OBJ_STALL);
    expect(start).toBeGreaterThan(0);
    const me = rs[start].me;
    const after = rs.slice(start + 1).filter((r) => r.me === me);
    const last = after.findIndex((r) => r.obj !== OBJ_LOCAL);
    expect(last).toBeGreaterThanOrEqual(14); // a stall is 16..2063 points: the first, 14+ inner ones, the last
    expect(after.slice(0, last).every((r) => r.kind === SP_STEP)).toBe(true);
    expect([after[last].kind, after[last].obj]).toEqual([SP_STEP, -1]);
  }, 60_000);
});
