/**
 * Scheduling points. Every place where another participant's interleaving matters
 * (lock acquire/release, ESSA, refcount atomics, frame access, fault entry, epoch
 * changes) calls `sp(kind)`. In threads mode that only counts a step; in sim mode
 * (sim.ts installs itself through `setSimHook`) it may pass the baton to another
 * participant and wait for it to come back.
 *
 * The cost when no switch happens is one branch and an increment (threads mode: and a null
 * check of the point ring, point_ring.ts, which records only when the run asked for it).
 */
import * as POINT_RING from './point_ring.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const { ringPut, ringView } = POINT_RING;

export const SP_LOCK = 1;
export const SP_UNLOCK = 2;
export const SP_ESSA = 3;
export const SP_REFCOUNT = 4;
export const SP_ACCESS = 5;
export const SP_FAULT = 6;
export const SP_EPOCH = 7;
export const SP_STEP = 8;
export const SP_SPIN = 9;   // spinning on a busy word: sim mode must switch
export const SP_HOST = 10;
export const SP_NAMES = ['', 'lock', 'unlock', 'essa', 'refcount', 'access', 'fault', 'epoch', 'step', 'spin', 'host'];

/** Local step counter of this participant (threads mode) or mirror of the global one (sim). */
export let STEPS = 0;
/**
 * The sim-mode hook: a point of `kind` with `arg` (mixed into the trace hash) on object
 * `obj` (what the strategies see: the pfn, lock word, host word... the point touches; for
 * SP_SPIN the busy word's identity, -1 unknown, while `arg` is the attempt number).
 */
export type SimHook = (kind: number, arg: number, obj: number) => number;
let simHook: SimHook | null = null;

/** Install (or remove) the sim-mode scheduler. The hook returns the global step. */
export function setSimHook(h: SimHook | null): void {
  simHook = h;
  STEPS = 0;
}

export function simActive(): boolean {
  return simHook !== null;
}

/** Threads mode with RunOptions.recordRing: this participant's point ring (point_ring.ts); null not recording. */
let ringAll: Int32Array | null = null;
let ringMine: Int32Array | null = null;

/** Attach this participant to the point ring area (null: not recording). */
export function setPointRing(sab: SharedArrayBuffer | null | undefined, me: number): void {
  const r = ringView(sab, me);
  ringAll = r ? r.all : null;
  ringMine = r ? r.mine : null;
}

export function sp(kind: number, arg: number): void {
  if (simHook === null) { STEPS++; if (ringMine !== null && kind !== SP_SPIN) ringPut(ringAll!, ringMine, kind, arg); return; }
  STEPS = simHook(kind, arg, arg);
}

/** The object of the first point of an injected stall (inject.ts): a vCPU the hypervisor preempts. */
export const OBJ_STALL = -2;
/**
 * The object of a point whose following code touches only its participant's own state (the
 * inner points of an injected stall): the strategies that reason about conflicts treat the
 * event as commuting with every other (sim/events.ts).
 */
export const OBJ_LOCAL = -3;

/** A point whose object differs from the argument the trace hash mixes (sp: the same). */
export function spObj(kind: number, arg: number, obj: number): void {
  if (simHook === null) { STEPS++; if (ringMine !== null && kind !== SP_SPIN) ringPut(ringAll!, ringMine, kind, arg); return; }
  STEPS = simHook(kind, arg, obj);
}

/** Model time is 30 bits wide and wraps. */
export const MODEL_TIME_MASK = 0x3fffffff;

/**
 * The model clock of the hosts' delays and latencies: the global step in sim mode, wall-clock
 * ms in threads mode (`sim`: CTL_MODE says sim; the clock is never read for a sim decision).
 */
export function modelNow(sim: boolean): number {
  return (sim ? STEPS : Date.now()) & MODEL_TIME_MASK; // wall-clock ok: threads mode only
}

let spinCheck: (() => void) | null = null;
/**
 * A check run every 256 failed attempts of a spinning participant (null: none). The
 * xenpaging host installs one in guest CPUs: once a violation stopped the run, a CPU that
 * spins on a lock held by a vCPU which gave up waiting for its page gives up too.
 */
export function setSpinCheck(f: (() => void) | null): void {
  spinCheck = f;
}

/** A waiter that does not go through spinWait (a sleeping lock waiter): the same periodic check. */
export function spinPoll(attempt: number): void {
  if (spinCheck !== null && (attempt & 255) === 255) spinCheck();
}

/**
 * Threads mode: time (ms) this participant lost waiting on busy words since spinTimeReset,
 * split into spinning (the core burnt: the time from one failed attempt to the next) and
 * sleeping (Atomics.wait in spinWait and in spinlock.ts's sleeping waiters: the core given
 * away). Measured on the slow path only: one clock read per 8 failed attempts and one after
 * each sleep, nothing on an uncontended acquire; no allocation. An episode starts at attempt
 * 0; its last few attempts (fewer than 8) and the CAS that succeeds are not counted.
 */
let spinMs = 0;
let sleepMs = 0;
let spinMark = 0;
/** A failed attempt on a busy word (threads mode): the time since the previous one was spent spinning. */
export function spinClock(attempt: number): void {
  // Every 8th attempt only: a clock read costs about as much as an attempt, and the spin
  // phase must stay as short as it was (up to 7 attempts at the end of an episode go uncounted).
  if ((attempt & 7) !== 0) return;
  const t = performance.now();
  if (attempt !== 0) spinMs += t - spinMark;
  spinMark = t;
}
/** A waiter woke from a sleep that began at its last spinClock. */
export function spinSlept(): void {
  const t = performance.now();
  sleepMs += t - spinMark;
  spinMark = t;
}
/** Time spent spinning since the last reset (threads mode; 0 in sim mode). */
export function spinTimeMs(): number {
  return spinMs;
}
/** Time spent asleep waiting on busy words since the last reset. */
export function sleepTimeMs(): number {
  return sleepMs;
}
export function spinTimeReset(): void {
  spinMs = 0;
  sleepMs = 0;
}

const spinWord = new Int32Array(new SharedArrayBuffer(4));
/**
 * Called once per failed attempt on a busy word. Threads mode: spin briefly, then sleep
 * a few microseconds (on 2 cores a pure spin can starve the holder). Sim mode: yield.
 * `obj` names the busy word for the strategies (a pfn, a lock word's index; -1 unknown);
 * the trace hash mixes only `attempt`, as it always did.
 */
export function spinWait(attempt: number, obj = -1): void {
  if (spinCheck !== null && (attempt & 255) === 255) spinCheck();
  if (simHook !== null) { STEPS = simHook(SP_SPIN, attempt, obj); return; }
  spinClock(attempt);
  if (attempt < 64) return;
  // Nobody notifies spinWord: this is a bounded sleep, not a handoff.
  Atomics.wait(spinWord, 0, 0, attempt < 1024 ? 0.01 : 0.2);
  spinSlept();
}

/** A participant gave up a wait that can never end (after a violation): its run ends quietly (a host's subclass). */
export class ParticipantAbandoned extends Error {}
