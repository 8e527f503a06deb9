/**
 * file-churn: CPUs mmap shared files (some writable), read, write, msync, munmap and
 * truncate overlapping ranges while the host discards volatile pages. Every read is
 * checked: the stamp must name the file and index, its version must not be newer than
 * the latest write, and a CPU must read back at least what it wrote itself (writes and
 * truncation of a page are done by its owner CPU, index % ncpus). Optional anonymous
 * ballast (an embedded alloc-storm) keeps the host under pressure.
 * `mixed` is the same with more anonymous work.
 */
import * as COUNTERS from '../src/core/counters.js';
// Imported constants and functions as this module's own constants: V8 folds a module's own
// `const` into optimised code, but reads an imported binding from its cell, with a hole
// check, at every use (page_alloc.ts). Only `const` exports and functions; live bindings stay imports.
const { C } = COUNTERS;
import { CNT, V } from '../src/core/ctx.js';
import * as LAYOUT from '../src/core/layout.js';
const { ANON_PAGES, FILE_PAGES, K_CUR_VER, K_DISK_VER, K_FILE_SIZE, NFILES, VMA_FLAGS } = LAYOUT;
import * as SCHED from '../src/core/sched.js';
const { SP_STEP, simActive, sp } = SCHED;

const idleWord = new Int32Array(new SharedArrayBuffer(4)); // nobody notifies it: a bounded sleep
import { vmaIdx } from '../src/guest/rmap.js';
import { Prng } from '../src/core/prng.js';
import { slotOf, truncate_page } from '../src/guest/filemap.js';
import { PRIVATE_VER, setMinorFaultOpt, anon_access, anon_unmap_all, do_mlock, do_mmap, do_msync, do_munmap, user_access, vmaMapped, vmaPrivate } from '../src/guest/memory.js';
import { O, report } from '../src/core/oracles.js';
import { STEPS } from '../src/core/sched.js';
import { commit_lazy_volatile, cpu_quiescent, cpu_set_idle, setLazyVolatile } from '../src/guest/page_states.js';
import { AllocStormCpu } from './alloc_storm.js';
import * as INJECT from '../src/core/inject.js';
const { I_FREE_BURST, I_IDLE_LONG, injHit, injIdleLength } = INJECT;
import type { CpuTask, Workload, WorkloadOption } from './workload.js';

const S_READ = 1, S_WRITE = 2, S_MSYNC = 3, S_MUNMAP = 4, S_TRUNCATE = 5, S_MMAP = 6, S_IDLE = 7, S_ANON = 8, S_ANON_MEM = 9;

export class FileChurnCpu implements CpuTask {
  private readonly rng: Prng;
  private readonly lastWritten = new Int32Array(NFILES * FILE_PAGES);
  private readonly privVer = new Int32Array(NFILES * FILE_PAGES);   // version of this task's private copy, 0 none
  private readonly anonStamp = new Int32Array(ANON_PAGES);          // what each anonymous page must read back
  private privSeq = 0;
  private anonSeq = 0;
  private readonly anon: AllocStormCpu | null;
  private epoch = 0;
  private readonly files: number;
  private readonly pages: number;

  constructor(private readonly cpu: number, private readonly ncpus: number, seed: number, private readonly o: Record<string, number>) {
    this.rng = new Prng(seed, 100 + cpu);
    this.files = o.files;
    this.pages = o.file_pages;
    setLazyVolatile(o.lazy_volatile);
    setMinorFaultOpt(o.minor_fault_opt !== 0);
    this.anon = o.anon_pct > 0 ? new AllocStormCpu(cpu, ncpus, seed, { fill: o.anon_fill, fill_low: Math.floor(o.anon_fill / 4), wave: o.anon_wave, max_order: 3 }) : null;
  }

  /** An index of this file that this CPU owns (writes and truncates). */
  private ownedIndex(): number {
    const per = Math.max(1, Math.floor((this.pages - this.cpu - 1) / this.ncpus) + 1);
    return this.cpu + this.ncpus * this.rng.below(per);
  }

