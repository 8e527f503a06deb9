/**
 * The machine's shared memory: one SharedArrayBuffer, every word at a named offset.
 *
 *   [ header | participant areas | mem_map | host state | frames | host swap ]
 *
 * Writer disciplines (who may store to a word) are written next to each constant:
 *  - "main"        the main thread, only while no worker runs (before `run`, after stop)
 *  - "owner"       the participant that owns the area; plain stores; others read only
 *                  after the stop handshake on CTL_STATE (Atomics), or tolerate staleness
 *  - "atomic"      any participant, only with Atomics.* (the comment says which op)
 *  - "zone lock"   any guest CPU holding ZONE_LOCK (Atomics lock; its release is the fence)
 *  - "frame lock"  whoever holds HS_LOCK in the frame's host state word
 */

export const PAGE_SIZE = 4096;
export const PAGE_INTS = PAGE_SIZE / 4;          // 1024 Int32 words per frame
export const MAX_ORDER = 11;                      // buddy orders 0..10
export const MAX_CPUS = 16;
export const MAX_PARTICIPANTS = MAX_CPUS + 1;     // guest CPUs + the host
export const NIL = -1;                            // list terminator (pfn)

// ---------------------------------------------------------------- header (Int32 words)
export const CTL_STATE = 0;        // atomic: CS_BOOT, CS_RUN, CS_STOP, CS_DONE. main stores, all load
/** CTL_STATE values: booting, running, stop requested (a CAS from CS_RUN only), done (host loops exit). */
export const CS_BOOT = 0, CS_RUN = 1, CS_STOP = 2, CS_DONE = 3;
export const CTL_NCPUS = 1;        // main
export const CTL_NFRAMES = 2;      // main
export const CTL_HOST_BUDGET = 3;  // main: host-resident frames allowed
export const CTL_HINTING = 4;      // main: 0 off, 1 unused, 2 full
export const CTL_UNFIX = 5;        // main: bitmask of fixes switched off (races.ts)
export const CTL_DEBUG = 6;        // main: bitmask of planted bugs (debug.ts), tests only
export const CTL_BATCH = 7;        // main: 1 = batched hinting at the pcp<->buddy boundary
export const CTL_SEED = 8;         // main
export const CTL_MODE = 9;         // main: 0 threads, 1 sim
export const CTL_PCP_HIGH = 10;    // main
export const CTL_PCP_BATCH = 11;   // main
export const ZONE_LOCK = 12;       // atomic: spinlock word, 0 free, cpu+1 when held (CAS acquire, store release)
export const HOST_RESIDENT = 13;   // atomic add: frames whose content is r (any participant under the frame lock)
export const HOST_HAND = 14;       // owner (host): clock hand
export const HOST_KICK = 15;       // atomic: guests store 1 + notify when resident > budget; host waits on it
export const VIOL_COUNT = 16;      // atomic add: number of violations reported (records beyond VIOL_MAX dropped)
export const VIOL_LOCK = 17;       // atomic: spinlock for writing a violation record
export const STEP = 18;            // atomic add: global step counter (scheduling points; sim mode counts exactly)
export const BOOT_FRAMES = 19;     // main: frames handed to the buddy at boot
export const DEBUG_PFN = 20;       // atomic store: pfn a planted bug (debug.ts) acted on first, -1 none
export const CTL_INJECT = 21;      // main: bitmask of active fault-injection points (inject.ts)
export const INJ_TOUCHED = 22;     // atomic store by guests (only while host-reclaim-touched is active): pfn + 1 of the frame last accessed; the host loads it
export const CTL_INJECT_PFN = 23;  // main: pfn + 1 the injection points favour (inject.ts, --inject-pfn), 0 none
export const FREE_HEAD = 24;       // zone lock: FREE_HEAD + order -> first pfn of the order's free list
export const FREE_NR = FREE_HEAD + MAX_ORDER;  // zone lock: nr_free blocks per order
export const ZONE_FREE_PAGES = FREE_NR + MAX_ORDER; // zone lock: free pages in the buddy
export const CTL_HOST = ZONE_FREE_PAGES + 1; // main: which host runs the machine (HOST_ESSA, HOST_XENPAGING)
export const HOST_ESSA = 0;        // the s390 ESSA host (host state words, reclaim daemon)
export const HOST_XENPAGING = 1;   // Xen paging: p2m, dom0 pager, foreign mappers (xenpaging area below)
export const HOST_SHADOW = 2;      // KVM's shadow MMU of 2.6.2x: shadow page tables, write-protected guest tables (shadow area below)
export const HOST_REPORTING = 3;   // free page reporting (virtio-balloon, Linux 5.7): the page reporting area below
export const HOST_CMMA = 4;        // KVM s390 CMMA today: PGSTE bits in the host state word, the cmma area below
export const CTL_UNFIX_HI = 48;    // main: bitmask of fixes switched off for race indices 32..63 (bit i - 32); CTL_UNFIX keeps 0..31
export const SIM_BASE = 64;        // sim-mode scheduler words (sim.ts), 64 words; the baton holder writes them
export const SIM_WORDS = 64;
export const SIM_BATON = SIM_BASE;        // atomic: participant allowed to run (-1 nobody); store + notify hands over
export const SIM_STEP = SIM_BASE + 1;     // baton holder: global step (scheduling points so far)
export const SIM_HASH = SIM_BASE + 2;     // baton holder: trace hash over (step, participant, point kind, arg)
export const SIM_RNG = SIM_BASE + 3;      // baton holder: 4 words of xorshift128 state (any strategy may draw: sim/strategy.ts simRand)
export const SIM_EXCL = SIM_BASE + 7;     // main: 1 = one participant at a time without switching (finish phase)
export const SIM_STRATEGY = SIM_BASE + 8; // main: the active strategy's id (its index in sim/strategies/index.ts)
export const SIM_NPART = SIM_BASE + 9;    // main: participants (cpus + host)
export const SIM_SWITCHES = SIM_BASE + 10; // baton holder: decisions taken (also the log length)
export const SIM_SPINNERS = SIM_BASE + 11; // baton holder: participants whose last scheduling point was a spin (bitmask)
export const SIM_SPINS = SIM_BASE + 13;    // baton holder: consecutive forced switches for spinning
export const SIM_FIRST = SIM_BASE + 17;      // main: the participant that ran first
export const SIM_NEXT = SIM_BASE + 18;       // baton holder: first step at which the strategy is consulted again
export const SIM_DIRTY = SIM_BASE + 19;      // baton holder: 1 when the runnable set changed (consult at once)
export const SIM_STRAT = SIM_BASE + 20;      // the active strategy's own words: each file in sim/strategies/ documents its use
export const SIM_STRAT_WORDS = SIM_WORDS - 20; // (words 12, 14-16 are free)
export const VIOL_BASE = SIM_BASE + SIM_WORDS; // violation records
export const VIOL_MAX = 16;
export const VIOL_REC_WORDS = 8 + 256;         // 8 ints + 1 KiB of UTF-8 message
export const HEADER_INTS = VIOL_BASE + VIOL_MAX * VIOL_REC_WORDS;

