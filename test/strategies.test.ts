/**
 * The sim strategies in isolation: each strategy's `choose` driven on a fake header, no
 * workers (as awslabs/shuttle tests PCT on a tiny program); and the schedule codec.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CTL_NCPUS, PA_STATE, SIM_BASE, SIM_FIRST, SIM_NEXT, SIM_SPINNERS, SIM_STRATEGY, SIM_WORDS, paWord } from '../src/core/layout.js';
import { SP_ACCESS, SP_LOCK, SP_SPIN, SP_STEP } from '../src/core/sched.js';
import { DEFAULTS } from '../src/machine/config.js';
import { makeReplayFile, readReplayFile, replaySchedule, toReplayOptions } from '../src/explore/replay_file.js';
import {
  decodeDecisions, decodeSchedule, encodeDecisions, encodeSchedule, logCapacity, logPut, readLog, writeLog, type Decision, type Schedule,
} from '../src/sim/schedule.js';
import { simSetup } from '../src/sim/setup.js';
import { PCT_CHANGE, PCT_CHANGE_K, PCT_NCHANGE, PCT_PRIO } from '../src/sim/strategies/pct.js';
import { STRATEGIES, STRATEGY_NAMES, findStrategy, strategyId } from '../src/sim/strategies/index.js';
import type { SimSetupOptions, SimView, Strategy } from '../src/sim/strategy.js';

const NEVER = 0x7fffffff;

/** A header, participant words and a replay log, as a machine's Views has them. */
function fakeView(n: number, logWords = 64): SimView & { slog: Int32Array } {
  return {
    hdr: new Int32Array(SIM_BASE + SIM_WORDS),
    pa: new Int32Array(paWord(n, 0) + 1),
    slogIn: new Int32Array(logWords),
    slog: new Int32Array(logWords),
  };
}

function setState(v: SimView, p: number, s: number): void { v.pa[paWord(p, PA_STATE)] = s; }

const opts = (o: Partial<SimSetupOptions>): SimSetupOptions => ({ seed: 1, strategy: 'random', depth: 3, switchEvery: 16, ops: 1000, schedule: null, ...o });

/** simSetup on a fake view: the active strategy and the view. */
function setUp(n: number, o: Partial<SimSetupOptions>): { v: SimView & { slog: Int32Array }; s: Strategy } {
  const v = fakeView(n);
  simSetup(v, opts(o), n);
  return { v, s: STRATEGIES[v.hdr[SIM_STRATEGY]] };
}

describe('strategy registry', () => {
  it('names random, pct, pos and surw for --strategy; ids are registry indices; replay is chosen by a schedule', () => {
    expect(STRATEGY_NAMES).toEqual(['random', 'pct', 'pos', 'surw']);
    for (const s of STRATEGIES) expect(STRATEGIES[strategyId(s)]).toBe(s);
    expect(setUp(3, { strategy: 'pct' }).s.name).toBe('pct');
    expect(setUp(3, { strategy: 'pct', schedule: { first: 2, decisions: [] } }).s.name).toBe('replay');
    expect(findStrategy('nope')).toBeUndefined();
    expect(() => setUp(3, { strategy: 'nope' })).toThrow(/unknown strategy 'nope'; accepted: random, pct, pos, surw/);
  });
});

describe('random', () => {
  it('is uniform over the runnable participants, this one included, and consults again within 1..2*mean-1 points', () => {
    const { v, s } = setUp(4, { seed: 7, switchEvery: 8 });
    setState(v, 2, 2); // finished
    const counts = [0, 0, 0, 0];
    const N = 30_000;
    for (let step = 1; step <= N; step++) {
      counts[s.choose(step, SP_LOCK, 0, 1, v)]++;
      const next = v.hdr[SIM_NEXT];
      expect(next >= step + 1 && next <= step + 15).toBe(true);
    }
    expect(counts[2]).toBe(0);
    for (const p of [0, 1, 3]) expect(Math.abs(counts[p] / N - 1 / 3)).toBeLessThan(0.02);
  });

  it('never picks a spinner itself; -1 when nobody else can run', () => {
    const { v, s } = setUp(3, { seed: 3 });
    for (let step = 1; step < 500; step++) expect(s.choose(step, SP_SPIN, step, 0, v)).not.toBe(0);
    setState(v, 1, 3); setState(v, 2, 2);
    expect(s.choose(600, SP_SPIN, 0, 0, v)).toBe(-1);
  });

  it('is a pure function of the seed: same seed, same first participant and choices; another seed differs', () => {
    const run = (seed: number): number[] => {
      const { v, s } = setUp(5, { seed });
      const out = [v.hdr[SIM_FIRST]];
      let me = out[0];
      for (let step = 1; step < 400; step++) { me = s.choose(step, step % 7 === 0 ? SP_SPIN : SP_STEP, 0, me, v); out.push(me, v.hdr[SIM_NEXT]); }
      return out;
    };
    expect(run(42)).toEqual(run(42));
    expect(run(43)).not.toEqual(run(42));
  });
});

