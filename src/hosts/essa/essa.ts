/**
 * The ESSA host (s390 CMMA): its state machine (the ESSA transition table), the guest
 * CPU's execution of ESSA on the frame's host state word, and the hardware access path
 * every guest load/store of frame data goes through. Installed as the guest's hooks by
 * hooks.ts; states, op codes and the frame lock are the shared ABI of core/hw.ts.
 */
import { C } from '../../core/counters.js';
import { covAccess, covEssa } from '../../core/coverage.js';
import { injTouch } from '../../core/inject.js';
import { T_ESSA_BATCH, tr } from '../../core/trace.js';
import { CNT, ME, V } from '../../core/ctx.js';
import * as HW from '../../core/hw.js';
import * as LAYOUT from '../../core/layout.js';
import * as FLAGS from '../../core/page_flags.js';
import { O, report } from '../../core/oracles.js';
import { SP_ACCESS, SP_ESSA, STEPS, sp } from '../../core/sched.js';

// The imported constants and functions as this module's own constants: V8 folds a module's
// own `const` into optimised code (and inlines a known function), but reads an imported
// binding from its cell, with a hole check, at every use (page_alloc.ts says the same).
const {
  ACC_ADDRESSING, ACC_DISCARD_FAULT, ACC_OK, ACC_PAGE_IN, ACC_ZERO_FILL,
  ESSA_CSTATE_MASK, ESSA_CSTATE_PRESERVED, ESSA_CSTATE_RESIDENT, ESSA_USTATE_MASK, ESSA_USTATE_UNUSED,
  ORC_GET_STATE, ORC_NAMES, ORC_SET_PVOLATILE, ORC_SET_STABLE, ORC_SET_STABLE_IF_RESIDENT, ORC_SET_STABLE_MAKE_RESIDENT,
  ORC_SET_UNUSED, ORC_SET_VOLATILE, ST_Pr, ST_Sp, ST_Sr, ST_Sz, ST_Ur, ST_Uz, ST_Vr, ST_Vz,
  frameLock, frameUnlock, isValidState, residentAdd, stateName,
} = HW;
const { HS_CHANGE, HS_LOCK, HS_REF, HS_STATE_MASK, PAGE_INTS, PAGE_WORDS, PG_FLAGS } = LAYOUT;
const { PG_writeback } = FLAGS;
const C_ESSA_CALLS = C.essa_calls, C_ESSA_BATCHES = C.essa_batches, C_ESSA_BATCHED_PAGES = C.essa_batched_pages, C_FRAME_ACCESSES = C.frame_accesses;

// Side effects of a transition on the frame's content.
export const FX_NONE = 0;
export const FX_PAGE_IN = 1;    // p -> r: read the preserved copy back (host read)
export const FX_ZERO_FILL = 2;  // z -> r: supply a zeroed frame
export const FX_DROP_SWAP = 3;  // p -> z: the preserved copy is thrown away

/**
 * The ESSA transition table (hinting.md 1.4, seeds 000/001) as a function:
 * returns next state | (effect << 8). Pure; `change` is the frame's change bit.
 */
export function essaNext(state: number, orc: number, change: boolean): number {
  const c = state & ESSA_CSTATE_MASK;
  if (orc === ORC_GET_STATE) return state;
  if (c === ESSA_CSTATE_RESIDENT) {
    switch (orc) {
      case ORC_SET_STABLE: case ORC_SET_STABLE_MAKE_RESIDENT: case ORC_SET_STABLE_IF_RESIDENT: return ST_Sr;
      case ORC_SET_UNUSED: return ST_Ur;
      case ORC_SET_VOLATILE: return ST_Vr;
      case ORC_SET_PVOLATILE: return ST_Pr;
    }
    return -1;
  }
  if (c === ESSA_CSTATE_PRESERVED) { // only Sp is valid here
    switch (orc) {
      case ORC_SET_STABLE: case ORC_SET_STABLE_IF_RESIDENT: return ST_Sp;
      case ORC_SET_UNUSED: return ST_Uz | (FX_DROP_SWAP << 8);
      case ORC_SET_VOLATILE: return ST_Vz | (FX_DROP_SWAP << 8);
      case ORC_SET_PVOLATILE: return change ? ST_Sp : ST_Vz | (FX_DROP_SWAP << 8);
      case ORC_SET_STABLE_MAKE_RESIDENT: return ST_Sr | (FX_PAGE_IN << 8);
    }
    return -1;
  }
  // content z: Sz, Uz, Vz
  switch (orc) {
    case ORC_SET_STABLE: return ST_Sz;    // on Vz: the discarded content is silently lost
    case ORC_SET_UNUSED: return ST_Uz;
    case ORC_SET_VOLATILE: case ORC_SET_PVOLATILE: return ST_Vz; // no Pz
    case ORC_SET_STABLE_MAKE_RESIDENT: return ST_Sr | (FX_ZERO_FILL << 8);
    case ORC_SET_STABLE_IF_RESIDENT: return state; // Sz stays, Uz "succeeds", Vz fails
  }
  return -1;
}