// violation record fields
export const VR_RACE = 0;     // race id index + 1, 0 = unknown
export const VR_ORACLE = 1;   // oracle index (oracles.ts)
export const VR_PFN = 2;
export const VR_CPU = 3;      // participant id (host = ncpus)
export const VR_STEP = 4;
export const VR_MSGLEN = 5;
export const VR_MSG = 8;

// ---------------------------------------------------------------- participant areas (Int32 words)
// One area per guest CPU and one for the host (id = ncpus). Owner writes; main reads.
export const PA_INTS = 256;
export const PA_STATE = 0;        // atomic store by owner: PS_NONE, PS_RUNNING, PS_DONE, PS_IDLE
/** PA_STATE values: not started, running (sim: runnable), finished, idle (sim: not runnable until a waker stores PS_RUNNING). */
export const PS_NONE = 0, PS_RUNNING = 1, PS_DONE = 2, PS_IDLE = 3;
export const PA_HEARTBEAT = 1;    // atomic store by owner: progress counter for the watchdog
export const PA_LAST_STEP = 2;    // owner: code of the last step begun (steps.ts)
export const PA_LAST_PFN = 3;     // owner: pfn the last step worked on
export const PA_EPOCH = 4;        // atomic store by owner: quiescent-state epoch (discard grace periods)
export const PA_IDLE = 5;         // atomic store by owner: 1 while idle
export const PA_WAKE = 6;         // sim: this participant's wake word (the baton's giver stores 1 and notifies; the owner clears it before it waits)
// pcp: per-CPU pageset, owner only (a CPU touches only its own lists; no IPI drains).
// List k (0 hot, 1 cold) at PCP_BASE + k * PCP_STRIDE: count, head, tail (doubly linked
// through the pages' lru words).
export const PCP_BASE = 8;
export const PCP_STRIDE = 4;
export const PCP_COUNT = 0;
export const PCP_HEAD = 1;
export const PCP_TAIL = 2;
// After the two pcp lists (words 8..15):
export const PA_EV_KIND = 16;     // sim, baton holder for itself: kind of its pending scheduling point (sim/events.ts)
export const PA_EV_OBJ = 17;      // sim, baton holder for itself: object of its pending scheduling point
// High-order pcp lists (Linux 5.13's pcp lists for orders up to PAGE_ALLOC_COSTLY_ORDER), owner
// only: the per-CPU batch of the boundary hints for blocks of order 1..PCP_HO_ORDERS (page_alloc.ts).
// The list of order k at PCP_HO_BASE + (k - 1) * PCP_STRIDE: count (blocks), head, tail, linked
// through the head pages' lru words; a listed block's head page has PG_pcp and PG_PRIVATE = k.
export const PCP_HO_ORDERS = 3;
export const PCP_HO_BASE = 20;    // words 20..31
export const PA_COUNTERS_F64 = 64; // Float64 counters start at Int32 word 64 (byte 256): 96 counters
export const PA_NCOUNTERS = (PA_INTS - PA_COUNTERS_F64) / 2;

// ---------------------------------------------------------------- struct page (Int32 words)
export const PAGE_WORDS = 16;
export const PG_FLAGS = 0;     // atomic or/and for bits shared with other CPUs (see page_flags.ts)
export const PG_COUNT = 1;     // atomic: _count, free == -1, page_count() == _count + 1
export const PG_MAPCOUNT = 2;  // atomic: _mapcount, -1 == unmapped
export const PG_MAPPING = 3;   // owner of the page (holder of a reference)
export const PG_INDEX = 4;
export const PG_LRU_NEXT = 5;  // list links: buddy/pcp (zone lock or pcp owner), LRU (lru lock)
export const PG_LRU_PREV = 6;
export const PG_PRIVATE = 7;   // buddy: order of the block (zone lock)
export const PG_GEN = 8;       // allocation generation, bumped by prep_new_page (allocating CPU)
export const PG_OWNER = 9;     // debug: participant that last allocated the page (allocating CPU)

