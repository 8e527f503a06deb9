/**
 * What a workload is (FoundationDB style): declared options, per-CPU setup, a step, and a
 * check at the end. A workload runs inside each guest CPU worker; `createCpu` builds the
 * CPU's private task state from the seed (stream = cpu) so a run is reproducible.
 */
export interface WorkloadOption {
  name: string;
  default: number;
  min: number;
  max: number;
  description: string;
}

export interface CpuTask {
  /** One operation. Returns the step code for the watchdog's "last step" (see stepNames). */
  step(): number;
  /** End of run without violations: verify and release everything this CPU owns. */
  finish(): void;
  /** pfns this CPU still holds after finish (accounted for by the leak oracle). */
  owned(): number[];
}

export interface Workload {
  name: string;
  description: string;
  options: WorkloadOption[];
  /** The oracles this workload's checks feed. */
  oracles: string[];
  stepNames: string[];
  /** Run options this workload is meant for, used when the user does not give them. */
  defaults?: { memBytes?: number; hinting?: 'off' | 'unused' | 'full'; host?: 'essa' | 'xenpaging' | 'shadow' };
  /** Main-thread setup of the machine before the CPUs start (e.g. file sizes). */
  setup?(k: Int32Array, opts: Record<string, number>): void;
  createCpu(cpu: number, ncpus: number, seed: number, opts: Record<string, number>): CpuTask;
}

export function resolveOptions(w: Workload, given: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of w.options) out[o.name] = given[o.name] ?? o.default;
  return out;
}