describe('pct', () => {
  /** Participants from the highest priority down. */
  const byPriority = (v: SimView, n: number): number[] => Array.from({ length: n }, (_, p) => p).sort((a, b) => v.hdr[PCT_PRIO + b] - v.hdr[PCT_PRIO + a]);

  it('starts with the highest priority and runs the highest-priority runnable non-spinner', () => {
    const { v, s } = setUp(4, { strategy: 'pct', depth: 1, seed: 9 });
    const order = byPriority(v, 4);
    expect(new Set(order.map((p) => v.hdr[PCT_PRIO + p])).size).toBe(4); // distinct priorities
    expect(v.hdr[SIM_FIRST]).toBe(order[0]);
    expect(v.hdr[PCT_NCHANGE]).toBe(0);
    expect(s.choose(1, SP_STEP, 0, order[2], v)).toBe(order[0]);
    expect(v.hdr[SIM_NEXT]).toBe(NEVER);
    v.hdr[SIM_SPINNERS] = 1 << order[0]; // the top one spins on a busy word: blocked
    expect(s.choose(2, SP_STEP, 0, order[2], v)).toBe(order[1]);
    setState(v, order[1], 3); // waiting
    expect(s.choose(3, SP_STEP, 0, order[2], v)).toBe(order[2]);
    expect(s.choose(4, SP_SPIN, 0, order[2], v)).toBe(order[3]); // a spinner is not its own choice
  });

  it('drops the running participant below every initial priority at each change point', () => {
    const { v, s } = setUp(3, { strategy: 'pct', depth: 1, seed: 4 });
    const [a, b, c] = byPriority(v, 3);
    v.hdr[PCT_NCHANGE] = 2; v.hdr[PCT_CHANGE] = 10; v.hdr[PCT_CHANGE + 1] = 20; v.hdr[PCT_CHANGE_K] = 0;
    expect(s.choose(5, SP_STEP, 0, a, v)).toBe(a);
    expect(v.hdr[SIM_NEXT]).toBe(10);
    expect(s.choose(10, SP_STEP, 0, a, v)).toBe(b); // a drops to 0
    expect(v.hdr[PCT_PRIO + a]).toBe(0);
    expect(v.hdr[SIM_NEXT]).toBe(20);
    expect(s.choose(21, SP_STEP, 0, b, v)).toBe(c); // b drops to 1, above a
    expect(v.hdr[PCT_PRIO + b]).toBe(1);
    expect(v.hdr[SIM_NEXT]).toBe(NEVER);
    expect(s.choose(22, SP_STEP, 0, c, v)).toBe(c);
    setState(v, c, 2);
    expect(s.choose(23, SP_SPIN, 0, c, v)).toBe(b);
  });

  it('seeds the change points from the seed: depth-1 of them, ascending, within the estimated points', () => {
    const { v } = setUp(3, { strategy: 'pct', depth: 5, seed: 12, ops: 100 });
    expect(v.hdr[PCT_NCHANGE]).toBe(4);
    const pts = Array.from({ length: 4 }, (_, i) => v.hdr[PCT_CHANGE + i]);
    expect([...pts].sort((x, y) => x - y)).toEqual(pts);
    for (const p of pts) expect(p >= 1 && p <= 2400).toBe(true);
    expect(setUp(3, { strategy: 'pct', depth: 5, seed: 12, ops: 100 }).v.hdr).toEqual(v.hdr);
  });

  it('when every runnable participant spins, tries them in turn after the current one (round robin), never by priority', () => {
    const { v, s } = setUp(4, { strategy: 'pct', depth: 1, seed: 2 });
    v.hdr[SIM_SPINNERS] = 0b1111;
    // priorities would pick the same two over and over; round robin reaches everyone
    const seen: number[] = [];
    let me = 1;
    for (let step = 1; step <= 8; step++) { me = s.choose(step, SP_SPIN, 0, me, v); seen.push(me); }
    expect(seen).toEqual([2, 3, 0, 1, 2, 3, 0, 1]);
    setState(v, 3, 3);
    expect(s.choose(9, SP_SPIN, 0, 2, v)).toBe(0); // skips who cannot run
    expect(s.choose(10, SP_STEP, 0, 2, v)).toBe(0); // not spinning itself: still the next one after it
    setState(v, 0, 2); setState(v, 1, 2);
    expect(s.choose(11, SP_STEP, 0, 2, v)).toBe(2); // only itself left: itself
    expect(s.choose(12, SP_SPIN, 0, 2, v)).toBe(-1);
  });
});