// ---------------------------------------------------------------- host state word (one per frame)
// bits 0-3: the ESSA state byte (usage << 2 | content); CHANGE and REF as in the storage key;
// HS_LOCK serialises host reclaim, page-in/zero-fill and guest accesses of the frame.
export const HS_STATE_MASK = 0x0f;
export const HS_USAGE_MASK = 0x0c;
export const HS_CONTENT_MASK = 0x03;
export const HS_CHANGE = 0x10;
export const HS_REF = 0x20;
export const HS_LOCK = 0x40;

// ---------------------------------------------------------------- guest kernel area (Int32 words)
// Page cache, page tables, LRU and discard lists of the guest kernel. Locks are spinlocks
// (spinlock.ts); each word names the lock that protects it.
export const NFILES = 8;
export const FILE_PAGES = 128;                    // max pages per file
export const NVP = NFILES * FILE_PAGES;           // ptes per task: file f, index i at f * FILE_PAGES + i
export const K_CACHE = 0;                         // tree lock of the file: pfn + 1 of (file, index), 0 = none
export const K_CUR_VER = K_CACHE + NVP;           // page lock: latest written version of (file, index)
export const K_DISK_VER = K_CUR_VER + NVP;        // page lock: version on disk
export const K_TREE_LOCK = K_DISK_VER + NVP;      // atomic: spinlock per file (mapping->tree_lock)
export const K_FILE_SIZE = K_TREE_LOCK + NFILES;  // main: pages per file
export const K_MLOCKED = K_FILE_SIZE + NFILES;    // atomic: mapping->mlocked (sticky)
export const K_PTL = K_MLOCKED + NFILES;          // atomic: page-table lock per task
export const K_VMA = K_PTL + MAX_CPUS;            // pte lock of the task: per (task, file) 4 words
export const VMA_WORDS = 4;
export const VMA_FLAGS = 0;                       // 1 mapped, 2 writable, 4 private (copy on write)
export const VMA_START = 1;                       // first file index mapped
export const VMA_END = 2;                         // one past the last
export const K_PTE = K_VMA + MAX_CPUS * NFILES * VMA_WORDS; // pte lock of the task: pfn + 1 | PTE_WRITE
export const PTE_WRITE = 1 << 30;
export const PTE_DIRTY = 1 << 29;                 // x86 D: set by the MMU's walker (--host shadow only; the ESSA host never sets it)
export const PTE_ACCESSED = 1 << 28;              // x86 A: set by the walker, cleared by an accessed-bit scanner (--host shadow only)
export const PTE_AD = PTE_ACCESSED | PTE_DIRTY;
export const PTE_PFN_MASK = (1 << 28) - 1;        // pfn + 1 (512 MiB of 4 KiB frames needs 18 bits)
export const K_LRU_LOCK = K_PTE + MAX_CPUS * NVP; // atomic: zone->lru_lock
export const K_LRU_HEAD = K_LRU_LOCK + 1;         // lru lock: LRU list, most recent at head
export const K_LRU_TAIL = K_LRU_HEAD + 1;
export const K_LRU_COUNT = K_LRU_TAIL + 1;
export const K_DL_LOCK = K_LRU_COUNT + 1;         // atomic: discard list lock
export const K_DL_GATHER = K_DL_LOCK + 1;         // dl lock: gather list head (linked through lru words)
export const K_DL_GATHER_N = K_DL_GATHER + 1;
export const K_DL_SIGNOFF = K_DL_GATHER_N + 1;    // dl lock: sign-off list head
export const K_DL_SIGNOFF_N = K_DL_SIGNOFF + 1;
export const K_DL_MASK = K_DL_SIGNOFF_N + 1;      // atomic and: CPUs still to pass a quiescent point
export const K_TRUNC_COUNT = K_DL_MASK + 1;     // atomic add: mapping->truncate_count per file (faults retry when it moved)
export const ANON_PAGES = 64;                     // anonymous pages per task
export const K_APTE = K_TRUNC_COUNT + NFILES;     // pte lock of the task: anonymous ptes (pfn + 1 | PTE_WRITE)
export const K_WORDS = K_APTE + MAX_CPUS * ANON_PAGES + 8;

/** Sim schedule log: decisions (step, participant) taken in this run, or to follow in a replay. */
export const SIMLOG_MAX = 1 << 18;
export const SIMLOG_WORDS = 2 * SIMLOG_MAX;          // [2i] step, [2i+1] participant switched to

/**
 * Page history: per frame a ring of the last HIST_EVENTS events (word 0: next slot;
 * then per event: event code | participant << 8, argument). Debugging aid for violation
 * messages; racy plain stores, read after the fact.
 */
export const HIST_EVENTS = 16;
export const HIST_WORDS = 1 + 2 * HIST_EVENTS + 1;

/**
 * Coverage: per participant COV_SLOTS Float64 counts (coverage.ts names the slots). Owner
 * writes with plain increments; main sums them after the run (see coverage.ts).
 */
export const COV_SLOTS = 512;

export interface MachineGeometry {
  nframes: number;
  ncpus: number;
}

/** Byte offsets of each region for a geometry. */
export function geometry(nframes: number, ncpus: number) {
  const header = 0;
  const participants = HEADER_INTS * 4;
  const memMap = participants + MAX_PARTICIPANTS * PA_INTS * 4;
  const hostState = memMap + nframes * PAGE_WORDS * 4;
  let frames = hostState + nframes * 4;
  frames = (frames + 4095) & ~4095;
  const swap = frames + nframes * PAGE_SIZE;
  const kernel = swap + nframes * PAGE_SIZE;
  const simLog = kernel + K_WORDS * 4;
  const history = simLog + SIMLOG_WORDS * 4;
  const coverage = (history + nframes * HIST_WORDS * 4 + 7) & ~7;
  // The running host's own area (if any) follows; only that host's is allocated (allocMachineBuffer).
  const hostArea = (coverage + MAX_PARTICIPANTS * COV_SLOTS * 8 + 7) & ~7;
  const xen = hostArea;
  const shadow = hostArea;
  const total = hostArea;
  return { header, participants, memMap, hostState, frames, swap, kernel, simLog, history, coverage, hostArea, xen, shadow, total, nframes, ncpus };
}

