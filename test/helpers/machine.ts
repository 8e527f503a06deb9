/**
 * Runs of the machine in-process (runMachine) for a test: `stable(r)` is a result without
 * its timing fields (what must be identical between two runs of the same options), and
 * `releaseWorkersAfterEach()` makes every test of the calling file end with worker reuse
 * off and no pooled worker alive.
 */
import { afterEach } from 'vitest';
import type { RunResult } from '../../src/machine/run.js';
import { releaseIdleWorkers, setWorkerReuse } from '../../src/machine/worker_pool.js';

/** The parts of a result that must not depend on timing. */
export function stable(r: RunResult): Omit<RunResult, 'seconds' | 'ops_per_sec' | 'spin'> {
  const { seconds: _s, ops_per_sec: _o, spin: _w, ...rest } = r;
  return rest;
}

/** Terminate the worker pool's idle workers after each test of the calling file. */
export function releaseWorkersAfterEach(): void {
  afterEach(async () => {
    setWorkerReuse(false);
    await releaseIdleWorkers();
  });
}