describe('replay', () => {
  const sched: Schedule = { first: 2, decisions: [{ step: 3, to: 0 }, { step: 5, to: 1 }, { step: 9, to: 2 }, { step: 12, to: 0 }] };

  it('starts with the schedule\'s first participant and follows its decisions at their steps', () => {
    const { v, s } = setUp(3, { schedule: sched, seed: 99 });
    expect(v.hdr[SIM_FIRST]).toBe(2);
    expect(s.choose(1, SP_STEP, 0, 2, v)).toBe(2); // nothing decided at step 1: keep running
    expect(v.hdr[SIM_NEXT]).toBe(3);
    expect(s.choose(3, SP_STEP, 0, 2, v)).toBe(0);
    expect(v.hdr[SIM_NEXT]).toBe(5);
    expect(s.choose(5, SP_LOCK, 0, 0, v)).toBe(1);
    // step 9 was never reached (a shrunk schedule): skipped, the next decision is at 12
    expect(s.choose(10, SP_STEP, 0, 1, v)).toBe(1);
    expect(v.hdr[SIM_NEXT]).toBe(12);
    expect(s.choose(12, SP_STEP, 0, 1, v)).toBe(0);
    expect(v.hdr[SIM_NEXT]).toBe(NEVER);
    expect(s.choose(13, SP_STEP, 0, 0, v)).toBe(0);
  });

  it('falls back deterministically: keeps running, or on a spin the next runnable after it', () => {
    const { v, s } = setUp(4, { schedule: { first: 0, decisions: [{ step: 2, to: 3 }, { step: 4, to: 1 }] } });
    setState(v, 3, 2);
    expect(s.choose(2, SP_STEP, 0, 0, v)).toBe(0); // 3 finished: stay
    expect(s.choose(3, SP_SPIN, 0, 0, v)).toBe(1); // spinning, nothing decided: the next one after it
    setState(v, 1, 3);
    expect(s.choose(4, SP_SPIN, 0, 2, v)).toBe(0); // 1 is waiting: round robin after 2 skips 3 (finished)
    setState(v, 0, 2);
    expect(s.choose(5, SP_SPIN, 0, 2, v)).toBe(-1);
  });

  it('a schedule longer than the log is cut to the log\'s capacity', () => {
    const v = fakeView(2, 8);
    const long: Decision[] = Array.from({ length: 10 }, (_, i) => ({ step: 2 * i + 1, to: i & 1 }));
    simSetup(v, opts({ schedule: { first: 0, decisions: long } }), 2);
    const s = STRATEGIES[v.hdr[SIM_STRATEGY]];
    const taken: number[] = [];
    for (let step = 1; step <= 20; step++) taken.push(s.choose(step, SP_STEP, 0, 0, v));
    expect(taken.filter((p) => p === 1).length).toBe(2); // decisions 1 and 3 of the 4 kept
  });
});

describe('on a tiny program (a lost update, as shuttle tests PCT)', () => {
  /**
   * Two participants each run `tmp = x; x = tmp + 1`, a scheduling point before each
   * access: the update is lost when one reads between the other's read and write. The
   * loop is the baton's: consult the strategy when SIM_NEXT is reached, the runnable set
   * changed, or on a spin; a participant that ends passes the baton as simExit does.
   */
  function runProgram(o: Partial<SimSetupOptions>): { x: number; trace: number[] } {
    const n = 2;
    const v = fakeView(n);
    v.hdr[CTL_NCPUS] = n;
    simSetup(v, opts({ ops: 1, ...o }), n);
    const s = STRATEGIES[v.hdr[SIM_STRATEGY]];
    const pc = [0, 0], tmp = [0, 0];
    const X = 100; // the object both points touch (x's word)
    let x = 0, step = 0, me = v.hdr[SIM_FIRST], dirty = true;
    const trace: number[] = [];
    while (me >= 0) {
      step++;
      if (dirty || step >= v.hdr[SIM_NEXT]) { dirty = false; me = s.choose(step, SP_ACCESS, X, me, v); }
      trace.push(me);
      if (pc[me] === 0) tmp[me] = x; else x = tmp[me] + 1;
      if (++pc[me] === 2) { setState(v, me, 2); dirty = true; me = s.choose(++step, SP_SPIN, 0, me, v); }
    }
    return { x, trace };
  }

  for (const strategy of ['random', 'pct', 'pos', 'surw'] as const) {
    it(`${strategy} finds it within 200 seeds and misses it on others; each seed always gives the same trace`, () => {
      const o = strategy === 'pct' ? { strategy, depth: 2 } : strategy === 'random' ? { strategy, switchEvery: 1 } : { strategy };
      const lost: number[] = [];
      for (let seed = 1; seed <= 200; seed++) {
        const a = runProgram({ ...o, seed });
        expect(runProgram({ ...o, seed })).toEqual(a);
        expect(a.x === 1 || a.x === 2).toBe(true);
        if (a.x === 1) lost.push(seed);
      }
      expect(lost.length).toBeGreaterThan(0);
      expect(lost.length).toBeLessThan(200);
    });
  }

  it('pct at depth 1 (no change point) never finds it: it runs one participant to its end', () => {
    for (let seed = 1; seed <= 50; seed++) expect(runProgram({ strategy: 'pct', depth: 1, seed }).x).toBe(2);
  });
});

