/**
 * dom0's foreign mappers of the guest (xenpaging_kvm.md 1.1, 1.5): the I/O backends and
 * qemu-dm's map cache. They map guest frames through the p2m as backends do, so their
 * references meet nomination and eviction, and their accesses populate paged gfns
 * (FOREIGN, -ENOENT, retry).
 *
 *   backends   a few I/O gfns the guest granted at boot (XH_IO_BASE, XH_IO_N). dom0 is
 *              their only writer: it writes a stamp with its next version through its
 *              mapping and reads it back; a mapping persists across operations (as with
 *              persistent grants). O-content: a read returns exactly dom0's last write;
 *              a write through a mapping whose frame no longer backs the gfn is lost.
 *   qemu       a map cache of MAPCACHE read-only mappings of guest gfns (mostly a window
 *              just above the I/O gfns, like descriptor rings), dropped on the pager's
 *              "flush-cache" request.
 *
 * dom0 works when the guest rings its doorbell (every 16 guest accesses): OPS_PER_RING
 * operations per ring. Decisions come from a PRNG seeded with (seed, dom0).
 */
import { ME, V } from '../../core/ctx.js';
import { frameLock, frameUnlock } from '../../core/hw.js';
import { CTL_SEED, PAGE_INTS, XH_FLUSH_CACHE, XH_IO_BASE, XH_IO_N } from '../../core/layout.js';
import { O, report } from '../../core/oracles.js';
import { E_NOENT, backs, describeGfn, foreignMap, foreignUnmap } from './p2m.js';
import { Prng } from '../../core/prng.js';
import { SP_HOST, SP_SPIN, STEPS, simActive, sp } from '../../core/sched.js';
import { XC, XCNT, XV } from './xen_views.js';

export const IO_MAGIC = 0x10b0_0000;
export const MAPCACHE = 4;
export const HOT_WINDOW = 32;
const OPS_PER_RING = 1;
const ENOENT_RETRIES = 8;

/** The stamp of version `ver` of I/O gfn g (index i), as dom0 writes it (boot writes version 1). */
export function writeIoStamp(frame: Int32Array, g: number, i: number, ver: number): void {
  const b = g * PAGE_INTS;
  frame[b] = IO_MAGIC | i;
  frame[b + 1] = g;
  frame[b + 2] = ver;
  frame[b + PAGE_INTS - 1] = ioCheck(g, ver);
}
function ioCheck(g: number, ver: number): number {
  return (IO_MAGIC ^ Math.imul(g + 1, 0x9e3779b1) ^ Math.imul(ver, 0x85ebca6b)) | 0;
}

let rng: Prng;
let ioBase = 0;
let ioN = 0;
let ioMfn = new Int32Array(0);   // frame dom0 maps for each I/O gfn, -1 none
let ioVer = new Int32Array(0);   // dom0's last version written
const cacheG = new Int32Array(MAPCACHE).fill(-1);
const cacheM = new Int32Array(MAPCACHE).fill(-1);
let cacheNext = 0;
const sleepWord = new Int32Array(new SharedArrayBuffer(4)); // nobody notifies it: a bounded sleep

/** Per-run reset (a reused worker starts as a fresh one would). */
export function dom0Init(): void {
  rng = new Prng(V.hdr[CTL_SEED], 0xd0d0);
  ioBase = XV.x[XH_IO_BASE];
  ioN = XV.x[XH_IO_N];
  ioMfn = new Int32Array(ioN).fill(-1);
  ioVer = new Int32Array(ioN).fill(1);
  cacheG.fill(-1);
  cacheM.fill(-1);
  cacheNext = 0;
}

/** Map g, retrying -ENOENT a few times as libxc does (the populate is under way). */
function mapRetrying(g: number): number {
  for (let i = 0; ; i++) {
    const m = foreignMap(g, true);
    if (m !== E_NOENT || i === ENOENT_RETRIES) return m;
    if (simActive()) sp(SP_SPIN, g); else Atomics.wait(sleepWord, 0, 0, 0.05);
  }
}