/** Typed views over the machine buffer. Every participant builds its own from the same SAB. */
export class Views {
  readonly hdr: Int32Array;
  readonly pa: Int32Array;        // all participant areas, PA_INTS each
  readonly paF64: Float64Array;   // same bytes, counters as float64
  readonly page: Int32Array;      // mem_map
  readonly hs: Int32Array;        // host state words
  readonly frame: Int32Array;     // guest frames
  readonly swap: Int32Array;      // host swap store, one slot per frame
  readonly k: Int32Array;         // guest kernel area (K_*)
  readonly slog: Int32Array;      // sim schedule log (replay input, decisions output)
  readonly slogIn: Int32Array;    // decisions to follow in a replay (main writes before the run)
  readonly hist: Int32Array;      // page history rings (HIST_WORDS per frame)
  readonly cov: Float64Array;     // coverage counts, COV_SLOTS per participant
  readonly nframes: number;
  readonly ncpus: number;
  constructor(readonly sab: SharedArrayBuffer, nframes: number, ncpus: number) {
    const g = geometry(nframes, ncpus);
    if (sab.byteLength < g.total) throw new Error(`machine buffer too small: ${sab.byteLength} < ${g.total}`);
    this.hdr = new Int32Array(sab, g.header, HEADER_INTS);
    this.pa = new Int32Array(sab, g.participants, MAX_PARTICIPANTS * PA_INTS);
    this.paF64 = new Float64Array(sab, g.participants, (MAX_PARTICIPANTS * PA_INTS) / 2);
    this.page = new Int32Array(sab, g.memMap, nframes * PAGE_WORDS);
    this.hs = new Int32Array(sab, g.hostState, nframes);
    this.frame = new Int32Array(sab, g.frames, nframes * PAGE_INTS);
    this.swap = new Int32Array(sab, g.swap, nframes * PAGE_INTS);
    this.k = new Int32Array(sab, g.kernel, K_WORDS);
    this.slog = new Int32Array(sab, g.simLog, SIMLOG_WORDS / 2);
    this.slogIn = new Int32Array(sab, g.simLog + SIMLOG_WORDS * 2, SIMLOG_WORDS / 2);
    this.hist = new Int32Array(sab, g.history, nframes * HIST_WORDS);
    this.cov = new Float64Array(sab, g.coverage, MAX_PARTICIPANTS * COV_SLOTS);
    this.nframes = nframes;
    this.ncpus = ncpus;
  }
}

/** The machine buffer: the words every host shares, then `hostAreaBytes` for the running host's area (hosts/<name>/host.ts areaBytes). */
export function allocMachineBuffer(nframes: number, ncpus: number, hostAreaBytes = 0): SharedArrayBuffer {
  return new SharedArrayBuffer(geometry(nframes, ncpus).hostArea + hostAreaBytes);
}

/** Int32 index of participant p's word w. */
export function paWord(p: number, w: number): number {
  return p * PA_INTS + w;
}

/** Float64 index of participant p's counter c. */
export function paCounter(p: number, c: number): number {
  return (p * PA_INTS + PA_COUNTERS_F64) / 2 + c;
}

