/**
 * The threads-mode watchdog counts the time in which every thread of the process could
 * run, not wall time (run.ts opportunityMs, thread_clock.ts): a machine overloaded by other
 * processes never trips it, and a real hang is still reported, with its liveness message.
 *
 * The load is busy child processes, enough to keep the guest CPUs off 2 cores for longer
 * than a 50 ms watchdog (the wall-clock watchdog this one replaced failed the load test on
 * each of 10 tries on a 2-core machine). They start once the run is under way (its first
 * progress report), so that the workers' start-up is not slowed down too, and they are
 * killed after each test whatever happened. No assertion is on time: only on what the run
 * reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { runMachine, type RunHooks, type RunResult } from '../src/machine/run.js';

/** file-churn as `hintsim run file-churn --cpus 4` sets it up (its workload defaults). */
const CHURN: RunOptions = { ...DEFAULTS, workload: 'file-churn', memBytes: 8 << 20, hinting: 'full', cpus: 4 };
/** Busy processes that share the cores with the machine's 4 CPUs, its host and main thread. */
const LOAD_PROCS = 8;
/** The shortest watchdog the CLI accepts (--watchdog-ms). */
const WATCHDOG_MIN_MS = 50;

const load: ChildProcess[] = [];

function startLoad(n: number): void {
  for (let i = 0; i < n; i++) {
    const c = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    c.on('error', () => { /* could not start: afterEach has nothing to kill */ });
    load.push(c);
  }
}

/** runMachine hooks that start the load at the run's first progress report. */
function loadOnceRunning(): RunHooks {
  return { progressEveryMs: 20, onProgress: () => { if (load.length === 0) startLoad(LOAD_PROCS); } };
}

afterEach(async () => {
  const all = load.splice(0);
  await Promise.all(all.map((c) => new Promise<void>((res) => {
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) { res(); return; }
    c.once('exit', () => res());
    c.kill('SIGKILL');
  })));
});

function show(r: RunResult): string {
  return JSON.stringify({ seconds: r.seconds, ops: r.ops, violations: r.violations }, null, 1);
}

describe('threads-mode watchdog', () => {
  it('reports the planted hang (CPU 0 keeps the zone lock) as liveness on cpu 0', async () => {
    const r = await runMachine({ ...CHURN, seconds: 60, debugFaults: ['hang'], watchdogMs: 300 });
    const v = r.violations.find((x) => x.oracle === 'liveness');
    expect(v, show(r)).toBeDefined();
    expect(v!.cpu).toBe(0);
    expect(v!.message).toMatch(/^watchdog: cpu 0 made no progress for 300 ms while every thread could run \(\d+ ms of wall time\)/);
    expect(v!.message).toMatch(/cpu 3: last step/);
    expect(v!.message).toMatch(/host: last step/);
    expect(r.accounting).toBeNull();
  });

  // The scheduler accounting it relies on is Linux's; elsewhere only the lateness of the
  // watchdog's own tick is taken out, which does not cover one worker left off the cores.
  const linux = existsSync('/proc/thread-self/schedstat');

  it.skipIf(!linux)('load alone: a run on cores taken by busy processes, with a 50 ms watchdog, is clean', async () => {
    const r = await runMachine({ ...CHURN, seed: 7, seconds: 2, watchdogMs: WATCHDOG_MIN_MS }, loadOnceRunning());
    expect(load.length).toBe(LOAD_PROCS);
    expect(r.violations, show(r)).toEqual([]);
    expect(r.ops).toBeGreaterThan(0);
  });

  it.skipIf(!linux)('the planted hang is still reported under the same load', async () => {
    const r = await runMachine({ ...CHURN, seconds: 60, debugFaults: ['hang'], watchdogMs: 100 }, loadOnceRunning());
    expect(load.length).toBe(LOAD_PROCS);
    const v = r.violations.find((x) => x.oracle === 'liveness');
    expect(v, show(r)).toBeDefined();
    expect(v!.cpu).toBe(0);
    expect(v!.message).toMatch(/^watchdog: cpu 0 made no progress for 100 ms while every thread could run/);
  });
});
