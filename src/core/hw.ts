/**
 * The machine interface between guest and host: the ESSA instruction (executed by the
 * guest CPU itself on the frame's host state word) and the hardware access path every
 * guest load/store of frame data goes through. Guest and host code meet here.
 *
 * States, op codes and masks are those of the s390 patch (seed 001):
 *   usage  mask 0x0c: S 0x00, U 0x04, P 0x08, V 0x0c
 *   content mask 0x03: r 0x00, p 0x02, z 0x03
 *   ORC 0 get state, 1 set stable, 2 set unused, 3 set volatile, 4 set potentially
 *   volatile, 5 set stable and make resident, 6 set stable if resident.
 * ESSA returns the old state.
 *
 * Lock order: frame lock (HS_LOCK in the host state word) is a leaf lock; no other lock
 * is taken while holding it. ZONE_LOCK -> frame lock is allowed (bulk hints under the
 * zone lock in the unfixed orderings), never the reverse.
 */
import { C } from './counters.js';
import { covAccess, covEssa } from './coverage.js';
import { injTouch } from './inject.js';
import { T_ESSA_BATCH, tr } from './trace.js';
import { CNT, ME, V, XEN } from './ctx.js';
import {
  CTL_HOST_BUDGET, CTL_NCPUS, PA_STATE, SIM_DIRTY, paWord, HOST_KICK, HOST_RESIDENT, HS_CHANGE, HS_CONTENT_MASK, HS_LOCK, HS_REF,
  HS_STATE_MASK, PAGE_INTS, PAGE_WORDS, PG_FLAGS,
} from './layout.js';
import { PG_writeback } from './page_flags.js';
import { xpAccessBegin, xpEssaIgnored, xpInit } from '../hosts/xenpaging/p2m.js';
import { O, report } from './oracles.js';
import { SP_ACCESS, SP_ESSA, STEPS, simActive, sp, spinWait } from './sched.js';

export const ORC_GET_STATE = 0;
export const ORC_SET_STABLE = 1;
export const ORC_SET_UNUSED = 2;
export const ORC_SET_VOLATILE = 3;
export const ORC_SET_PVOLATILE = 4;
export const ORC_SET_STABLE_MAKE_RESIDENT = 5;
export const ORC_SET_STABLE_IF_RESIDENT = 6;
export const ORC_NAMES = [
  'get_state', 'set_stable', 'set_unused', 'set_volatile', 'set_pvolatile',
  'set_stable_make_resident', 'set_stable_if_resident',
] as const;

export const ESSA_USTATE_MASK = 0x0c;
export const ESSA_USTATE_STABLE = 0x00;
export const ESSA_USTATE_UNUSED = 0x04;
export const ESSA_USTATE_PVOLATILE = 0x08;
export const ESSA_USTATE_VOLATILE = 0x0c;
export const ESSA_CSTATE_MASK = 0x03;
export const ESSA_CSTATE_RESIDENT = 0x00;
export const ESSA_CSTATE_PRESERVED = 0x02;
export const ESSA_CSTATE_ZERO = 0x03;

export const ST_Sr = 0x00, ST_Sp = 0x02, ST_Sz = 0x03;
export const ST_Ur = 0x04, ST_Up = 0x06, ST_Uz = 0x07;
export const ST_Pr = 0x08, ST_Pp = 0x0a, ST_Pz = 0x0b;
export const ST_Vr = 0x0c, ST_Vp = 0x0e, ST_Vz = 0x0f;

const USAGE_LETTER = ['S', 'U', 'P', 'V'];
const CONTENT_LETTER = ['r', '?', 'p', 'z'];
export function stateName(s: number): string {
  return USAGE_LETTER[(s & ESSA_USTATE_MASK) >> 2] + CONTENT_LETTER[s & ESSA_CSTATE_MASK];
}
export const ALL_STATES = [ST_Sr, ST_Sp, ST_Sz, ST_Ur, ST_Up, ST_Uz, ST_Pr, ST_Pp, ST_Pz, ST_Vr, ST_Vp, ST_Vz];
export const VALID_STATES = [ST_Sr, ST_Sp, ST_Sz, ST_Ur, ST_Uz, ST_Vr, ST_Vz, ST_Pr];
export function isValidState(s: number): boolean {
  const c = s & ESSA_CSTATE_MASK;
  if (c === 1) return false;
  if (c === ESSA_CSTATE_RESIDENT) return true;
  const u = s & ESSA_USTATE_MASK;
  if (u === ESSA_USTATE_STABLE) return true;            // Sp, Sz
  return c === ESSA_CSTATE_ZERO && u !== ESSA_USTATE_PVOLATILE; // Uz, Vz (not Up Vp Pp Pz)
}

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