// ---------------------------------------------------------------- xenpaging area (Int32 words)
// Used only with --host xenpaging (CTL_HOST == HOST_XENPAGING); xen_views.ts builds the
// views. Frame content stays where the guest reads it (the frames region, at the gfn):
// a machine frame (mfn) is an identity with a reference count; the frame attached to a
// gfn holds that gfn's content, a detached one (an orphan) holds nothing reachable.
// The page file is the swap region, one 4 KiB slot per frame, indexed by pager slot.
export const XH_TOT_PAGES = 0;      // atomic add: frames allocated to the domain (tot_pages)
export const XH_PAGED_PAGES = 1;    // atomic add: gfns in a paging type without a frame (paged_pages)
export const XH_TARGET = 2;         // main: the pager's tot_pages target (the host budget)
export const XH_HEAP_LOCK = 3;      // atomic: spinlock of the machine-frame free list
export const XH_FREE_HEAD = 4;      // heap lock: first free mfn, NIL none
export const XH_FREE_COUNT = 5;     // heap lock: free machine frames
export const XH_NMFN = 6;           // main: machine frames in the pool
export const XH_IO_BASE = 7;        // main: first of dom0's I/O gfns (granted by the guest at boot)
export const XH_IO_N = 8;           // main: how many
export const XH_PAGER_KICK = 9;     // atomic: event channel Xen -> pager; senders store 1 + notify, the pager stores 0
export const XH_DOM0_KICK = 10;     // atomic: the guest's I/O doorbell to dom0; store 1 + notify, dom0 stores 0
export const XH_DRAIN_EPOCH = 11;   // atomic add + notify by the pager after each drain and resume; waiters' clock
export const XH_PAGER_GONE = 12;    // atomic store 1 by the pager when it exits: nobody will answer any more
export const XH_FLUSH_CACHE = 13;   // atomic: the pager asks qemu (dom0) to drop its map cache ("flush-cache")
export const XH_WAIT_DRAINS = 14;   // main: drains a waiting vCPU sits through before it reports a lost request
export const XR_LEAKED = 15;        // atomic store by the pager at the end of each drain: requests it consumed and never answered
export const XR_SIZE = 16;          // main: ring slots, a power of two <= RING_MAX
export const XR_LOCK = 17;          // atomic: producers' spinlock (the mem_event ring lock)
export const XR_REQ_PROD = 18;      // atomic store (release) by a producer under XR_LOCK after filling the slot; the pager loads
export const XR_REQ_PROD_PVT = 19;  // ring lock: next request slot (front end private)
export const XR_RSP_CONS = 20;      // atomic store by Xen's resume (in the pager's context); producers load it for free slots
export const XR_REQ_CONS = 21;      // owner (pager): next request to consume (back end private)
export const XR_RSP_PROD_PVT = 22;  // owner (pager): next response slot (back end private)
export const XR_RSP_PROD = 23;      // atomic store (release) by the pager after filling responses; resume loads
export const XR_CLAIMS_GUEST = 24;  // ring lock: slots reserved by guest vCPUs (claim/put/cancel)
export const XR_CLAIMS_FOREIGN = 25; // ring lock: slots reserved by foreign callers
export const XR_WAITERS = 26;       // atomic add: vCPUs on the ring's wait queue (no slot available)
export const XP_CURSOR = 27;        // owner (pager): the policy's scan cursor (current_gfn)
export const XP_I_MRU = 28;         // owner (pager): next MRU index
export const XP_NUM_PAGED_OUT = 29; // owner (pager): gfns in its page file; main reads after stop
export const XP_SLOT_TOP = 30;      // owner (pager): entries on the free-slot stack
export const XP_WRAPS = 31;         // owner (pager): full scans without a victim (unconsumed reset after 123)
export const XV_BASE = 32;          // per vCPU, XV_WORDS each (MAX_CPUS)
export const XV_WORDS = 4;
export const XV_PAUSE = 0;          // atomic add: pause count (populate +1 before its request is put, the response -1); notify
export const XV_GFN = 1;            // owner (the vCPU): gfn it waits for, -1 none (diagnostics)
export const XV_WHY = 2;            // owner: 0 running, 1 paused for a page-in, 2 spinning on paging_in, 3 no ring slot
export const XS_BASE = XV_BASE + MAX_CPUS * XV_WORDS; // ring slots, RS_WORDS each
export const RING_MAX = 64;         // (4096 - 64) / 40 rounded down to a power of two (xenpaging_kvm.md 1.6)
export const RS_WORDS = 8;
export const RS_FLAGS = 0;          // requests and responses share a slot: written by its producer before the release store
export const RS_VCPU = 1;
export const RS_GFN = 2;
export const RS_P2MT = 3;
export const RS_REASON = 4;
export const XP2M_BASE = XS_BASE + RING_MAX * RS_WORDS; // p2m entries, one word per gfn: type | mfn << 4
export const MFN_WORDS = 4;         // machine-frame record (page_info)
export const MF_COUNT = 0;          // atomic add: references (allocation + mappings + temporary), 0 = free
export const MF_FLAGS = 1;          // atomic: PGC_allocated (test-and-clear with Atomics.and)
export const MF_M2P = 2;            // entry lock of the gfn or heap lock: the gfn this frame backs, -1 none
export const MF_NEXT = 3;           // heap lock: free-list link
export const PGC_ALLOCATED = 1;
export const XEN_MFN_SLACK = 64;    // machine frames beyond the guest's own (allocations during a page-in)
export const MRU_SIZE = 1024 * 16;  // pager MRU of paged-in gfns (64 MiB), xenpaging_kvm.md 1.7
export const XEN_COUNTERS = 48;     // Float64 counters per participant (xen_views.ts names them)

/** Word offsets of the xenpaging area's arrays for a machine of nframes. */
export function xenGeometry(nframes: number) {
  const nmfn = nframes + XEN_MFN_SLACK;
  const p2m = XP2M_BASE;
  const mfn = p2m + nframes;
  const gfnToSlot = mfn + nmfn * MFN_WORDS;     // owner (pager): page-file slot of an evicted gfn, -1 none
  const slotToGfn = gfnToSlot + nframes;        // owner (pager)
  const slotStack = slotToGfn + nframes;        // owner (pager): free slots
  const policy = slotStack + nframes;           // owner (pager): per gfn bit 0 "not a victim" (bitmap), bit 1 unconsumed
  const mru = policy + nframes;                 // owner (pager)
  const popGen = mru + MRU_SIZE;                // atomic add under the gfn's entry lock: populates of the gfn so far
  const counters = (popGen + nframes + 1) & ~1; // Float64: MAX_PARTICIPANTS * XEN_COUNTERS, owner-written
  const words = counters + MAX_PARTICIPANTS * XEN_COUNTERS * 2;
  return { nmfn, p2m, mfn, gfnToSlot, slotToGfn, slotStack, policy, mru, popGen, counters, words };
}