function ioOp(write: boolean): void {
  const i = rng.below(ioN);
  const g = ioBase + i;
  let m = ioMfn[i];
  if (m < 0) {
    m = mapRetrying(g);
    if (m < 0) return;
    ioMfn[i] = m;
  }
  sp(SP_HOST, g);
  const w = frameLock(g); // the access is whole against evict and load
  const b = g * PAGE_INTS;
  const f = V.frame;
  if (!backs(g, m)) {
    frameUnlock(g, w);
    if (write) {
      report(V, O.integrity, g, ME, STEPS, `dom0 wrote version ${ioVer[i] + 1} of I/O gfn ${g} through its mapping of frame ${m}, ` +
        `which no longer backs gfn ${g}: the write went into an orphan frame and is lost; ${describeGfn(g)}`);
      return;
    }
    XCNT[XC.dom0_orphan_reads]++;
  } else if (write) {
    const ver = ioVer[i] + 1;
    writeIoStamp(f, g, i, ver);
    frameUnlock(g, w);
    ioVer[i] = ver;
    XCNT[XC.dom0_io_writes]++;
  } else {
    const ok = f[b] === (IO_MAGIC | i) && f[b + 1] === g && f[b + 2] === ioVer[i] && f[b + PAGE_INTS - 1] === ioCheck(g, ioVer[i]);
    const found = `${(f[b] >>> 0).toString(16)}/${f[b + 1]}/${f[b + 2]}`;
    frameUnlock(g, w);
    XCNT[XC.dom0_io_reads]++;
    if (!ok) {
      report(V, O.integrity, g, ME, STEPS, `dom0 read I/O gfn ${g} through frame ${m}: found ${found}, expected version ${ioVer[i]} ` +
        `(its own last write)${f[b] === 0 && f[b + 2] === 0 ? ': a zeroed frame' : ''}; ${describeGfn(g)}`);
    }
  }
  if (rng.below(2) === 0) { foreignUnmap(g, m); ioMfn[i] = -1; } // half of the operations keep their grant mapped
}

function flushCache(): void {
  for (let k = 0; k < MAPCACHE; k++) {
    if (cacheM[k] >= 0) foreignUnmap(cacheG[k], cacheM[k]);
    cacheG[k] = -1; cacheM[k] = -1;
  }
}

function mapcacheOp(): void {
  // The pager's request: a flag, no data travels with it (a late flush only costs mappings).
  if (Atomics.load(XV.x, XH_FLUSH_CACHE) !== 0) { Atomics.store(XV.x, XH_FLUSH_CACHE, 0); flushCache(); }
  const first = ioBase + ioN; // guest gfns start after the I/O gfns
  const g = rng.below(4) !== 0 ? Math.min(V.nframes - 1, first + rng.below(HOT_WINDOW)) : first + rng.below(V.nframes - first);
  for (let k = 0; k < MAPCACHE; k++) {
    if (cacheG[k] !== g) continue;
    sp(SP_HOST, g);
    const w = frameLock(g);
    if (!backs(g, cacheM[k])) XCNT[XC.dom0_orphan_reads]++;
    else XCNT[XC.dom0_mapcache_reads]++;
    frameUnlock(g, w);
    return;
  }
  const k = cacheNext;
  if (cacheM[k] >= 0) { foreignUnmap(cacheG[k], cacheM[k]); cacheG[k] = -1; cacheM[k] = -1; }
  const m = mapRetrying(g);
  if (m < 0) return;
  cacheG[k] = g; cacheM[k] = m;
  cacheNext = (k + 1) % MAPCACHE;
  XCNT[XC.dom0_mapcache_reads]++;
}

/** One doorbell's worth of backend and qemu work. */
export function dom0Batch(): void {
  for (let n = 0; n < OPS_PER_RING; n++) {
    const r = rng.below(100);
    if (r < 35) ioOp(true);
    else if (r < 70) ioOp(false);
    else mapcacheOp();
  }
}

/** Backends disconnect and qemu exits: every mapping goes. */
export function dom0Exit(): void {
  for (let i = 0; i < ioN; i++) if (ioMfn[i] >= 0) { foreignUnmap(ioBase + i, ioMfn[i]); ioMfn[i] = -1; }
  flushCache();
}
