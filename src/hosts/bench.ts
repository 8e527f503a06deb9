/**
 * Each host's `hintsim bench` entries, the registry's bench part. Kept out of index.ts: a
 * bench entry drives whole runs (src/machine), which itself asks index.ts for its hosts.
 */
import type { BenchEntry } from '../bench/bench.js';
import type { HostName } from './host.js';
import { benchShadow, type BenchMachine } from './shadow/shadow_bench.js';

export type { BenchMachine };

export interface HostBenchEntry {
  host: HostName;
  /** Its name in `bench --only` and `bench --list`. */
  name: string;
  what: string;
  run(opts: { quick: boolean; log: (m: string) => void }, m: BenchMachine): Promise<BenchEntry[]>;
}

export const HOST_BENCH: readonly HostBenchEntry[] = [
  { host: 'shadow', name: 'shadow', what: 'the kscand pathology under KVM\'s shadow MMU: traps, the 2008 fix, Arcangeli\'s unshadow', run: benchShadow },
];