// ---------------------------------------------------------------- shadow MMU area (Int32 words)
// Used only with --host shadow (CTL_HOST == HOST_SHADOW): KVM's shadow MMU as it was in Linux
// 2.6.2x (xenpaging_kvm.md 2 and 4.2). shadow.ts runs it on the vCPUs (exits are handled in
// the vCPU's own thread), host/shadow_mmu.ts boots, shrinks and audits it, shadow_views.ts
// builds the views. The guest keeps its ptes where it always does (K_PTE, K_APTE); with this
// host every guest page table also has a page-table frame (a guest frame from the buddy, or
// one reserved for the kernel's table) whose gfn the host shadows and write-protects.
// Page tables are numbered: task t's table of file f is t * NFILES + f (FILE_PAGES ptes), its
// anonymous table T_ANON0 + t (ANON_PAGES ptes), and the kernel's table K (T_KERNEL) holds
// one fixmap pte per CPU (kmap_atomic's KM_PTE0 slot) and KERNEL_PTES ptes of kernel data.
export const SH_MMU_LOCK = 0;       // atomic: kvm->mmu_lock, a spinlock.ts word (0 free, participant + 1 held)
export const SH_POOL_MAX = 1;       // main: shadow pages the pool may hold (kvm->n_max_mmu_pages)
export const SH_MIN_FREE = 2;       // main: recycle when fewer are free (KVM_MIN_FREE_MMU_PAGES, 5)
export const SH_REFILL = 3;         // main: ...until this many are free (KVM_REFILL_PAGES, 25)
export const SH_POLICY = 4;         // main: SHP_* bits, host policy the workload chose
export const SH_KMAP_GFN = 5;       // main: frame of the kernel's page table K (reserved at boot)
export const SH_KDATA_GFN = 6;      // main: first of the KERNEL_DATA_FRAMES frames K's kernel ptes map (reserved at boot)
export const SH_POOL_USED = 7;      // mmu lock: shadow pages in use
export const SH_LRU_HEAD = 8;       // mmu lock: active list, most recently used first (unfixed K9: newest first); -1 empty
export const SH_LRU_TAIL = 9;       // mmu lock
export const SH_FREE_HEAD = 10;     // mmu lock: free shadow pages, linked through SP_NEXT; -1 none
export const SH_CLOCK = 11;         // mmu lock: shadow pages built or used by a fault so far (the LRU clock)
export const SH_EVENTS = 12;        // mmu lock: MMU events handled under the lock (the false-flood window's clock)
export const SV_BASE = 16;          // per participant, SV_WORDS each (the host posts flushes too)
export const SV_WORDS = 4;
export const SV_LAST_SPEC = 0;      // mmu lock: spte slot this vCPU last installed speculatively (last_pte_updated), -1 none
export const SV_LAST_SPEC_GFN = 1;  // mmu lock: the frame that spte maps (last_pte_gfn)
export const SV_FLUSH_REQ = 2;      // atomic: others store 1 (a remote TLB flush, KVM_REQ_TLB_FLUSH); the vCPU exchanges it to 0 at guest entry
export const KERNEL_PTES = 64;      // ptes of kernel data in K (pkmap-like), after the MAX_CPUS fixmap slots
export const KERNEL_DATA_FRAMES = 8; // reserved frames those ptes map, pte i mapping frame i % 8 of them
export const K_SLOTS = MAX_CPUS + KERNEL_PTES;
export const SH_KPTE = SV_BASE + MAX_PARTICIPANTS * SV_WORDS; // mmu lock: the ptes of K (the guest memory of frame K), K_SLOTS words
export const SH_TABLE_GFN = SH_KPTE + K_SLOTS; // guest, under the owner task's pte lock: page-table frame + 1 of each table, 0 none
export const T_ANON0 = MAX_CPUS * NFILES;
export const T_KERNEL = T_ANON0 + MAX_CPUS;
export const NTABLES = T_KERNEL + 1;
export const SH_FIXED_WORDS = SH_TABLE_GFN + NTABLES;
export const SHP_A_CLEAR_UNSHADOW = 1; // an accessed-bit clear through a kmap unshadows the table at once (Arcangeli, seed 004)
export const SHP_EMULATE_MORE = 2;     // after the first half of a PAE pte write, emulate the next instruction in the same exit (Xen; Kivity's suggestion)
export const SPTES_PER_SP = 128;       // >= FILE_PAGES, ANON_PAGES and K_SLOTS: one shadow page per guest table
export const SP_CAP = 1024;            // most shadow pages any pool holds
export const SP_WORDS = 12;            // per shadow page, all under the mmu lock
export const SP_GFN = 0;               // frame shadowed, -1 free
export const SP_TABLE = 1;             // the guest table it was built for
export const SP_NEXT = 2;              // active or free list link, -1 end
export const SP_PREV = 3;
export const SP_FLOOD = 4;             // emulated writes the flood detector counted (write_flooding_count)
export const SP_LAST_SPEC = 5;         // slot in this page of its last speculative spte, -1 none
export const SP_EVIDENCE = 6;          // false-flood oracle: EV_* seen since the last emulated write
export const SP_MISSED = 7;            // false-flood oracle: EV_* evidence the detector ignored in the current count
export const SP_BUILT_AT = 8;          // SH_CLOCK when built (diagnostics)
export const SP_PRESENT = 9;           // present sptes
export const SP_WRITER = 10;           // the vCPU whose emulated writes SP_FLOOD counts (another's restarts it)
export const SP_USED_AT = 11;          // SH_CLOCK when last built or used by a fault (the active list's order, with the K9 fix)
export const EV_FAULT = 1;             // a demand or reflected fault went through the table
export const EV_HW = 2;                // its last speculative spte was used by the hardware (SPTE_A)
export const EV_EMU = 4;               // its last speculative spte was used by an emulated access (the hardware never sets A then)
export const SPTE_PFN_MASK = (1 << 28) - 1; // spte: frame + 1 | SPTE_W | SPTE_A; 0 = not present
export const SPTE_W = 1 << 28;
export const SPTE_A = 1 << 29;         // the hardware sets it (compare-exchange) on an access through the spte
export const SHADOW_COUNTERS = 48;     // Float64 counters per participant (shadow_views.ts names them)

