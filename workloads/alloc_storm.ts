/**
 * alloc-storm: every CPU allocates and frees blocks of random order, writes a stamp
 * (owner, pfn, generation, sequence) into every page it owns and verifies it before the
 * page is freed, while the host reclaims under its budget. Feeds the integrity,
 * use-after-free, refcount, buddy, leak and invalid-state oracles.
 */
import { C } from '../src/core/counters.js';
import { CNT, ME, V } from '../src/core/ctx.js';
import { DBG_DOUBLE_FREE, DBG_LEAK, plant } from '../src/core/debug.js';
import { H } from '../src/core/hooks.js';
import { ACC_ADDRESSING, ACC_FAULT } from '../src/core/hw.js';
import { I_FREE_BURST, injHit } from '../src/core/inject.js';
import { CTL_DEBUG, MAX_ORDER, NIL, PAGE_INTS, PAGE_WORDS, PG_GEN } from '../src/core/layout.js';
import { O, report } from '../src/core/oracles.js';
import { Prng } from '../src/core/prng.js';
import { STEPS } from '../src/core/sched.js';
import { describePage } from '../src/core/assert.js';
import { __free_pages, alloc_pages } from '../src/guest/page_alloc.js';
import { Balloon } from '../src/guest/balloon.js';
import type { CpuTask, Workload } from './workload.js';

const STAMP_MAGIC = 0x5a17_0000;
export const STEP_ALLOC = 1, STEP_FREE = 2, STEP_VERIFY = 3, STEP_BALLOON = 4;

export class AllocStormCpu implements CpuTask {
  private readonly rng: Prng;
  private readonly pfns: Int32Array;
  private readonly orders: Int8Array;
  private readonly seqs: Int32Array;
  private nblocks = 0;
  private ownedPages = 0;
  private seq = 0;
  private targetPages: number;
  private readonly lowPages: number;
  private readonly highPages: number;
  private readonly wave: number;
  private steps = 0;
  private readonly maxOrder: number;
  private debug: number;
  private readonly balloon: Balloon | null;

  constructor(private readonly cpu: number, ncpus: number, seed: number, opts: Record<string, number>) {
    this.rng = new Prng(seed, cpu + 1);
    this.highPages = Math.max(1, Math.floor((V.nframes * opts.fill) / 100 / ncpus));
    this.lowPages = Math.min(this.highPages, Math.floor((V.nframes * opts.fill_low) / 100 / ncpus));
    this.targetPages = this.highPages;
    this.wave = opts.wave;
    this.maxOrder = Math.min(opts.max_order, MAX_ORDER - 1);
    const cap = this.highPages + 1;
    this.pfns = new Int32Array(cap);
    this.orders = new Int8Array(cap);
    this.seqs = new Int32Array(cap);
    this.debug = V.hdr[CTL_DEBUG];
    this.balloon = opts.balloon > 0 ? new Balloon(opts.balloon) : null;
  }

  private pickOrder(): number {
    const r = this.rng.below(100);
    let o = r < 75 ? 0 : r < 90 ? 1 + this.rng.below(2) : r < 98 ? 3 + this.rng.below(2) : 5 + this.rng.below(2);
    if (o > this.maxOrder) o = this.maxOrder;
    return o;
  }

  /** Write the stamp into every page of block i. Returns false on a fault (reported). */
  private stamp(i: number): boolean {
    const head = this.pfns[i];
    const gen = V.page[head * PAGE_WORDS + PG_GEN];
    for (let k = 0; k < (1 << this.orders[i]); k++) {
      const pfn = head + k;
      const r = H.accessBegin(pfn, true);
      if (r >= ACC_FAULT) return this.fault(pfn, r, 'writing its stamp');
      const b = pfn * PAGE_INTS;
      const f = V.frame;
      f[b] = STAMP_MAGIC | this.cpu;
      f[b + 1] = pfn;
      f[b + 2] = gen;
      f[b + 3] = this.seqs[i];
      f[b + PAGE_INTS - 1] = (STAMP_MAGIC ^ pfn ^ gen ^ this.seqs[i]) | 0;
      H.accessEnd(pfn);
    }
    return true;
  }

  private verify(i: number): boolean {
    CNT[C.stamp_checks]++;
    const head = this.pfns[i];
    const gen = V.page[head * PAGE_WORDS + PG_GEN];
    for (let k = 0; k < (1 << this.orders[i]); k++) {
      const pfn = head + k;
      const r = H.accessBegin(pfn, false);
      if (r >= ACC_FAULT) return this.fault(pfn, r, 'verifying its stamp');
      const b = pfn * PAGE_INTS;
      const f = V.frame;
      const ok = f[b] === (STAMP_MAGIC | this.cpu) && f[b + 1] === pfn && f[b + 2] === gen &&
        f[b + 3] === this.seqs[i] && f[b + PAGE_INTS - 1] === ((STAMP_MAGIC ^ pfn ^ gen ^ this.seqs[i]) | 0);
      // Read back under the frame lock, but only built into a string when it is wrong: a
      // verify of every page must not allocate (the garbage collector's helper threads would
      // take the cores the guest CPUs run on).
      const found = ok ? '' : `${(f[b] >>> 0).toString(16)}/${f[b + 1]}/${f[b + 2]}/${f[b + 3]}`;
      H.accessEnd(pfn);
      if (!ok) {
        report(V, O.integrity, pfn, ME, STEPS,
          `alloc-storm: stamp of cpu ${this.cpu} (pfn ${pfn}, gen ${gen}, seq ${this.seqs[i]}) reads back as ${found}; ${describePage(V, pfn)}`);
        return false;
      }
    }
    return true;
  }