function applyEffect(pfn: number, fx: number): void {
  const base = pfn * PAGE_INTS;
  if (fx === FX_PAGE_IN) {
    V.frame.set(V.swap.subarray(base, base + PAGE_INTS), base);
    CNT[C.host_pageins]++;
    if ((V.page[pfn * PAGE_WORDS + PG_FLAGS] & PG_writeback) !== 0) CNT[C.double_paging]++; // guest writeback reads what the host paged out
    residentAdd(1);
  } else if (fx === FX_ZERO_FILL) {
    V.frame.fill(0, base, base + PAGE_INTS);
    CNT[C.zero_fills]++;
    residentAdd(1);
  } else if (fx === FX_DROP_SWAP) {
    CNT[C.host_swap_frees]++;
  }
}

function invalid(pfn: number, what: string): void {
  report(V, O.invalid_state, pfn, ME, STEPS, what);
}

/** Execute one ESSA on `pfn`; returns the old state byte. */
export function essa(pfn: number, orc: number): number {
  sp(SP_ESSA, pfn);
  CNT[C_ESSA_CALLS]++;
  return essaLocked(pfn, orc);
}

function essaLocked(pfn: number, orc: number): number {
  const w = frameLock(pfn);
  const old = w & HS_STATE_MASK;
  if (!isValidState(old)) {
    frameUnlock(pfn, w);
    invalid(pfn, `ESSA ${ORC_NAMES[orc]} found frame in invalid state ${stateName(old)}`);
    return old;
  }
  covEssa(old, orc, (w & HS_CHANGE) !== 0 ? 1 : 0);
  const r = essaNext(old, orc, (w & HS_CHANGE) !== 0);
  const next = r & 0xff;
  const fx = r >> 8;
  if (fx !== FX_NONE) applyEffect(pfn, fx);
  let nw = (w & ~HS_STATE_MASK) | next;
  if (fx === FX_ZERO_FILL || fx === FX_DROP_SWAP) nw &= ~HS_CHANGE; // fresh or dropped content is clean
  if (fx === FX_PAGE_IN || fx === FX_ZERO_FILL) nw |= HS_REF;
  frameUnlock(pfn, nw);
  if (!isValidState(next)) invalid(pfn, `ESSA ${ORC_NAMES[orc]} made ${stateName(old)} into ${stateName(next)}`);
  return old;
}

/**
 * Batched hinting: one host call carrying `n` pfns with the same op (KVM's CBRL style).
 * Old states are written to `oldOut` when given.
 */
export function essaBatch(pfns: Int32Array, n: number, orc: number, oldOut: Int32Array | null): void {
  if (n === 0) return;
  sp(SP_ESSA, pfns[0]);
  tr(T_ESSA_BATCH, n);
  CNT[C_ESSA_BATCHES]++;
  CNT[C_ESSA_BATCHED_PAGES] += n;
  for (let i = 0; i < n; i++) {
    const old = essaLocked(pfns[i], orc);
    if (oldOut !== null) oldOut[i] = old;
  }
}

/**
 * Begin a guest access to frame `pfn`. On success (result < ACC_FAULT) the frame lock is
 * held: the caller reads/writes V.frame[pfn*PAGE_INTS + i] and then calls hwEnd (core/hw.ts), so the
 * access completes whole before the host can take the frame. On a fault nothing is held.
 * Addressing exceptions are counted here; reporting them is the caller's job (it knows
 * what it was doing).
 */
export function hwBegin(pfn: number, write: boolean): number {
  sp(SP_ACCESS, pfn);
  CNT[C_FRAME_ACCESSES]++;
  injTouch(pfn);
  const w = frameLock(pfn);
  const s = w & HS_STATE_MASK;
  covAccess(s, write ? 1 : 0);
  const c = s & ESSA_CSTATE_MASK;
  const u = s & ESSA_USTATE_MASK;
  if (u === ESSA_USTATE_UNUSED) {
    frameUnlock(pfn, w);
    CNT[C.addressing_exceptions]++;
    return ACC_ADDRESSING;
  }
  let outcome = ACC_OK;
  let nw = w;
  if (c !== ESSA_CSTATE_RESIDENT) {
    if (s === ST_Vz) {
      frameUnlock(pfn, w);
      CNT[C.discard_faults]++;
      return ACC_DISCARD_FAULT;
    }
    if (s === ST_Sz) { applyEffect(pfn, FX_ZERO_FILL); outcome = ACC_ZERO_FILL; nw &= ~HS_CHANGE; }
    else if (s === ST_Sp) { applyEffect(pfn, FX_PAGE_IN); outcome = ACC_PAGE_IN; } // change bit kept
    else {
      frameUnlock(pfn, w);
      invalid(pfn, `access to frame in invalid state ${stateName(s)}`);
      return ACC_ADDRESSING;
    }
    nw = (nw & ~HS_STATE_MASK) | ST_Sr;
  }
  nw |= HS_REF | HS_LOCK;
  if (write) nw |= HS_CHANGE;
  // Still locked: publish REF/CHANGE/state with the lock bit kept.
  Atomics.store(V.hs, pfn, nw);
  return outcome;
}