/** max(64, 2% of guest frames) shadow pages (2.6.2x: KVM_PERMILLE_MMU_PAGES 20, KVM_MIN_ALLOC_MMU_PAGES 64), at most SP_CAP. */
export function shadowPoolDefault(nframes: number): number {
  return Math.min(SP_CAP, Math.max(64, Math.floor((nframes * 20) / 1000)));
}

/** Word offsets of the shadow area's arrays for a machine of nframes. */
export function shadowGeometry(nframes: number) {
  const cap = shadowPoolDefault(nframes);
  const gfnSp = SH_FIXED_WORDS;             // mmu lock (atomic loads outside): shadow page + 1 shadowing the frame; 0 = not write-protected
  const gfnTable = gfnSp + nframes;         // guest, under the owner task's pte lock: table id + 1 the frame holds, 0 = not a page table
  const gfnRecycled = gfnTable + nframes;   // mmu lock: 1 when its last shadow page was recycled for room (a rebuild counts as recycled_rebuilds)
  const gfnFlooded = gfnRecycled + nframes; // mmu lock: SH_EVENTS + 1 when it was last flooded, 0 never
  const gfnShadowed = gfnFlooded + nframes; // mmu lock: shadow pages built for the frame so far
  const sp = gfnShadowed + nframes;         // SP_WORDS per shadow page
  const spte = sp + cap * SP_WORDS;         // SPTES_PER_SP per shadow page: mmu lock; the hardware sets SPTE_A by compare-exchange
  const gen = spte + cap * SPTES_PER_SP;    // per spte slot, Atomics.add under the mmu lock: odd while the slot is rewritten (the oracles' seqlock)
  const counters = (gen + cap * SPTES_PER_SP + 1) & ~1; // Float64: MAX_PARTICIPANTS * SHADOW_COUNTERS, owner-written
  const words = counters + MAX_PARTICIPANTS * SHADOW_COUNTERS * 2;
  return { cap, gfnSp, gfnTable, gfnRecycled, gfnFlooded, gfnShadowed, sp, spte, gen, counters, words };
}

/** The V.k word of pte `idx` of a task's table (not K): table ids as in the shadow area above. */
export function pteWordOf(table: number, idx: number): number {
  if (table >= T_ANON0) return K_APTE + (table - T_ANON0) * ANON_PAGES + idx;
  const task = (table / NFILES) | 0;
  return K_PTE + task * NVP + (table - task * NFILES) * FILE_PAGES + idx;
}

// ---------------------------------------------------------------- page reporting area (Int32 words)
// Used only with --host reporting (CTL_HOST == HOST_REPORTING): the guest's free page
// reporting state (guest/page_reporting.ts, mm/page_reporting.c) and the counters of the
// guest worker and of the host's discards. Time is model time: global steps in sim mode,
// wall-clock milliseconds (30 bits, wrapping) in threads mode.
export const PR_STATE = 0;          // atomic: PR_IDLE, PR_REQUESTED, PR_ACTIVE (xchg by notify, store/cmpxchg by the worker)
export const PR_IDLE = 0, PR_REQUESTED = 1, PR_ACTIVE = 2;
export const PR_PENDING = 1;        // atomic: 1 while the delayed work is queued; the CPU that runs it takes it with a CAS 1 -> 0
export const PR_DUE = 2;            // atomic store before PR_PENDING's store: model time at which the queued work may run
export const PR_REQ_GEN = 3;        // atomic add: qualifying frees (notify calls) so far
export const PR_SERVED_GEN = 4;     // atomic store by the worker: PR_REQ_GEN when its last pass began
export const PR_ORDER = 5;          // main: page_reporting_order + 1 (0: reporting off, e.g. during boot's frees)
export const PR_CAPACITY = 6;       // main: blocks per report call (PAGE_REPORTING_CAPACITY, 32)
export const PR_DELAY = 7;          // main: the delay in model time units (steps in sim mode, ms in threads mode)
export const PR_LOW_WMARK = 8;      // main: the zone's low watermark (pages)
export const PR_MIN_WMARK = 9;      // main: the zone's min watermark (pages)
export const PR_ORDER_SCALED = 10;  // main: 1 when page_reporting_order was scaled down for a small --mem
export const PR_FIXED_WORDS = 16;
export const PR_COUNTERS = 32;      // Float64 counters per participant, named by PR_COUNTER_NAMES
/** Page reporting counters: the guest's worker (guest/page_reporting.ts) and the host's discards (hosts/reporting). */
export const PR_COUNTER_NAMES = [
  'notifies',             // frees of order >= page_reporting_order reaching the buddy (page_reporting_notify_free)
  'requests',             // delayed work scheduled (notify found the state idle, or a pass ended REQUESTED)
  'passes',               // worker passes (page_reporting_process)
  'zone_skipped',         // passes whose zone was below the watermark gate
  'nodes_visited',        // free-list nodes the worker looked at (zone lock held)
  'skipped_reported',     // ...that were already PageReported
  'isolations',           // blocks taken off a free list for a report (__isolate_free_page)
  'isolate_refused',      // isolations refused by the min watermark
  'putbacks',             // blocks put back after a report (__putback_isolated_page)
  'merged_on_putback',    // ...that merged with a buddy freed meanwhile (left unreported)
  'budget_exhausted',     // free lists left because the pass budget ran out
  'report_calls',         // report callbacks (virtqueue kicks, one per batch of up to 32 blocks)
  'reported_blocks',      // blocks in those calls
  'reported_pages',       // 4 KiB pages in those calls
  'host_discarded_pages', // host: frames it dropped (resident or swapped) without I/O
  'host_absent_pages',    // host: reported frames that were not backed anyway (never touched, or already dropped)
  'latency_sum',          // host: model time from a block's qualifying free to its discard, summed over discarded blocks
  'latency_blocks',       // host: blocks that latency_sum covers
  'lost_requests',        // requests a pass ended without serving (fpr-request-lost unfixed)
] as const;
/** Word offsets of the page reporting area. */
export function reportingGeometry(nframes: number) {
  const freedAt = PR_FIXED_WORDS;                 // owner of the block (zone lock): model time a block head last entered the buddy
  const counters = (freedAt + nframes + 1) & ~1;  // Float64: MAX_PARTICIPANTS * PR_COUNTERS, owner-written
  const words = counters + MAX_PARTICIPANTS * PR_COUNTERS * 2;
  return { freedAt, counters, words };
}