  step(): number {
    cpu_quiescent(++this.epoch); // between steps the CPU is in enabled code
    if (injHit(I_IDLE_LONG)) { CNT[C.ops]++; this.idle(injIdleLength()); return S_IDLE; }
    if (injHit(I_FREE_BURST)) { CNT[C.ops]++; this.freeBurst(); return S_MUNMAP; }
    const r = this.rng.below(100);
    if (this.anon && r < this.o.anon_pct) { this.anon.step(); return S_ANON; }
    CNT[C.ops]++;
    CNT[C.file_ops]++;
    const f = this.rng.below(this.files);
    if (!vmaMapped(f)) {
      const priv = this.rng.chance(this.o.private_pct / 100);
      do_mmap(f, 0, this.pages, priv || this.rng.chance(this.o.writable_pct / 100), priv);
      if (this.o.mlock_pct > 0 && this.rng.chance(this.o.mlock_pct / 100)) do_mlock(f);
      return S_MMAP;
    }
    const q = this.rng.below(100);
    if (q < this.o.idle_pct) { this.idle(this.o.idle_len); return S_IDLE; }
    if (q < this.o.idle_pct + this.o.anon_mem_pct) return this.anonStep();
    // The file operations share what is left: read 55%, write 25%, msync 8%, munmap 7%, truncate 5%.
    const rest = 100 - this.o.idle_pct - this.o.anon_mem_pct;
    let t = Math.floor(((q - this.o.idle_pct - this.o.anon_mem_pct) * 100) / rest);
    const priv = vmaPrivate(f);
    if (t < 55) {
      const i = this.rng.below(this.pages);
      const owner = i % this.ncpus === this.cpu;
      const pv = priv ? this.privVer[slotOf(f, i)] : 0;
      user_access(f, i, false, 0, pv !== 0 ? pv : owner ? this.lastWritten[slotOf(f, i)] : 0);
      return S_READ;
    }
    t -= 55;
    if (t < 25 && priv) { // a write to a private mapping: copy on write, seen by this task only
      const i = this.rng.below(this.pages);
      const ver = PRIVATE_VER | (++this.privSeq & 0x3fff_ffff);
      if (user_access(f, i, true, ver, 0) === ver) this.privVer[slotOf(f, i)] = ver;
      return S_WRITE;
    }
    if (t < 25) {
      const i = this.ownedIndex();
      if (i >= this.pages) return S_WRITE;
      if (!this.writableVma(f)) { this.munmap(f); do_mmap(f, 0, this.pages, true); }
      const ver = Atomics.add(V.k, K_CUR_VER + slotOf(f, i), 1) + 1; // the new version is published before the data
      if (user_access(f, i, true, ver, 0) === ver) this.lastWritten[slotOf(f, i)] = ver;
      CNT[C.file_writes]++;
      return S_WRITE;
    }
    t -= 25;
    if (t < 8) { do_msync(f); return S_MSYNC; }
    t -= 8;
    if (t < 7) { this.munmap(f); return S_MUNMAP; }
    for (let k = 0; k < 2; k++) {
      const i = this.ownedIndex();
      if (i >= this.pages) continue;
      const ver = Atomics.add(V.k, K_CUR_VER + slotOf(f, i), 1) + 1;
      truncate_page(f, i, ver);
      this.lastWritten[slotOf(f, i)] = ver;
    }
    return S_TRUNCATE;
  }

  private writableVma(f: number): boolean {
    return (Atomics.load(V.k, vmaIdx(this.cpu, f) + VMA_FLAGS) & 2) !== 0; // bit 1: writable (do_mmap)
  }

  /** An idle stretch: the CPU sits in enabled wait (a quiescent state while it lasts). */
  private idle(len: number): void {
    CNT[C.idle_stretches]++;
    cpu_set_idle(true, ++this.epoch);
    // Sim mode: len scheduling points in which the others run; threads: a sleep of len us.
    if (simActive()) for (let k = 0; k < len; k++) sp(SP_STEP, k);
    else Atomics.wait(idleWord, 0, 0, len / 1000);
    cpu_set_idle(false, ++this.epoch);
  }

  /** Injected burst of frees (free-burst): every mapping and the anonymous memory go at once. */
  private freeBurst(): void {
    for (let f = 0; f < this.files; f++) if (vmaMapped(f)) this.munmap(f);
    anon_unmap_all();
    this.anonStamp.fill(0);
    this.anon?.freeBurst();
  }

  private munmap(f: number): void {
    do_munmap(f);
    this.privVer.fill(0, slotOf(f, 0), slotOf(f, FILE_PAGES));
  }

  /** Anonymous memory: write a fresh stamp or check the last one; now and then unmap it all. */
  private anonStep(): number {
    if (this.rng.chance(0.02)) { anon_unmap_all(); this.anonStamp.fill(0); return S_ANON_MEM; }
    const p = this.rng.below(ANON_PAGES);
    if (this.rng.chance(0.5)) {
      const s = ++this.anonSeq & 0x3fff_ffff;
      if (anon_access(p, true, s) === s) this.anonStamp[p] = s;
      return S_ANON_MEM;
    }
    const got = anon_access(p, false, 0);
    if (got >= 0 && got !== this.anonStamp[p]) {
      report(V, O.integrity, -1, this.cpu, STEPS, `anonymous page ${p} of cpu ${this.cpu}: read stamp ${got}, wrote ${this.anonStamp[p]}`);
    }
    return S_ANON_MEM;
  }