let budgetCache = 0;

/** Per-machine state of this participant's hardware view (a reused worker starts afresh). */
export function hwInit(): void {
  budgetCache = 0;
  xpInit();
}

/** Acquire the frame lock bit; returns the host state word as it was (lock clear). */
export function frameLock(pfn: number): number {
  const hs = V.hs;
  let attempt = 0;
  for (;;) {
    const w = Atomics.load(hs, pfn);
    // CAS sets HS_LOCK: acquire; the holder's later plain frame accesses are ordered
    // before its releasing Atomics.store of the word (seq-cst atomics fence them).
    if ((w & HS_LOCK) === 0 && Atomics.compareExchange(hs, pfn, w, w | HS_LOCK) === w) return w;
    spinWait(attempt++);
  }
}

/** Release the frame lock, publishing the new word (must not contain HS_LOCK). */
export function frameUnlock(pfn: number, word: number): void {
  Atomics.store(V.hs, pfn, word); // release: frame data written under the lock is visible to the next locker
}

export function residentAdd(delta: number): void {
  const r = Atomics.add(V.hdr, HOST_RESIDENT, delta) + delta;
  if (delta > 0) {
    if (budgetCache === 0) budgetCache = V.hdr[CTL_HOST_BUDGET];
    if (r > budgetCache && simActive()) {
      // Sim mode: an idle host (PA_STATE 3) becomes runnable again; the baton holder does it.
      const w = paWord(V.hdr[CTL_NCPUS], PA_STATE);
      if (Atomics.load(V.pa, w) === 3) { Atomics.store(V.pa, w, 1); V.hdr[SIM_DIRTY] = 1; }
    } else if (r > budgetCache && Atomics.load(V.hdr, HOST_KICK) === 0) {
      // Kick the host: it waits on HOST_KICK; store then notify (the host re-checks resident).
      Atomics.store(V.hdr, HOST_KICK, 1);
      Atomics.notify(V.hdr, HOST_KICK, 1);
    }
  }
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
  CNT[C.essa_calls]++;
  if (XEN) return xpEssaIgnored(1); // xenpaging keeps no guest page states: a no-op that reads Sr
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
  CNT[C.essa_batches]++;
  CNT[C.essa_batched_pages] += n;
  if (XEN) { // xenpaging keeps no guest page states: the batch is a no-op, every old state reads Sr
    xpEssaIgnored(n);
    if (oldOut !== null) oldOut.fill(ST_Sr, 0, n);
    return;
  }
  for (let i = 0; i < n; i++) {
    const old = essaLocked(pfns[i], orc);
    if (oldOut !== null) oldOut[i] = old;
  }
}

// Access outcomes. < ACC_FAULT: the access proceeds and the caller holds the frame lock.
export const ACC_OK = 0;
export const ACC_ZERO_FILL = 1;
export const ACC_PAGE_IN = 2;
export const ACC_FAULT = 3;
export const ACC_DISCARD_FAULT = 3;
export const ACC_ADDRESSING = 4;
export const ACC_NAMES = ['ok', 'zero_fill', 'page_in', 'discard_fault', 'addressing_exception'];

/**
 * Begin a guest access to frame `pfn`. On success (result < ACC_FAULT) the frame lock is
 * held: the caller reads/writes V.frame[pfn*PAGE_INTS + i] and then calls hwEnd, so the
 * access completes whole before the host can take the frame. On a fault nothing is held.
 * Addressing exceptions are counted here; reporting them is the caller's job (it knows
 * what it was doing).
 */
export function hwBegin(pfn: number, write: boolean): number {
  if (XEN) return xpAccessBegin(pfn, write); // --host xenpaging: the p2m decides (p2m.ts); the one mode test here
  sp(SP_ACCESS, pfn);
  CNT[C.frame_accesses]++;
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

/** End an access begun by hwBegin (drops the frame lock). */
export function hwEnd(pfn: number): void {
  const w = Atomics.load(V.hs, pfn);
  frameUnlock(pfn, w & ~HS_LOCK);
}

/** Read a page's state without side effects (diagnostics; not an ESSA). */
export function peekState(pfn: number): number {
  return Atomics.load(V.hs, pfn) & HS_STATE_MASK;
}


/** page_test_dirty: the frame's change bit (storage key), read without side effects. */
export function pageTestDirty(pfn: number): boolean {
  return (Atomics.load(V.hs, pfn) & HS_CHANGE) !== 0;
}

/** page_clear_dirty: reset the change bit (SSKE), under the frame lock. */
export function pageClearDirty(pfn: number): void {
  const w = frameLock(pfn);
  frameUnlock(pfn, w & ~HS_CHANGE);
}