// ---------------------------------------------------------------- CMMA area (Int32 words)
// Used only with --host cmma (CTL_HOST == HOST_CMMA): KVM's s390 CMMA of today
// (reporting_cmma.md part B). The PGSTE of each frame lives in its host state word: the
// ESSA state byte (usage and content: r resident, p swapped, z logical zero) plus the
// host-owned bits CM_HS_NODAT and CM_HS_DIRTY (hosts/cmma); the rest is here.
export const CM_SLOTS_LOCK = 0;     // atomic: kvm->slots_arch_lock, a spinlock.ts word (0 free, participant + 1 held)
export const CM_MIGRATION = 1;      // atomic: migration_mode (0/1); stores under the slots lock with the fix
export const CM_DIRTY_PAGES = 2;    // atomic add: cmma_dirty_pages
export const CM_MIGRATE_AT = 3;     // main: guest operations (CM_CLOCK) after which the migration starts, 0 never
export const CM_MIG_PHASE = 4;      // atomic: 0 before, 1 running, 2 done (the migration worker's own state)
export const CM_SLOT1_LIVE = 5;     // atomic store by the migration worker: 1 while memslot 1 (device memory) exists
export const CM_SLOT1_BASE = 6;     // main: first frame of memslot 1 (outside the allocator)
export const CM_CBRL_MAX = 7;       // main: block reuse list entries before a full exit (511)
export const CM_NODAT_FACILITY = 8; // main: 1 when facility 147 (no-dat) is installed
export const CM_RESET_AT = 9;       // main: guest operations (CM_CLOCK) after which a CMMA reset (load normal) runs, 0 never
export const CM_RESET_GEN = 10;     // atomic add: CMMA resets done
export const CM_WORK_LOCK = 11;     // atomic: one guest CPU at a time runs the migration worker's slice (CAS 0 -> cpu + 1)
export const CM_CURSOR = 12;        // work lock: the migration worker's next gfn
export const CM_CLOCK = 13;         // atomic add by each guest CPU after each step: guest operations so far (the clock of migrate_at, reset_at)
export const CM_REMOVE_AT = 14;     // main: 1 when the migration removes memslot 1 after its first GET pass
export const CM_PASS_SENT = 15;     // work lock: attribute bytes sent in the current walk of the dirty bitmap
export const CM_PASSES = 16;        // work lock: walks of the dirty bitmap completed in this migration
export const CM_RESET_DONE = 17;    // work lock: 1 once the CMMA reset at CM_RESET_AT ran
export const CM_MAX_PASSES = 18;    // main: walks of the dirty bitmap before stop-and-copy is forced
export const CM_SLICE_EVERY = 19;   // main: guest operations between two slices of the migration worker (its bandwidth)
export const CM_NEXT_SLICE = 20;    // work lock: CM_CLOCK at which the next slice may run
export const CM_VCPU = 24;          // per vCPU, CM_VCPU_WORDS each (MAX_CPUS)
export const CM_VCPU_WORDS = 4;
export const CMV_INTERP = 0;        // atomic: ECB2_CMMA (1: the hardware interprets ESSA); the vCPU and the migration start write it
export const CMV_CBRL_N = 1;        // owner (the vCPU): entries in its block reuse list
export const CMV_USES = 2;          // owner: 1 after the first-use intercept
export const CM_FIXED_WORDS = CM_VCPU + MAX_CPUS * CM_VCPU_WORDS;
export const CBRL_SLOTS = 512;      // one page of 8-byte entries: 511 for the guest, the 512th for the host
export const CMMA_COUNTERS = 32;    // Float64 counters per participant, named in hosts/cmma/cmma_views.ts
/** Word offsets of the CMMA area. */
export function cmmaGeometry(nframes: number) {
  const cbrl = CM_FIXED_WORDS;                    // owner (the vCPU): MAX_CPUS lists of CBRL_SLOTS gfns
  const dest = cbrl + MAX_CPUS * CBRL_SLOTS;      // migration work lock: the usage byte the destination holds per gfn, -1 never sent
  const nodatGen = dest + nframes;                // frame lock: CM_RESET_GEN + 1 when the guest last set no-dat on the gfn; 0 never, or kept across a reset (an unfixed cmma-nodat-not-reset)
  const freedAt = nodatGen + nframes;             // frame lock: model time the guest set the gfn unused (latency to drop)
  const counters = (freedAt + nframes + 1) & ~1;  // Float64: MAX_PARTICIPANTS * CMMA_COUNTERS, owner-written
  const words = counters + MAX_PARTICIPANTS * CMMA_COUNTERS * 2;
  return { cbrl, dest, nodatGen, freedAt, counters, words };
}
