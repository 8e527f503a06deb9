/** The workload registry (`hintsim workloads`). */
import { allocStorm } from './alloc_storm.js';
import { fileChurn, mixed } from './file_churn.js';
import { kscand } from './kscand.js';
import type { Workload } from './workload.js';

export const WORKLOADS: Workload[] = [allocStorm, fileChurn, mixed, kscand];

export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
