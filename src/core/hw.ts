/**
 * What every host shares at the machine interface between guest and host: the frame lock
 * (HS_LOCK in the host state word), the resident count and the host kick, the storage
 * key's change bit, and the ESSA instruction's ABI (ORC codes, state bytes and their names,
 * the access outcomes). The ESSA host's state machine, its execution of the instruction and
 * its access path are in hosts/essa/essa.ts; the guest reaches a host through core/hooks.ts.
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
import { V } from './ctx.js';
import * as HOOKS from './hooks.js';
const { H } = HOOKS;
import * as LAYOUT from './layout.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const {
  CTL_HOST_BUDGET, CTL_NCPUS, PA_STATE, SIM_DIRTY, paWord, HOST_KICK, HOST_RESIDENT, HS_CHANGE, HS_LOCK,
  HS_STATE_MASK, PS_IDLE, PS_RUNNING,
} = LAYOUT;
import * as SCHED from './sched.js';
const { simActive, spinWait } = SCHED;

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

// Access outcomes. < ACC_FAULT: the access proceeds and the caller holds the frame lock.
export const ACC_OK = 0;
export const ACC_ZERO_FILL = 1;
export const ACC_PAGE_IN = 2;
export const ACC_FAULT = 3;
export const ACC_DISCARD_FAULT = 3;
export const ACC_ADDRESSING = 4;
export const ACC_NAMES = ['ok', 'zero_fill', 'page_in', 'discard_fault', 'addressing_exception'];

let budgetCache = 0;

/** Per-machine state of this participant's hardware view (a reused worker starts afresh). */
export function hwInit(): void {
  budgetCache = 0;
  H.participantInit();
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
    spinWait(attempt++, pfn);
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
      // Sim mode: an idle host (PS_IDLE) becomes runnable again; the baton holder does it.
      const w = paWord(V.hdr[CTL_NCPUS], PA_STATE);
      if (Atomics.load(V.pa, w) === PS_IDLE) { Atomics.store(V.pa, w, PS_RUNNING); V.hdr[SIM_DIRTY] = 1; }
    } else if (r > budgetCache && Atomics.load(V.hdr, HOST_KICK) === 0) {
      // Kick the host: it waits on HOST_KICK; store then notify (the host re-checks resident).
      Atomics.store(V.hdr, HOST_KICK, 1);
      Atomics.notify(V.hdr, HOST_KICK, 1);
    }
  }
}

/** End an access begun by a host's accessBegin (drops the frame lock; every host's accessEnd). */
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