describe('schedule codec', () => {
  const s: Schedule = { first: 1, decisions: [{ step: 4, to: 0 }, { step: 9, to: -1 }, { step: 9, to: 2 }, { step: 1 << 30, to: 1 }] };

  it('round-trips a schedule through the replay file\'s flat field', () => {
    const f = encodeSchedule(s);
    expect(f).toEqual({ first: 1, decisions: [4, 0, 9, -1, 9, 2, 1 << 30, 1] });
    expect(decodeSchedule(f)).toEqual(s);
    expect(decodeSchedule(JSON.parse(JSON.stringify(f)))).toEqual(s);
    expect(decodeDecisions(encodeDecisions([]))).toEqual([]);
  });

  it('refuses malformed fields', () => {
    for (const bad of [null, 3, [], { first: 0, decisions: [1] }, { first: 0, decisions: [1, 'a'] }, { first: 0.5, decisions: [] }, { first: 0, decisions: {} }, { first: 0, decisions: [1.5, 0] }]) {
      expect(decodeSchedule(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('round-trips through the shared-memory log, dropping what does not fit', () => {
    const log = new Int32Array(6);
    expect(logCapacity(log)).toBe(3);
    expect(writeLog(log, s.decisions)).toBe(3);
    expect(readLog(log, 3)).toEqual(s.decisions.slice(0, 3));
    expect(readLog(log, 10)).toEqual(s.decisions.slice(0, 3));
    logPut(log, 3, 77, 1); // past the end: dropped
    logPut(log, 0, 5, 3);
    expect(readLog(log, 1)).toEqual([{ step: 5, to: 3 }]);
  });

  it('a replay file written from records holds the flat field and reads back to the same records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hintsim-codec-'));
    const f = makeReplayFile({
      race: null, seed: 5, options: toReplayOptions({ ...DEFAULTS, mode: 'sim', ops: 100 }), schedule: s,
      expected: { oracle: 'integrity', pfn: 1, cpu: 0, step: 9, message: 'm' }, shrink: null,
    });
    expect(f.schedule).toEqual(encodeSchedule(s));
    const path = join(dir, 'x.replay.json');
    writeFileSync(path, JSON.stringify(f, null, 2) + '\n');
    const back = readReplayFile(path);
    expect(back).toEqual(f);
    expect(replaySchedule(back)).toEqual(s);
  });

  it('a replay file naming a strategy the registry does not know is refused with one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hintsim-codec-'));
    const options = { ...toReplayOptions({ ...DEFAULTS, mode: 'sim', ops: 100 }), strategy: 'nope' as 'pct' };
    const f = makeReplayFile({ race: null, seed: 5, options, schedule: null, expected: { oracle: 'integrity', pfn: 1, cpu: 0, step: 9, message: 'm' }, shrink: null });
    const path = join(dir, 'x.replay.json');
    writeFileSync(path, JSON.stringify(f));
    expect(() => readReplayFile(path)).toThrow(/names an unknown strategy 'nope'; accepted: random, pct, pos, surw$/);
  });

  const golden = join(import.meta.dirname, 'golden', 'replays');
  it.skipIf(!existsSync(golden))('every golden replay file re-encodes to itself, checksum included', () => {
    const files = readdirSync(golden).filter((x) => x.endsWith('.replay.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const path = join(golden, name);
      const f = readReplayFile(path);
      const { format: _f, version: _v, model: _m, checksum: _c, ...body } = f;
      const again = makeReplayFile({ ...body, schedule: replaySchedule(f) });
      expect(JSON.stringify(again, null, 2) + '\n', name).toBe(readFileSync(path, 'utf8'));
    }
  });
});
