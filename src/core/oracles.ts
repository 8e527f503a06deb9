/**
 * Oracles and violations. A violation is a value {race, oracle, pfn, cpu, step, message}
 * written into a fixed record in shared memory (layout.ts VIOL_*), never a string thrown
 * from deep inside the mm. Reporting one requests a stop of the run.
 */
import {
  CTL_STATE, VIOL_BASE, VIOL_COUNT, VIOL_LOCK, VIOL_MAX, VIOL_REC_WORDS,
  VR_CPU, VR_MSG, VR_MSGLEN, VR_ORACLE, VR_PFN, VR_RACE, VR_STEP, type Views, CS_RUN, CS_STOP,
} from './layout.js';
import { T_VIOLATION, tr } from './trace.js';

export const ORACLES = [
  'integrity',       // data read back differs from what was written / the disk version
  'use_after_free',  // access to an unused (U) frame: addressing exception
  'invalid_state',   // one of Up Vp Pp Pz, or a transition no table allows; xenpaging: a p2m entry whose type and frame disagree, a stale m2p
  'refcount',        // underflow, free page with references, reference on a free page
  'buddy',           // double free, free page mapped or in use, list corruption
  'bug_on',          // a kernel BUG_ON / VM_BUG_ON_PAGE
  'leak',            // a frame not accounted for at the end; xenpaging: a frame allocated to the domain that no p2m entry names
  'liveness',        // watchdog: no progress; xenpaging: a vCPU waiting for a page-in or a ring slot the pager never answers
  'protocol',        // a hinting-protocol contract broken (write to V, V without its conditions); xenpaging: a ring slot overwritten or never answered, a page-file write wasted on a frame mapped after nomination
  // --host shadow (xenpaging_kvm.md 4.3)
  'false_flood',     // a page table in use was flooded (unshadowed) on evidence the detector should have seen
  'shadow_coherence', // a present spte disagrees with its guest pte (not present, other frame, accessed bit clear, W without W and D)
  'stale_shadow',    // a user-mode write was emulated on a frame whose shadow outlived its use as a page table
  'tlb',             // a vCPU used a TLB entry more permissive than its spte after the flush point
  'shadow_thrash',   // the shadow pool recycled a page table in use (rebuilt at once)
] as const;
export type OracleName = (typeof ORACLES)[number];
export const O = Object.fromEntries(ORACLES.map((n, i) => [n, i])) as { readonly [K in OracleName]: number };

export interface Violation {
  race: string | null;
  oracle: OracleName;
  pfn: number;
  cpu: number;
  step: number;
  message: string;
}

const MSG_BYTES = (VIOL_REC_WORDS - VR_MSG) * 4;
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Record a violation and request a stop. Returns the record number, or -1 if the table
 * is full (the count still goes up). `race` is the race index + 1 when the site knows it.
 * `stop` false: a performance oracle (--host shadow's false_flood, stale_shadow,
 * shadow_thrash) records the violation and lets the run go on, so that its cost is measured.
 */
export function report(v: Views, oracle: number, pfn: number, cpu: number, step: number, msg: string, race = 0, stop = true): number {
  // VIOL_LOCK: CAS 0->1 acquire, store 0 release; records are read by main after stop.
  while (Atomics.compareExchange(v.hdr, VIOL_LOCK, 0, 1) !== 0) { /* rare, short */ }
  const n = Atomics.add(v.hdr, VIOL_COUNT, 1);
  if (n < VIOL_MAX) {
    const base = VIOL_BASE + n * VIOL_REC_WORDS;
    v.hdr[base + VR_RACE] = race;
    v.hdr[base + VR_ORACLE] = oracle;
    v.hdr[base + VR_PFN] = pfn;
    v.hdr[base + VR_CPU] = cpu;
    v.hdr[base + VR_STEP] = step;
    const bytes = new Uint8Array(v.hdr.buffer, v.hdr.byteOffset + (base + VR_MSG) * 4, MSG_BYTES);
    const r = enc.encodeInto(msg, bytes);
    v.hdr[base + VR_MSGLEN] = r.written;
  }
  Atomics.store(v.hdr, VIOL_LOCK, 0);
  tr(T_VIOLATION, oracle);
  // Stop request: CAS run -> stop so a finished run is not reopened.
  if (stop) Atomics.compareExchange(v.hdr, CTL_STATE, CS_RUN, CS_STOP);
  return n < VIOL_MAX ? n : -1;
}

export function violationCount(v: Views): number {
  return Atomics.load(v.hdr, VIOL_COUNT);
}

/** Read the records (main thread, after stop). `raceName` maps a race index + 1 to its id. */
export function readViolations(v: Views, raceName: (idx1: number) => string | null): Violation[] {
  const n = Math.min(Atomics.load(v.hdr, VIOL_COUNT), VIOL_MAX);
  const out: Violation[] = [];
  for (let i = 0; i < n; i++) {
    const base = VIOL_BASE + i * VIOL_REC_WORDS;
    const len = v.hdr[base + VR_MSGLEN];
    const bytes = new Uint8Array(v.hdr.buffer, v.hdr.byteOffset + (base + VR_MSG) * 4, len).slice();
    out.push({
      race: raceName(v.hdr[base + VR_RACE]),
      oracle: ORACLES[v.hdr[base + VR_ORACLE]] ?? 'bug_on',
      pfn: v.hdr[base + VR_PFN],
      cpu: v.hdr[base + VR_CPU],
      step: v.hdr[base + VR_STEP],
      message: dec.decode(bytes),
    });
  }
  return out;
}