  finish(): void {
    commit_lazy_volatile();
    for (let f = 0; f < this.files; f++) if (vmaMapped(f)) this.munmap(f);
    anon_unmap_all();
    this.anon?.finish();
  }

  owned(): number[] {
    return this.anon ? this.anon.owned() : [];
  }
}


export const COMMON: WorkloadOption[] = [
  { name: 'files', default: 8, min: 1, max: NFILES, description: 'number of shared files' },
  { name: 'file_pages', default: 128, min: 1, max: FILE_PAGES, description: 'pages per file' },
  { name: 'writable_pct', default: 50, min: 0, max: 100, description: 'percent of mmaps that are writable' },
  { name: 'private_pct', default: 15, min: 0, max: 100, description: 'percent of mmaps that are private (copy on write)' },
  { name: 'anon_mem_pct', default: 8, min: 0, max: 50, description: 'percent of steps touching the task\'s anonymous mapping' },
  { name: 'idle_pct', default: 0, min: 0, max: 50, description: 'percent of steps that are idle stretches (grace-period sign-off)' },
  { name: 'idle_len', default: 2000, min: 1, max: 1e7, description: 'length of an idle stretch: scheduling points (sim) or microseconds (threads)' },
  { name: 'anon_fill', default: 30, min: 1, max: 80, description: 'percent of memory the anonymous ballast holds at its peak' },
  { name: 'anon_wave', default: 20000, min: 0, max: 1e9, description: 'ops per wave of the anonymous ballast' },
  { name: 'mlock_pct', default: 0, min: 0, max: 100, description: 'percent of mmaps that mlock the file (mapping->mlocked: its pages stay stable while any task holds it locked)' },
  { name: 'minor_fault_opt', default: 1, min: 0, max: 1, description: 'the series\' minor-fault optimisation (hinting.md 2.10): faults map cache pages without stabilising them, unmap drops the pte\'s reference without make_volatile, msync looks up only dirty pages; 0: the older model (msync stabilises every cached page of its range, every unmap tries make_volatile) for comparing ESSA traffic' },
  { name: 'lazy_volatile', default: 0, min: 0, max: 64, description: 'defer make_volatile at unlock_page and commit it in batches of this many pages (the 2006 lazy scheme; 0: at once, as the series shipped)' },
];

export function setupFiles(k: Int32Array, o: Record<string, number>): void {
  for (let f = 0; f < NFILES; f++) k[K_FILE_SIZE + f] = f < o.files ? o.file_pages : 0;
  for (let s = 0; s < NFILES * FILE_PAGES; s++) { k[K_CUR_VER + s] = 1; k[K_DISK_VER + s] = 1; }
}

export const STEP_NAMES = ['idle', 'read', 'write', 'msync', 'munmap', 'truncate', 'mmap', 'idle-stretch', 'anon-ballast', 'anon-memory'];
export const ORACLES = ['integrity', 'use_after_free', 'refcount', 'buddy', 'bug_on', 'invalid_state', 'protocol', 'leak', 'liveness'];

export const fileChurn: Workload = {
  name: 'file-churn',
  description: 'CPUs mmap shared files, read, write, msync, munmap and truncate overlapping ranges while the host discards; every read is checked',
  options: [...COMMON, { name: 'anon_pct', default: 20, min: 0, max: 90, description: 'percent of steps spent on anonymous ballast (alloc-storm)' }],
  oracles: ORACLES,
  stepNames: STEP_NAMES,
  defaults: { memBytes: 8 << 20, hinting: 'full' },
  setup: setupFiles,
  createCpu: (cpu, ncpus, seed, opts) => new FileChurnCpu(cpu, ncpus, seed, opts),
};

export const mixed: Workload = {
  name: 'mixed',
  description: 'file-churn plus anonymous alloc-storm work on every CPU: page cache, discard faults and buddy traffic at once',
  options: [...COMMON, { name: 'anon_pct', default: 50, min: 0, max: 90, description: 'percent of steps spent on anonymous work (alloc-storm)' }],
  oracles: ORACLES,
  stepNames: STEP_NAMES,
  defaults: { memBytes: 16 << 20, hinting: 'full' },
  setup: setupFiles,
  createCpu: (cpu, ncpus, seed, opts) => new FileChurnCpu(cpu, ncpus, seed, opts),
};
