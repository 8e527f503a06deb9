/**
 * Keyed decisions: a baton decision named by where its participant was, not by the global
 * step. A participant's point is keyed by (kind, object, count): its own count of scheduling
 * points of that kind on that object (pfn, lock word, host word...) so far, this one
 * included. A change of the model that adds or removes a scheduling point somewhere else
 * shifts every later global step but leaves these keys alone, so a keyed replay file
 * (replay_file.ts version 3) still lands its decisions where they were taken.
 *
 * Each participant counts in its own table (open addressing over typed arrays, allocated
 * once: nothing allocated per point); only runs that record a schedule or follow a keyed
 * one count at all (sim.ts calls keyPoint only when keysOn).
 *
 * The shared keys area (one per run, main thread allocates it):
 *   header  [0] decisions to follow (N), [1] out-log capacity
 *   in      N * IN_WORDS: who, kind, object, count, to, recorded step (strategies/keyed.ts)
 *   out     capacity * OUT_WORDS: who, kind, object, count of decision k (written by the
 *           baton holder as it logs decision k: plain writes, in order)
 */
import { ME } from '../core/ctx.js';
import type { KeyedPoint } from './schedule.js';

export const IN_WORDS = 6;
export const OUT_WORDS = 4;
const HDR = 2;
/** The pseudo-kind of a participant's last decision as it finishes (sim.ts simExit). */
export const KIND_EXIT = 0;

const TABLE = 1 << 16;
const MASK = TABLE - 1;
const keys = new Int32Array(TABLE);   // (kind << 27 | object & 0x7ffffff) + 1; 0 empty
const objs = new Int32Array(TABLE);   // the object itself (a key may collide in its low bits)
const counts = new Int32Array(TABLE);
let used = 0;

/** This participant counts its points (a keyed run); read by sim.ts before calling in. */
export let keysOn = false;
let area: Int32Array | null = null;
/** The key of this participant's current point (set by keyPoint / keyExitPoint). */
export let curKind = 0, curArg = 0, curCount = 0;

export function keysArea(follow: readonly (KeyedPoint & { to: number; step: number })[], capacity: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer((HDR + follow.length * IN_WORDS + capacity * OUT_WORDS) * 4);
  const w = new Int32Array(sab);
  w[0] = follow.length; w[1] = capacity;
  follow.forEach((d, i) => { const b = HDR + i * IN_WORDS; w[b] = d.who; w[b + 1] = d.kind; w[b + 2] = d.arg; w[b + 3] = d.count; w[b + 4] = d.to; w[b + 5] = d.step; });
  return sab;
}

/** Attach this participant (null: not keyed); its counts start from zero. */
export function keysInit(sab: SharedArrayBuffer | null | undefined): void {
  area = sab ? new Int32Array(sab) : null;
  keysOn = area !== null;
  if (used > 0) { keys.fill(0); counts.fill(0); used = 0; }
  curKind = 0; curArg = 0; curCount = 0;
}

/** Count this participant's point of `kind` on `arg`; it becomes the current point. */
export function keyPoint(kind: number, arg: number): void {
  const key = ((kind << 27) | (arg & 0x7ffffff)) + 1;
  let i = Math.imul(key, 0x9e3779b1) >>> 16 & MASK;
  for (let probe = 0; probe < TABLE; probe++, i = (i + 1) & MASK) {
    if (keys[i] === 0) {
      if (used >= TABLE - 1) break; // full: every further new object counts in one shared slot
      keys[i] = key; objs[i] = arg; used++;
    }
    if (keys[i] === key && objs[i] === arg) { curKind = kind; curArg = arg; curCount = ++counts[i]; return; }
  }
  curKind = kind; curArg = arg; curCount = ++counts[0];
}

/** The current point is this participant's end (its run loop returned). */
export function keyExitPoint(): void {
  curKind = KIND_EXIT; curArg = 0; curCount = 1;
}

/** Log the current point as the key of decision `k` (the baton holder, as it logs the decision). */
export function keyLog(k: number): void {
  const w = area!;
  if (k >= w[1]) return;
  const b = HDR + w[0] * IN_WORDS + k * OUT_WORDS;
  w[b] = ME; w[b + 1] = curKind; w[b + 2] = curArg; w[b + 3] = curCount;
}

/** Decision `i` to follow (keyed replay), as a view of the in-log. */
export function inLog(): Int32Array {
  return area!;
}
export const IN_BASE = HDR;

/** Main thread, after the run: the keys of the first `n` decisions logged. */
export function readKeys(sab: SharedArrayBuffer, n: number): KeyedPoint[] {
  const w = new Int32Array(sab);
  const m = Math.min(n, w[1]);
  const out: KeyedPoint[] = [];
  for (let k = 0; k < m; k++) {
    const b = HDR + w[0] * IN_WORDS + k * OUT_WORDS;
    out.push({ who: w[b], kind: w[b + 1], arg: w[b + 2], count: w[b + 3] });
  }
  return out;
}
