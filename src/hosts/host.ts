/**
 * What a host model is to the rest of hintsim (types only): the registry (index.ts) holds
 * one Host per folder of src/hosts. Generic code asks the registry, never `host === ...`.
 */
import type { GuestHooks } from '../core/hooks.js';
import type { Views } from '../core/layout.js';
import type { RaceEntry } from '../core/races.js';

export type HostName = 'essa' | 'xenpaging' | 'shadow' | 'reporting' | 'cmma';

/** A participant a host adds after the guest CPUs (the first sits in the host slot, ncpus). */
export interface HostParticipant {
  /** Worker entry (a key of workerEntries of some host). */
  entry: string;
  /** How reports name it ('the host', 'the pager', 'dom0'). */
  who: string;
  /** Its step in the watchdog's lines ('reclaim', 'page', 'map'). */
  step: string;
}

/** The run options a host's boot reads (machine/config.ts builds them). */
export interface HostBootOptions {
  hostBudgetFrames: number;
  ringSlots: number;
  workloadOptions: Record<string, number>;
}

/** A run option a host reads (`--opt name=value`, beside the workload's; its boot writes it into the machine). */
export interface HostOption { name: string; default: number; min: number; max: number; description: string }

/**
 * What `compare --host all` needs of a host besides the common counters: its host calls,
 * the pages it freed without I/O, and the mean model time from a guest free to the host's
 * drop (null: the host does not measure it).
 */
export interface HostAllFigures { host_calls: number; freed_no_io: number; latency_steps: number | null }

/** A compare row's host-specific figures (0 for a host without them). */
export interface HostCompareFigures { wasted_writes_failed_evict: number; vcpu_pauses: number; vcpu_stall: number }

/** What a host's text-summary lines read of a run. */
export interface HostTextRun {
  mode: string;
  counters: Record<string, number>;
  /** Its `run --json` section (summaryKey), if any. */
  section: unknown;
}

/** The host daemon's work (machine/host_worker.ts runs it in the host slot). */
export interface HostDaemon {
  /** One reclaim pass down to `budget`; returns frames reclaimed. */
  pass(stop: () => boolean, budget: number): number;
  /** Reclaim one frame (fault injection: the frame a guest just touched). */
  frame(pfn: number, honourRef: boolean): number;
  /** After each pass (e.g. the shadow MMU's shrinker). */
  afterPass(): void;
}

export interface Host {
  readonly name: HostName;
  /** CTL_HOST code (core/layout.ts). */
  readonly code: number;
  /** The host whose guest hooks and daemon this one extends (shadow: essa). */
  readonly base?: HostName;
  /** One line for `--help` and the README. */
  readonly description: string;
  /** Its guest hooks, built on its base's (or the plain machine's). */
  hooks(base: GuestHooks): GuestHooks;
  /** Bytes of its own shared-memory area (after the shared words; allocated only when it runs). */
  areaBytes(nframes: number): number;
  /** Per-participant views of its shared-memory area (every participant of a machine it runs, at attach). */
  viewsInit?(v: Views, me: number): void;
  /** Its daemon in the host slot, when host_worker runs it. */
  daemon?(base: HostDaemon | undefined): HostDaemon;
  /** Participants after the guest CPUs. */
  readonly participants: readonly HostParticipant[];
  /** Worker entries by name, as paths under src/ without extension. */
  readonly workerEntries: Readonly<Record<string, string>>;
  /** The host state word of every frame at boot. */
  readonly bootState: number;
  /** The guest frames the allocator gets at boot: [first, end). */
  guestFrames(nframes: number): [number, number];
  /** After the allocator has its frames; true when every participant must attach again (views read words it wrote). */
  boot?(v: Views, o: HostBootOptions): boolean;
  /** The host reads the guest's hints (a race hunt runs with --hinting full, else off: they would be ignored). */
  readonly readsHints: boolean;
  /** The host has a mem_event ring (--ring-slots is part of its runs and replay files). */
  readonly ringSlots: boolean;
  /** The ESSA host states are audited at the end of a run (checks.ts). */
  readonly auditsHostStates: boolean;
  /** Frames outside the allocator the host owns, for the leak oracle. */
  ownedFrames?(v: Views): number[];
  /** End-of-run checks after the guest's (clean runs only). */
  endOfRunChecks?(v: Views, who: number): void;
  /** Its `run --json` section: [summaryKey, value]. */
  summary?(v: Views, participants: number, ops: number): [string, unknown];
  /** The key of its `run --json` section. */
  readonly summaryKey?: string;
  /** Its lines of the text summary in place of the ESSA host's hinting and host lines. */
  hostLines?(t: HostTextRun): string[];
  /** Its lines of the text summary after the faults line. */
  extraLines?(t: HostTextRun): string[];
  /** Its row in `hintsim compare` (beside the ESSA host's hinting off/unused/full rows): the hinting it runs with, and its figures from its run --json section. */
  readonly compareRow?: { hinting: 'off' | 'unused' | 'full'; figures(section: unknown): HostCompareFigures };
  /** Its races, in catalogue order. */
  readonly races: readonly RaceEntry[];
  /** Its run options (`--opt`), validated like a workload's. */
  readonly options?: readonly HostOption[];
  /** Checks of its options against the whole run (e.g. an event beyond the run; ops: the run's operations, null for a timed run): a one-line message, or null. */
  checkOptions?(opts: Record<string, number>, run: { ops: number | null; mode: string }): string | null;
  /** Its figures in `compare --host all`, from its run --json section and the run's counters. */
  allFigures?(section: unknown, counters: Record<string, number>): HostAllFigures;
  /**
   * `replay --story`: a word of its own state of a page (beside struct page and the ESSA
   * word), read by the recording participant at scheduling points, and that word's name.
   */
  readonly storyWord?: { read(pfn: number): number; name(w: number): string };
}
