/**
 * Threads-mode point rings and their re-enactment in sim mode: the merged window of a run's
 * rings (gates and decisions), a threads run that records them, and a sim run that follows
 * them (sim/strategies/ring.ts) as a pure function of its options and the rings. The stress
 * path end to end (a threads failure into a sim-ring replay file) is in stress.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { runMachine } from '../src/machine/run.js';
import { RING_POINTS, type RingPoint } from '../src/core/point_ring.js';
import { ringInput, ringRunOptions } from '../src/explore/ring_schedule.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';
import { cli } from './helpers/cli.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplayFile } from '../src/explore/replay_file.js';

releaseWorkersAfterEach();

const pt = (who: number, count: number, stamp: number): RingPoint => ({ who, kind: 5, arg: 100 + who, count, stamp });

describe('the window of a threads run\'s point rings', () => {
  it('starts at the latest first stamp of a ring that wrapped; gates are each participant\'s first point in it; a change of participant is a decision', () => {
    // participant 0 wrapped (passed more than RING_POINTS), its oldest kept point has stamp 10;
    // participant 1 did not wrap: its points before stamp 10 are outside the window
    const p0 = [pt(0, 5001, 10), pt(0, 5002, 11), pt(0, 5003, 14), pt(0, 5004, 15)];
    const p1 = [pt(1, 1, 2), pt(1, 2, 9), pt(1, 3, 12), pt(1, 4, 13), pt(1, 5, 16)];
    const p2 = [pt(2, 7, 3)]; // the host: one point, long before the window
    const inp = ringInput({ rings: { points: [p0, p1, p2], passed: [RING_POINTS + 5000, 5, 7] }, per_cpu: [{ ops: 40 }, { ops: 30 }] as never })!;
    expect(inp.window_points).toBe(7); // stamps 10..16
    expect(inp.follow.gates).toEqual([5001, 3, 7]);
    // after the gates (stamps 10, 12): 11(p0) 13(p1) 14(p0) 15(p0) 16(p1)
    expect(inp.follow.first).toBe(0);
    expect(inp.follow.decisions).toEqual([
      { who: 0, kind: 5, arg: 100, count: 5002, to: 1 },
      { who: 1, kind: 5, arg: 101, count: 4, to: 0 },
      { who: 0, kind: 5, arg: 100, count: 5004, to: 1 },
    ]);
    const o = ringRunOptions({ ...DEFAULTS, mode: 'threads', seconds: 2 }, inp);
    expect(o).toMatchObject({ mode: 'sim', seconds: null, opsPerCpu: [1500, 1500], ops: 3000, recordSchedule: true, recordKeys: true });
  });
});

describe('re-enacting rings in sim mode', () => {
  const base: RunOptions = { ...DEFAULTS, workload: 'alloc-storm', cpus: 2, memBytes: 4 << 20, seed: 3, ops: null, seconds: null };

  it('a threads run asked for its rings returns them with its violation, counts only non-spin points, and never without a violation', async () => {
    const clean = await runMachine({ ...base, mode: 'threads', ops: 300, recordRing: true });
    expect(clean.violations).toEqual([]);
    expect(clean.rings).toBeUndefined();
    const r = await runMachine({ ...base, mode: 'threads', ops: 2000, recordRing: true, debugFaults: ['double-free'] });
    expect(r.violations.map((v) => v.oracle)).toContain('refcount');
    const { points, passed } = r.rings!;
    expect(points).toHaveLength(3); // two CPUs and the host
    const v = r.violations.find((x) => x.oracle === 'refcount')!;
    expect(passed[v.cpu]).toBeGreaterThan(0); // the failing CPU got there through scheduling points (the other may not have started yet)
    for (let p = 0; p < 3; p++) {
      expect(points[p]).toHaveLength(Math.min(passed[p], RING_POINTS));
      // own counts run 1, 2, 3 ... up to the points passed; stamps rise
      expect(points[p].map((x) => x.count)).toEqual(points[p].map((_, i) => passed[p] - points[p].length + i + 1));
      expect(points[p].every((x, i) => i === 0 || x.stamp > points[p][i - 1].stamp)).toBe(true);
      expect(points[p].some((x) => x.kind === 9)).toBe(false); // SP_SPIN is not a counted point
    }
  }, 30_000);

  it('the head stops each participant at its gate, the tail follows every decision it can reach, and the run is a pure function of its options and rings', async () => {
    const follow = { gates: [300, 200, 0], first: 1, decisions: [{ who: 1, kind: 0, arg: 0, count: 230, to: 0 }, { who: 0, kind: 0, arg: 0, count: 350, to: 1 }] };
    const o: RunOptions = { ...base, mode: 'sim', ops: 1200, opsPerCpu: [600, 600], ring: follow, recordSchedule: true, recordKeys: true };
    const a = await runMachine(o);
    const b = await runMachine(o);
    expect(a.violations).toEqual([]);
    expect(a.trace_hash).toBe(b.trace_hash);
    expect(a.ring_replay).toEqual(b.ring_replay);
    expect(a.ring_replay).toMatchObject({ decisions: 2, followed: 2, diverged: null });
    expect(a.ring_replay!.head_end_step).toBeGreaterThanOrEqual(500); // both CPUs ran to their gates first
    // the recorded schedule replays the same run without the rings
    const rep = await runMachine({ ...o, ring: null, recordSchedule: false, schedule: { first: a.schedule!.first, decisions: a.schedule!.decisions!, keys: a.schedule!.keys } });
    expect(rep.trace_hash).toBe(a.trace_hash);
    // a decision whose participant never gets that far: the run goes on with the seed's strategy, the divergence named
    const far = await runMachine({ ...o, ring: { ...follow, decisions: [{ who: 1, kind: 0, arg: 0, count: 10_000_000, to: 0 }] } });
    expect(far.ring_replay).toMatchObject({ followed: 0, diverged: { decision: 0 } });
    expect(['finished', 'late']).toContain(far.ring_replay!.diverged!.why);
  }, 30_000);
});

describe('hunt --mode threads', () => {
  it('re-enacts the failing run\'s rings in sim mode (else runs its options in sim mode) and says in the replay file how it went; a sim file replays its violation', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hintsim-ring-')), 'dgp.replay.json');
    const r = await cli('hunt', 'discard-get-page', '--mode', 'threads', '--seeds', '4', '--jobs', '1', '--no-shrink', '--no-corpus', '--out', out);
    expect(r.status, r.stderr).toBe(0); // the race fires in threads mode within a few seeds
    const f = JSON.parse(readFileSync(out, 'utf8')) as ReplayFile;
    const ring = f.ring_replay!;
    expect(ring.window_points).toBeGreaterThan(0);
    expect(ring.gates).toHaveLength(3);
    expect(r.stdout).toMatch(new RegExp(`  rings: ${ring.window_points} points in the window; `));
    if (ring.reproduced || f.replay_kind === 'sim-reproduced') {
      // the rings' re-enactment, or else the sim run with the failure's own options, failed the same way
      expect(f.replay_kind).toBe(ring.reproduced ? 'sim-ring' : 'sim-reproduced');
      expect(r.stdout).toContain(ring.reproduced ? 'reproduced; the replay file holds that sim run\'s schedule' : 'own options and seed failed the same way');
      expect(f.options.mode).toBe('sim');
      expect(f.schedule).not.toBeNull();
      const rep = await cli('replay', out, '--json');
      expect(rep.status).toBe(1);
      expect((JSON.parse(rep.stdout) as { replay: { reproduced: boolean } }).replay.reproduced).toBe(true);
    } else {
      expect(f.replay_kind).toBe('threads-only');
      expect(f.options.mode).toBe('threads');
      expect(f.schedule).toBeNull();
    }
  }, 120_000);
});
