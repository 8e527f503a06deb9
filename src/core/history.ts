/**
 * Page history: the last few things that happened to a frame, for violation messages
 * ("who wrote, mapped, discarded or freed this page just before it broke"). Recorders
 * take a slot with one atomic add, so concurrent events on a frame are all kept (a plain
 * counter could lose one when two CPUs recorded at once); the slot contents are plain
 * writes, read only for diagnostics.
 */
import { ME, V } from './ctx.js';
import * as LAYOUT from './layout.js';
import type { Views } from './layout.js';
import { STEPS } from './sched.js';

export const H_ALLOC = 1, H_FREE = 2, H_MAP = 3, H_UNMAP = 4, H_WRITE = 5, H_DIRTY = 6, H_WRITEBACK = 7,
  H_VOLATILE = 8, H_STABLE = 9, H_DISCARD = 10, H_REMOVE = 11, H_READIN = 12, H_HOST = 13, H_COW = 14;
// This module's own constants (V8 folds them into optimised code; an imported binding is a cell load and a hole check per use).
const { HIST_EVENTS, HIST_WORDS } = LAYOUT;
const NAMES = ['', 'alloc', 'free', 'map', 'unmap', 'write', 'set_dirty', 'writeback', 'make_volatile', 'make_stable',
  'discard', 'remove_from_cache', 'read_in', 'host_reclaim', 'cow'];

export function hist(pfn: number, ev: number, arg: number): void {
  const h = V.hist;
  const b = pfn * HIST_WORDS;
  const n = h[b];
  const last = b + 1 + 2 * ((n - 1) & (HIST_EVENTS - 1));
  // a repeat of the previous event (same kind and argument, any participant) is not recorded again
  if (n > 0 && (h[last] & 0xff) === ev && h[last + 1] === arg) return;
  histRecord(h, b, ev, arg);
}

/** hist's recording, out of line: the repeat check above stays small enough to inline on hot paths. */
function histRecord(h: Int32Array, b: number, ev: number, arg: number): void {
  const m = Atomics.add(h, b, 1); // RMW: concurrent recorders of one frame get distinct slots
  const slot = m & (HIST_EVENTS - 1);
  h[b + 1 + 2 * slot] = ev | (ME << 8) | ((STEPS & 0x7fff) << 16);
  h[b + 2 + 2 * slot] = arg;
}

export function describeHistory(v: Views, pfn: number): string {
  const h = v.hist;
  const b = pfn * HIST_WORDS;
  const n = h[b];
  const out: string[] = [];
  for (let k = Math.max(0, n - HIST_EVENTS); k < n; k++) {
    const slot = k & (HIST_EVENTS - 1);
    const w = h[b + 1 + 2 * slot];
    if (w === 0) continue;
    out.push(`${NAMES[w & 0xff] ?? '?'}@p${(w >> 8) & 0xff}(${h[b + 2 + 2 * slot]})`);
  }
  return out.length ? ` history: ${out.join(' ')}` : '';
}