  private fault(pfn: number, r: number, what: string): false {
    if (r === ACC_ADDRESSING) {
      report(V, O.use_after_free, pfn, ME, STEPS, `addressing exception: cpu ${this.cpu} touched an unused page while ${what}; ${describePage(V, pfn)}`);
    } else {
      report(V, O.bug_on, pfn, ME, STEPS, `unexpected discard fault on an anonymous page while ${what}; ${describePage(V, pfn)}`);
    }
    return false;
  }

  private freeBlock(i: number): void {
    const pfn = this.pfns[i];
    const order = this.orders[i];
    if (!this.verify(i)) return;
    __free_pages(pfn, order, this.rng.chance(0.2));
    if ((this.debug & DBG_DOUBLE_FREE) !== 0 && order === 0) {
      this.debug &= ~DBG_DOUBLE_FREE;
      plant(V, pfn);
      __free_pages(pfn, 0); // planted bug: the same page released twice
    }
    this.ownedPages -= 1 << order;
    const last = --this.nblocks;
    this.pfns[i] = this.pfns[last];
    this.orders[i] = this.orders[last];
    this.seqs[i] = this.seqs[last];
  }

  /** Injected burst of frees (free-burst): half of the blocks held, newest first. */
  freeBurst(): number {
    for (let k = this.nblocks >> 1; k > 0 && this.nblocks > 0; k--) {
      const before = this.nblocks;
      this.freeBlock(this.nblocks - 1);
      if (this.nblocks === before) break; // verification failed: reported
    }
    return STEP_FREE;
  }

  step(): number {
    CNT[C.ops]++;
    if (injHit(I_FREE_BURST)) return this.freeBurst();
    if (this.balloon !== null && this.rng.chance(0.1)) { this.balloon.step(); return STEP_BALLOON; } // the balloon driver: one page out or back in
    if (this.wave > 0) { // triangle wave between fill_low and fill
      const ph = (this.steps++ % this.wave) / this.wave; // CPUs in phase: total memory held rises and falls
      this.targetPages = this.lowPages + Math.floor((this.highPages - this.lowPages) * (1 - Math.abs(2 * ph - 1)));
    }
    if (this.nblocks === 0 || (this.ownedPages < this.targetPages && this.rng.chance(0.6))) {
      const order = this.pickOrder();
      if (this.ownedPages + (1 << order) <= this.targetPages + 1 || this.nblocks === 0) {
        const pfn = alloc_pages(order, this.rng.chance(0.2));
        if (pfn !== NIL) {
          const i = this.nblocks++;
          this.pfns[i] = pfn;
          this.orders[i] = order;
          this.seqs[i] = ++this.seq;
          this.ownedPages += 1 << order;
          this.stamp(i);
          return STEP_ALLOC;
        }
      }
    }
    if (this.nblocks === 0) return STEP_ALLOC;
    const i = this.rng.below(this.nblocks);
    if (this.ownedPages <= this.targetPages && this.rng.chance(0.25)) { this.verify(i); return STEP_VERIFY; }
    this.freeBlock(i);
    return STEP_FREE;
  }

  finish(): void {
    let keep = 0;
    if ((this.debug & DBG_LEAK) !== 0 && this.cpu === 0 && this.nblocks > 0) { keep = 1; plant(V, this.pfns[0]); } // planted bug: forget block 0
    while (this.nblocks > keep) {
      const before = this.nblocks;
      this.freeBlock(this.nblocks - 1);
      if (this.nblocks === before) return; // verification failed: reported, stop here
    }
    if (keep) this.nblocks = 0;
    this.balloon?.finish();
  }

  owned(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.nblocks; i++) for (let k = 0; k < (1 << this.orders[i]); k++) out.push(this.pfns[i] + k);
    if (this.balloon !== null) out.push(...this.balloon.owned());
    return out;
  }
}

export const allocStorm: Workload = {
  name: 'alloc-storm',
  description: 'CPUs allocate and free random orders, stamp every page they own and verify it before freeing, under host memory pressure',
  options: [
    { name: 'fill', default: 60, min: 1, max: 90, description: 'percent of guest memory the CPUs hold at the top of a wave' },
    { name: 'fill_low', default: 10, min: 0, max: 90, description: 'percent of guest memory they hold at the bottom of a wave' },
    { name: 'wave', default: 200000, min: 0, max: 1e9, description: 'ops per CPU for one wave (0: hold fill all the time)' },
    { name: 'max_order', default: 6, min: 0, max: MAX_ORDER - 1, description: 'largest block order allocated' },
    { name: 'balloon', default: 0, min: 0, max: 4096, description: 'balloon driver: up to this many pages per CPU given back to the host and taken again (xenpaging; the ESSA host has no balloon)' },
  ],
  oracles: ['integrity', 'use_after_free', 'refcount', 'buddy', 'invalid_state', 'leak'],
  stepNames: ['idle', 'alloc', 'free', 'verify', 'balloon'],
  createCpu: (cpu, ncpus, seed, opts) => new AllocStormCpu(cpu, ncpus, seed, opts),
};

