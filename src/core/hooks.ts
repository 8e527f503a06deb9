/**
 * The guest's calls into the host it runs on, the way Linux calls `pv_mmu_ops` and s390's
 * `arch_free_page`: generic guest code (src/guest) calls `H.x(...)` and never asks which
 * host runs. Each host installs its table once per participant and run (hosts/index.ts,
 * attachHost: worker start-up, reuse and boot); the fields keep one shape, so every call
 * site sees one target for a whole run (monomorphic).
 *
 * The defaults below are the plain machine: ptes are words of the kernel area, translation
 * is a load, no page-table frames, no balloon interface, the referenced bit cleared natively.
 * The ESSA instruction and the access path have no default: a host always provides them.
 */
import { V } from './ctx.js';
import { PTE_ACCESSED } from './layout.js';
import { setSpinCheck } from './sched.js';

export interface GuestHooks {
  /** Per-participant reset at attach (a reused worker starts afresh); after ctxInit and traceInit. */
  participantInit(): void;
  /** Execute one ESSA on `pfn`; returns the old state byte. */
  essa(pfn: number, orc: number): number;
  /** Batched hinting: one host call for `n` pfns with the same op; old states to `oldOut` when given. */
  essaBatch(pfns: Int32Array, n: number, orc: number, oldOut: Int32Array | null): void;
  /** Begin a guest access to frame `pfn`: < ACC_FAULT proceeds with the frame lock held. */
  accessBegin(pfn: number, write: boolean): number;
  /** End an access begun by accessBegin (drops the frame lock). */
  accessEnd(pfn: number): void;
  /** Store a pte (the guest holds the task's pte lock). */
  setPte(pi: number, val: number): void;
  /** The MMU's translation of user pte word `pi` for an access. */
  translate(pi: number, write: boolean): number;
  /** The host wants every page table to occupy a guest frame (pte_alloc_one / pte_free). */
  wantsTableFrames: boolean;
  /** The frame of `table`, -1 none. */
  tableFrame(table: number): number;
  /** Register `pfn` as the frame of `table` (before the first pte store into it). */
  tableFrameAttach(table: number, pfn: number): void;
  /** The allocator had no frame for a table: it stays frameless. */
  tableFrameAllocFailed(): void;
  /** Drop `table`'s frame; returns it (the guest frees it), -1 none. */
  tableFrameDetach(table: number): number;
  /** Balloon inflate: the frame of `pfn` goes back to the hypervisor. */
  balloonOut(pfn: number): void;
  /** Balloon deflate: ask for a frame for `pfn`; false when the hypervisor has none (ENOMEM). */
  balloonIn(pfn: number): boolean;
  /**
   * page_referenced_one's test-and-clear of the accessed bit of pte `idx` of `table` (word
   * `pi`, known non-zero), the pte lock held: 1 young, 0 old, -1 not reachable.
   */
  testClearYoung(table: number, idx: number, pi: number, halves: number, skipSame: boolean, unmapClear: boolean): number;
  /** The host models the kernel's page table K: kernel data accesses go through kernelTouch. */
  modelsKernelTable: boolean;
  /** A kernel data access through K's pte `k` (only when modelsKernelTable). */
  kernelTouch(k: number): void;
  /** One kscand pass begins (the host's count of them). */
  kscandPass(): void;
  /**
   * s390 arch_alloc_page: a block of 2^order pages leaves the allocator (after the pcp or buddy
   * gave it out, before prep_new_page). The modern CMMA guest sets each page stable here.
   */
  archAllocPage(pfn: number, order: number): void;
  /** s390 arch_free_page: the block is being freed, before it can reach a pcp list or the buddy. */
  archFreePage(pfn: number, order: number): void;
  /** After the block reached a pcp list or the buddy (only a host whose unfixed race hints late does anything). */
  archFreePageDone(pfn: number, order: number): void;
  /**
   * Free page reporting (virtio-balloon's report callback): hand `n` isolated blocks (heads
   * `pfns`, orders `orders`) to the host, which discards them; false when the report failed.
   */
  reportBlocks(pfns: Int32Array, orders: Int32Array, n: number): boolean;
  /**
   * The host acts on the guest's boundary hints in batches (ESSA's essaBatch changes host
   * states): the allocator keeps its per-CPU high-order lists (page_alloc.ts) to batch the
   * hints of blocks of order 1..PCP_HO_ORDERS. False for a host that ignores them.
   */
  batchesBoundaryHints: boolean;
  /** A guest CPU between two workload steps: a host's timed work that runs in a CPU's time slice (CMMA's migration worker). */
  cpuTick(): void;
}

function noHost(): never {
  throw new Error('no host installed: attachHost (hosts/index.ts) runs before guest code');
}

/** The plain machine's hooks; a host's table starts from these (or from another host's table). */
export const DEFAULT_HOOKS: GuestHooks = {
  participantInit(): void { setSpinCheck(null); },
  essa: (): number => noHost(),
  essaBatch: (): void => noHost(),
  accessBegin: (): number => noHost(),
  accessEnd: (): void => noHost(),
  setPte(pi: number, val: number): void { Atomics.store(V.k, pi, val); }, // under the pte lock; lockless readers (the fault path's recheck, kscand) load it atomically
  translate(pi: number): number { return Atomics.load(V.k, pi); }, // the MMU's walk: a seq-cst load of the pte another CPU may be storing
  wantsTableFrames: false,
  tableFrame: (): number => -1,
  tableFrameAttach: (): void => noHost(),
  tableFrameAllocFailed(): void { /* no table frames */ },
  tableFrameDetach: (): number => -1,
  balloonOut(): void { /* no balloon interface: the driver just holds the page */ },
  balloonIn: (): boolean => true,
  testClearYoung(_table: number, _idx: number, pi: number): number {
    return (Atomics.and(V.k, pi, ~PTE_ACCESSED) & PTE_ACCESSED) !== 0 ? 1 : 0; // RMW: the pte lock is held, the walker is the only other writer
  },
  modelsKernelTable: false,
  kernelTouch(): void { /* no kernel page table modelled */ },
  kscandPass(): void { /* not counted */ },
  archAllocPage(): void { /* no arch hook: the boundary hinting of page_alloc.ts, if any */ },
  archFreePage(): void { /* no arch hook */ },
  archFreePageDone(): void { /* no arch hook */ },
  reportBlocks: (): boolean => false, // no reporting device: nothing is discarded
  batchesBoundaryHints: false,
  cpuTick(): void { /* no timed host work on guest CPUs */ },
};

/** The running host's hooks (one object, its fields replaced by installHooks). */
export const H: GuestHooks = { ...DEFAULT_HOOKS };

/** Install a host's table for this participant (hosts/index.ts attachHost). */
export function installHooks(h: GuestHooks): void {
  Object.assign(H, h);
}
